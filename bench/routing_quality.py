"""Router accuracy on bench/routing_eval.yaml, with a rapidfuzz baseline in the same run.

    python bench/routing_quality.py [--misses]

A message counts as routed correctly when the router's flow equals the label (null = no
flow started: menu, look-up or small talk). Also printed: safeguarding recall, off-topic
messages wrongly started as a flow, and the confusion matrix.
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
    for name, blurb in (
        ("routing_eval.yaml", "the set the router was tuned on"),
        (
            "routing_heldout.yaml",
            "written blind; its misses were then used to widen the risk words",
        ),
        (
            "routing_heldout2.yaml",
            "written blind; first run 0.744 accuracy, 0.767 safeguarding "
            "recall; its misses then led to the risk words being rewritten by category",
        ),
        (
            "routing_heldout3.yaml",
            "written blind; first run 0.800 accuracy, 0.857 safeguarding "
            "recall; then the 'unsure and about a child: offer safeguarding first' rule was added",
        ),
    ):
        path = ROOT / "bench" / name
        if path.exists():
            print(f"\n=== {name} ({blurb})")
            report(engine, yaml.safe_load(path.read_text(encoding="utf-8")), args.misses)


def report(engine, cases: list[dict], misses: bool) -> None:  # type: ignore[no-untyped-def]
    flows = engine.flows
    cases = [c for c in cases if c["flow"] is None or c["flow"] in flows]
    triggers = [(t, f.id) for f in flows.values() for t in f.triggers]

    def baseline(text: str) -> str | None:
        match = process.extractOne(
            text,
            [t for t, _ in triggers],
            scorer=fuzz.token_set_ratio,
            score_cutoff=BASELINE_CUTOFF,
        )
        return triggers[match[2]][1] if match else None

    def ours(text: str) -> str | None:
        return engine.router.route(text).flow

    labels = [*flows, None]
    for name, route in (("protocol-bot router", ours), ("rapidfuzz vs triggers", baseline)):
        confusion: Counter[tuple[str | None, str | None]] = Counter()
        for case in cases:
            confusion[(case["flow"], route(case["text"]))] += 1
        correct = sum(n for (want, got), n in confusion.items() if want == got)
        safe_total = sum(n for (want, _), n in confusion.items() if want == "safeguarding_concern")
        safe_hit = sum(
            1
            for c in cases
            if c["flow"] == "safeguarding_concern"
            and (
                route(c["text"]) == "safeguarding_concern"
                or (
                    route is ours
                    and engine.router.route(c["text"]).offer[:1] == ("safeguarding_concern",)
                )
            )
        )
        offtopic = [c for c in cases if c.get("kind") == "offtopic"]
        started = sum(1 for c in offtopic if route(c["text"]) is not None)
        print(
            f"\n{name}: accuracy {correct / len(cases):.3f} ({correct}/{len(cases)}), "
            f"safeguarding recall (started, or offered first) {safe_hit / max(safe_total, 1):.3f}, "
            f"off-topic started as a flow {started}/{len(offtopic)}"
        )
        width = max(len(str(x)) for x in labels) + 2
        print("  confusion (rows: expected, columns: routed)")
        print("  " + " " * width + "".join(f"{str(x)[:14]:>16}" for x in labels))
        for want in labels:
            row = "".join(f"{confusion[(want, got)]:>16}" for got in labels)
            print(f"  {want!s:<{width}}{row}")
    if misses:
        print("\nmisses:")
        for case in cases:
            got = engine.router.route(case["text"])
            if got.flow != case["flow"]:
                print(
                    f"  want {case['flow']} got {got.flow} ({got.confidence:.2f}, "
                    f"offer {got.offer}, risk {got.risk}, lookup {got.lookup}): {case['text']!r}"
                )


if __name__ == "__main__":
    main()
