"""How fast the router decides: per message in process, and `protocolbot route` from cold.

    python bench/routing_speed.py [--reference /path/to/another/checkout] [--runs 5]

In process: every message of the training sets routed once to warm up, then timed one by
one (once, and the median of --repeats), by the trained router and by the rule-based router
it replaced (p50, p99, max). Cold start: `python -m bot route "..."` in a fresh process,
here and in the reference checkout taking turns (the router before, for "no slower than
today"); the median and fastest wall time of --runs.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from rule_router import RuleRouter  # noqa: E402

from bot.dialogue import open_engine  # noqa: E402
from bot.routing.sets import TrainingConfig, read_set  # noqa: E402

MESSAGE = "a reporter wants a statement about the allegation at the children's home"


def per_message(route: Callable[[str], object], texts: list[str], repeats: int) -> list[float]:
    """Each message's median time over the repeats, in ms, sorted (a busy machine's
    scheduler adds pauses to single timings that are not the router's)."""
    for text in texts:
        route(text)
    times = []
    for text in texts:
        taken = []
        for _ in range(repeats):
            start = time.perf_counter()
            route(text)
            taken.append((time.perf_counter() - start) * 1000)
        times.append(statistics.median(taken))
    return sorted(times)


def cold_once(checkout: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "bot", "route", MESSAGE],
        cwd=checkout,
        env={"PYTHONPATH": str(checkout), "PATH": "/usr/bin:/bin"},
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reference", type=Path, help="another checkout to compare cold starts")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--repeats", type=int, default=5, help="timings per message")
    args = parser.parse_args()
    engine = open_engine(":memory:")
    rules = RuleRouter(dict(engine.flows), engine.router.glossary, engine.router.data)
    bench = ROOT / "bench"
    texts = [c.text for p in TrainingConfig.load(bench).training_sets(bench) for c in read_set(p)]
    for name, route in (("trained router", engine.router.route), ("rule-based", rules.route)):
        for repeats in (1, args.repeats):
            t = per_message(route, texts, repeats)
            print(
                f"{name:16} {len(t)} messages, median of {repeats}: p50 {t[len(t) // 2]:.3f} ms, "
                f"p99 {t[int(len(t) * 0.99)]:.3f} ms, max {t[-1]:.3f} ms"
            )
    checkouts = [ROOT, *([args.reference] if args.reference else [])]
    walls: dict[Path, list[float]] = {c: [] for c in checkouts}
    for _ in range(args.runs):  # taking turns, so both see the same load
        for checkout in checkouts:
            walls[checkout].append(cold_once(checkout))
    for checkout, taken in walls.items():
        print(
            f"cold `protocolbot route` in {checkout}: median {statistics.median(taken):.2f} s, "
            f"fastest {min(taken):.2f} s of {args.runs}"
        )


if __name__ == "__main__":
    main()
