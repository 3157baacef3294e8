"""Engine turn latency and throughput for scripted conversations, with the SQLite store.

    python bench/engine_turns.py [--conversations N]

Each conversation starts a flow from free text and answers every question (the first
option, or a typed answer) until the drafts are out, confirming the summary on the way.
The same conversations are also run with an in-memory store as a baseline, so the cost
of durable sessions shows.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from scripted_users import OPENERS, percentile  # noqa: E402

from bot.dialogue import Conversation, Engine, Inbound, Reply, SqliteStore, open_engine  # noqa: E402


def next_input(replies: list[Reply]) -> Inbound | str | None:
    for reply in reversed(replies):
        if reply.kind == "summary":
            return "action:draft:confirm"
        if reply.kind == "question":
            answers = [o for o in reply.options if o.value.startswith("ans:")]
            if answers:
                return (
                    "action:" + answers[-1].value
                    if "risk" in (reply.step or "") or "danger" in (reply.step or "")
                    else "action:" + answers[0].value
                )
            return (
                "today"
                if "date" in reply.text.lower() or "when" in reply.text.lower()
                else "Sample answer for the draft"
            )
        if reply.step == "end":
            return None
    return None


def converse(
    engine: Engine, who: Conversation, opener: str, timings: list[float]
) -> tuple[int, bool]:
    turns = 0
    drafted = False
    message: str | None = opener
    while message is not None and turns < 120:
        inbound = (
            Inbound(who, action=message[7:])
            if message.startswith("action:")
            else Inbound(who, text=message)
        )
        start = time.perf_counter()
        replies = engine.handle(inbound)
        timings.append((time.perf_counter() - start) * 1000)
        turns += 1
        drafted = drafted or any(r.draft for r in replies)
        if drafted and any(r.step == "end" for r in replies):
            break
        result = next_input(replies)
        message = result if isinstance(result, str) else None
    return turns, drafted


def run(engine: Engine, n: int) -> tuple[list[float], float, int, int]:
    timings: list[float] = []
    start = time.perf_counter()
    total = drafted = 0
    for i in range(n):
        flow = list(OPENERS)[i % len(OPENERS)]
        who = Conversation("bench", "local", f"user{i}", "t")
        turns, got_draft = converse(engine, who, OPENERS[flow], timings)
        total += turns
        drafted += got_draft
    return timings, time.perf_counter() - start, total, drafted


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for label, store in (
            ("SQLite store (file, WAL)", SqliteStore(Path(tmp) / "bench.sqlite3")),
            ("baseline: SQLite in memory", SqliteStore(":memory:")),
        ):
            engine = open_engine(store=store)
            timings, seconds, turns, drafted = run(engine, args.conversations)
            print(
                f"{label:28} {args.conversations} conversations ({drafted} reached a draft), "
                f"{turns} turns: "
                f"p50 {statistics.median(timings):.2f} ms, p99 {percentile(timings, 99):.2f} ms, "
                f"{turns / seconds:.0f} turns/s (one thread)"
            )


if __name__ == "__main__":
    main()
