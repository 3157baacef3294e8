"""Routing quality per labelled set: the trained router, the rule-based router it replaced
and a rapidfuzz baseline side by side.

    python bench/routing_quality.py [--misses]

For every labelled set in bench/ (routing_*.yaml) it prints, for each router: accuracy (a
message is right when the started flow is its flow, none for off-topic and look-ups, and
an ambiguous one is right when the bot asks with both plausible flows on offer), wrong
flows started, safeguarding messages started or offered first, off-topic messages started,
and ambiguous messages asked with both on offer.

The trained router has seen every set but the test sets (bench/routing_training.yaml), so
its figure on a training set is in-sample; its leave-one-set-out figures (each set scored by
a model trained without it, thresholds tuned without it) are those training recorded in the
weights, printed beside the other two routers' figures on the same sets. The test sets are
the honest figures. --misses lists the messages routed wrongly, except in the test sets,
whose misses stay unread.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

import yaml
from rapidfuzz import fuzz, process

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from rule_router import RuleRouter  # noqa: E402

from bot.dialogue import open_engine  # noqa: E402
from bot.routing import Route  # noqa: E402
from bot.routing.evaluation import Figures, right  # noqa: E402
from bot.routing.sets import Case, TrainingConfig, read_set  # noqa: E402

BASELINE_CUTOFF = 60
BENCH = ROOT / "bench"

Routes = Callable[[str], Route]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--misses", action="store_true")
    args = parser.parse_args()
    flows = os.environ.get("PROTOCOLBOT_FLOWS")  # try another set of flows
    engine = open_engine(":memory:", flows=Path(flows) if flows else None)
    router = engine.router
    rules = RuleRouter(dict(engine.flows), router.glossary, router.data)
    triggers = [(t, f.id) for f in engine.flows.values() for t in f.triggers]

    def baseline(text: str) -> Route:
        match = process.extractOne(
            text,
            [t for t, _ in triggers],
            scorer=fuzz.token_set_ratio,
            score_cutoff=BASELINE_CUTOFF,
        )
        return Route(triggers[match[2]][1], match[1] / 100) if match else Route(None, 0.0)

    routers: dict[str, Routes] = {
        "trained router": router.route,
        "rule-based router": rules.route,
        "rapidfuzz vs triggers": baseline,
    }
    config = TrainingConfig.load(BENCH)
    training = config.training_sets(BENCH)
    tests = [p for p in config.sets_in(BENCH) if config.is_test_set(p)]
    recorded = router.model.provenance.figures.get("leave_one_set_out", {})
    totals = {name: Figures() for name in routers}
    for path in [*tests, *training]:
        test = path in tests
        cases = [c for c in read_set(path) if c.flow is None or c.flow in engine.flows]
        print(
            f"\n=== {path.name} ({len(cases)} messages; "
            + ("test set: never trained or tuned on)" if test else "trained on)")
        )
        second = path.with_name(path.stem + "_second_reader.yaml")
        if second.exists():
            agreement(path, second)
        for name, route in routers.items():
            found = measure(cases, route, router.safeguarding)
            if name == "trained router" and not test:
                print(f"  {name + ' (in-sample)':34} {found.line()}")
                if path.name in recorded:
                    print(
                        f"  {'trained router (set left out)':34} {Figures(**recorded[path.name]).line()}"
                    )
                    totals[name] += Figures(**recorded[path.name])
                continue
            print(f"  {name:34} {found.line()}")
            if not test:
                totals[name] += found
        if args.misses and not test:
            show_misses(cases, router.route)
    print(f"\n=== leave-one-set-out over the {len(training)} training sets")
    for name, total in totals.items():
        print(f"  {name:34} {total.line()}")


def measure(cases: list[Case], route: Routes, safeguarding: str) -> Figures:
    found = Figures()
    for case in cases:
        found.add(case, route(case.text), safeguarding)
    return found


def agreement(path: Path, second_path: Path) -> None:
    """How often a second careful reader gave the set's own answer (same rule as the router)."""
    cases = yaml.safe_load(path.read_text(encoding="utf-8"))
    second = yaml.safe_load(second_path.read_text(encoding="utf-8"))
    assert [c["text"] for c in cases] == [r["text"] for r in second], "second reader out of step"
    same = 0
    for case, row in zip(cases, second, strict=True):
        label = str(row["label"])
        if case.get("kind") == "ambiguous":
            same += label.startswith("ask:") and set(label[4:].split(",")) == set(case["plausible"])
        else:
            same += label == (case["flow"] or "none")
    print(f"  second reader agrees {same / len(cases):.3f} ({same}/{len(cases)})")


def show_misses(cases: list[Case], route: Routes) -> None:
    for case in cases:
        got = route(case.text)
        if not right(case, got):
            want = case.flow or ("ask " + "/".join(case.plausible) if case.plausible else case.kind)
            print(
                f"    want {want} got {got.flow} (offer {', '.join(got.offer)}; risk {got.risk}, "
                f"look-up {got.lookup}): {case.text!r}"
            )


if __name__ == "__main__":
    main()
