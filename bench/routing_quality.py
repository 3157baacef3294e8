"""Router accuracy on bench/routing_eval.yaml, with a rapidfuzz baseline in the same run.

    python bench/routing_quality.py [--misses]

A message counts as routed correctly when the router's flow equals the label (null = no
flow started: menu, look-up or small talk). Also printed: safeguarding recall, off-topic
messages wrongly started as a flow, and the confusion matrix. --misses also lists the
messages routed wrongly, except in sets whose misses stay unread (marked in the table).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from pathlib import Path

import yaml
from rapidfuzz import fuzz, process

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.dialogue import open_engine  # noqa: E402

BASELINE_CUTOFF = 60


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--misses", action="store_true")
    args = parser.parse_args()
    flows = os.environ.get("PROTOCOLBOT_FLOWS")  # try another set of flows
    engine = open_engine(":memory:", flows=Path(flows) if flows else None)
    # (file, how it was written and used, whether its misses stay unread: --misses skips those)
    for name, blurb, unread in (
        ("routing_eval.yaml", "the set the router was tuned on", False),
        (
            "routing_heldout.yaml",
            "written blind; its misses were then used to widen the risk words",
            False,
        ),
        (
            "routing_heldout2.yaml",
            "written blind; first run 0.744 accuracy, 0.767 safeguarding "
            "recall; its misses then led to the risk words being rewritten by category",
            False,
        ),
        (
            "routing_heldout3.yaml",
            "written blind; first run 0.800 accuracy, 0.857 safeguarding "
            "recall; then the 'unsure and about a child: offer safeguarding first' rule was added, "
            "and at stop 10 its safeguarding misses led to more risk words",
            False,
        ),
        (
            "routing_eval_all.yaml",
            "all ten flows, written blind; first run 0.691 accuracy, 0.900 safeguarding recall; an ambiguous message counts as right when the "
            "bot asks and offers both plausible flows",
            False,
        ),
        (
            "routing_final_heldout.yaml",
            "all ten flows, written blind; first run 0.806; after the media and threshold "
            "changes of stop 9, whose figures it informed, no longer untouched",
            False,
        ),
        (
            "routing_blind4.yaml",
            "200 messages, all ten flows, written blind; first run 0.810, the honest figure; "
            "its misses were read after that, later threshold checks printed it, and at stop 10 "
            "a safeguarding miss and two off-topic starts led to risk and domain words",
            False,
        ),
        (
            "routing_blind5.yaml",
            "200 messages, all ten flows, written blind at stop 10; first run 0.840 "
            "(router d003489), the honest figure; its misses have not been read, its figure "
            "was printed after the offer and risk-word changes of the same stop",
            True,
        ),
    ):
        path = ROOT / "bench" / name
        if path.exists():
            print(f"\n=== {name} ({blurb})")
            cases = yaml.safe_load(path.read_text(encoding="utf-8"))
            second = path.with_name(path.stem + "_second_reader.yaml")
            if second.exists():
                agreement(cases, yaml.safe_load(second.read_text(encoding="utf-8")))
            report(engine, cases, args.misses and not unread)
            if args.misses and unread:
                print(f"\nmisses: skipped, {name}'s misses stay unread")


def agreement(cases: list[dict], second: list[dict]) -> None:
    """How often a second careful reader gave the set's own answer (same rule as the router)."""
    assert [c["text"] for c in cases] == [r["text"] for r in second], "second reader out of step"
    same = one = one_same = ambiguous = ambiguous_same = 0
    for case, row in zip(cases, second, strict=True):
        label = str(row["label"])
        if case.get("kind") == "ambiguous":
            ambiguous += 1
            hit = label.startswith("ask:") and set(label[4:].split(",")) == set(case["plausible"])
            ambiguous_same += hit
        else:
            hit = label == (case["flow"] or "none")
            one += case["flow"] is not None
            one_same += hit and case["flow"] is not None
        same += hit
    print(
        f"second reader: agrees {same / len(cases):.3f} ({same}/{len(cases)}); "
        f"one flow meant {one_same}/{one}; ambiguous asked with the same two {ambiguous_same}/"
        f"{ambiguous}"
    )


def report(engine, cases: list[dict], misses: bool) -> None:  # type: ignore[no-untyped-def]
    flows = engine.flows
    cases = [c for c in cases if c["flow"] is None or c["flow"] in flows]
    triggers = [(t, f.id) for f in flows.values() for t in f.triggers]

    def baseline(text: str) -> tuple[str | None, tuple[str, ...]]:
        match = process.extractOne(
            text,
            [t for t, _ in triggers],
            scorer=fuzz.token_set_ratio,
            score_cutoff=BASELINE_CUTOFF,
        )
        return (triggers[match[2]][1] if match else None), ()

    def ours(text: str) -> tuple[str | None, tuple[str, ...]]:
        route = engine.router.route(text)
        return route.flow, route.offer

    def right(case: dict, flow: str | None, offer: tuple[str, ...]) -> bool:
        if case.get("kind") == "ambiguous":  # asked, with both plausible flows offered
            return flow is None and set(case.get("plausible", [])) <= set(offer)
        return flow == case["flow"]

    labels = [*flows, None]
    for name, route in (("protocol-bot router", ours), ("rapidfuzz vs triggers", baseline)):
        confusion: Counter[tuple[str | None, str | None]] = Counter()
        correct = safe_started = safe_offered = safe_total = started = offtopic = 0
        ambiguous = ambiguous_right = 0
        asked = asked_offered = 0  # one flow meant, but the bot asked: was it on offer?
        for case in cases:
            flow, offer = route(case["text"])
            confusion[(case["flow"], flow)] += 1
            correct += right(case, flow, offer)
            if case["flow"] == "safeguarding_concern":
                safe_total += 1
                safe_started += flow == "safeguarding_concern"
                safe_offered += flow is None and offer[:1] == ("safeguarding_concern",)
            if case.get("kind") == "offtopic":
                offtopic += 1
                started += flow is not None
            if case.get("kind") == "ambiguous":
                ambiguous += 1
                ambiguous_right += right(case, flow, offer)
            elif case["flow"] is not None and flow is None:
                asked += 1
                asked_offered += case["flow"] in offer
        total = max(safe_total, 1)
        print(
            f"\n{name}: accuracy {correct / len(cases):.3f} ({correct}/{len(cases)}); "
            f"safeguarding started {safe_started / total:.3f}, started or offered first "
            f"{(safe_started + safe_offered) / total:.3f}; off-topic started as a flow "
            f"{started}/{offtopic}"
            + (f"; ambiguous asked {ambiguous_right}/{ambiguous}" if ambiguous else "")
            + f"; one flow meant but asked {asked}, the meant flow on offer in {asked_offered}"
        )
        width = max(len(str(x)) for x in labels) + 2
        print("  confusion (rows: expected, columns: routed; None = nothing started)")
        print("  " + " " * width + "".join(f"{str(x)[:9]:>10}" for x in labels))
        for want in labels:
            row = "".join(f"{confusion[(want, got)]:>10}" for got in labels)
            print(f"  {want!s:<{width}}{row}")
    if misses:
        print("\nmisses:")
        for case in cases:
            got = engine.router.route(case["text"])
            if not right(case, got.flow, got.offer):
                print(
                    f"  want {case['flow']} got {got.flow} ({got.confidence:.2f}, "
                    f"offer {got.offer}, risk {got.risk}, lookup {got.lookup}): {case['text']!r}"
                )


if __name__ == "__main__":
    main()
