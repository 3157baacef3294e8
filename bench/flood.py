"""One user flooding the bot with huge messages: do the others' turns slow down?

    python bench/flood.py [--users 20] [--deadline 300]

Twenty scripted users (bench/scripted_users.py) walk their flows to the drafts through
``Engine.handle`` on one SQLite store, one thread each: first alone (the baseline), then again
while one more user sends, without pause, messages of 40,000 characters and of 1 MB (refused
unread) and of 9,999 characters (taken, and routed on their first 2,000 characters). Prints
the others' turn latency (p50, p99, max) in both runs and the flooder's own. Loopback-free:
everything is in this process. Bounded by --users, --deadline and 5,000 flood messages.
"""

from __future__ import annotations

import argparse
import random
import string
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from load import Outcome, converse, engine_on, run_all  # noqa: E402
from scripted_users import Move, percentile, scratch_database, users  # noqa: E402

from bot.dialogue import Conversation, Engine, Inbound, Reply, open_engine  # noqa: E402
from bot.dialogue.store import SqliteStore  # noqa: E402

MAX_FLOOD = 5_000


def garbage(n: int, rng: random.Random) -> str:
    words = (
        "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 9)))
        for _ in range(n // 5)
    )
    return " ".join(words)[:n]


def others(parts: Engine, n: int, deadline: float, flood: bool) -> tuple[list[float], list[float]]:
    """The scripted users' turn latencies (ms), and the flooder's (empty without a flood)."""
    with scratch_database("flood") as where:
        engine = engine_on(parts, SqliteStore(where))
        people = users(parts.flows, n)
        done = threading.Event()
        flooded: list[float] = []

        def flooder() -> None:
            rng = random.Random(7)
            sizes = [40_000, 1_000_000, 9_999]
            texts = {size: garbage(min(size, 50_000), rng) * (size // 50_000 + 1) for size in sizes}
            who = Conversation("bench", "local", "flooder", "t")
            for i in range(MAX_FLOOD):
                if done.is_set() or time.monotonic() > deadline:
                    return
                text = texts[sizes[i % 3]][: sizes[i % 3]]
                start = time.perf_counter()
                engine.handle(Inbound(who, text=text))
                flooded.append((time.perf_counter() - start) * 1000)

        def job(i: int) -> Outcome:
            who = Conversation("bench", "local", f"user{i:04d}", "t")
            outcome = Outcome(people[i])

            def send(move: Move) -> list[Reply]:
                return engine.handle(Inbound(who, text=move.text, action=move.action))

            converse(people[i], send, deadline, outcome)
            return outcome

        thread = threading.Thread(target=flooder) if flood else None
        if thread:
            thread.start()
        outcomes, _ = run_all(n, job)
        done.set()
        if thread:
            thread.join()
        problems = [p for o in outcomes for p in o.problems]
        if problems:
            print(f"  problems: {problems[:5]}")
        return [ms for o in outcomes for ms in o.latencies], flooded


def line(label: str, values: list[float]) -> str:
    return (
        f"{label:34} turns {len(values):5}  p50 {percentile(values, 50):8.2f} ms  "
        f"p99 {percentile(values, 99):8.2f} ms  max {max(values, default=float('nan')):8.2f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--deadline", type=float, default=300, help="seconds per run, at most")
    args = parser.parse_args()
    parts = open_engine(store=SqliteStore(":memory:"))
    alone, _ = others(parts, args.users, time.monotonic() + args.deadline, flood=False)
    flooded, flood = others(parts, args.users, time.monotonic() + args.deadline, flood=True)
    print(f"{args.users} users, SQLite store, one process")
    print(line("others, nobody flooding (baseline)", alone))
    print(line("others, while one user floods", flooded))
    print(line("the flooder's own messages", flood))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
