"""The bot process killed (SIGKILL) at random points, restarted, and checked.

    python bench/faults.py [--conversations 30] [--kills 20] [--seed 7] [--workers 4]

A child process runs the real engine over the session store and answers requests (one JSON
line each) from several scripted conversations at once, on a few threads. This process is
the client: it keeps every conversation busy and, on a seeded random schedule, kills the
child with SIGKILL wherever it happens to be - mid-turn, between the commit and the reply,
or idle - then starts a new one on the same database.

After each restart every unfinished conversation asks to ``resume``, as a person would
whose chat went quiet, and the answer is checked against a reference engine in this process
that has seen exactly the turns whose replies the client received:

* a conversation with no turn in flight resumes exactly at its last confirmed step (the
  step of the last reply received);
* a turn in flight at the kill either left no trace (the conversation resumes at its last
  confirmed step and the client sends it again) or was kept whole (its reply was lost with
  the process, and the conversation resumes exactly where that turn led; the client does
  not send it again). Anything else - half a turn, a skipped step - is a failure.

At the end each conversation must have its drafts, and its stored answers and history must
equal the reference's: no answer recorded twice, none lost, no step skipped.
SQLite by default; with PROTOCOLBOT_TEST_POSTGRES_URL set, also PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from scripted_users import Move, ScriptedUser, scratch_database, users  # noqa: E402

from bot.dialogue import Conversation, Inbound, Reply, open_engine  # noqa: E402

Position = tuple[str, str | None, str | None, str]


def _who(name: str) -> Conversation:
    return Conversation("faults", "local", name, "t")


def _inbound(who: Conversation, text: str, action: str | None) -> Inbound:
    """A request as the engine gets it, in the bot process and in the reference alike; a
    draft form submitted unchanged ("draft:edited" with no edits) re-drafts."""
    if action == "draft:edited":
        return Inbound(who, action="draft:edited", edits={})
    return Inbound(who, text=text, action=action)


# ================================================================================ the child
def serve(database: str, flows: Path | None, workers: int) -> None:
    """The bot process: JSON requests on stdin, JSON replies on stdout, several at a time."""
    engine = open_engine(database, flows=flows)
    out_lock = threading.Lock()

    def answer(request: dict[str, Any]) -> None:
        inbound = _inbound(_who(request["conv"]), request.get("text", ""), request.get("action"))
        replies = engine.handle(inbound)
        line = json.dumps({"id": request["id"], "replies": [_plain(r) for r in replies]})
        with out_lock:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    print(json.dumps({"ready": os.getpid()}), flush=True)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for line in sys.stdin:
            pool.submit(answer, json.loads(line))


def _plain(reply: Reply) -> dict[str, Any]:
    return {
        "kind": reply.kind,
        "flow": reply.flow,
        "step": reply.step,
        "text": reply.text,
        "options": [o.value for o in reply.options],
        "draft": reply.draft.text if reply.draft else None,
    }


def _replies(raw: list[dict[str, Any]]) -> list[Any]:
    return [
        SimpleNamespace(
            kind=r["kind"],
            flow=r["flow"],
            step=r["step"],
            text=r["text"],
            options=[SimpleNamespace(value=v, label=v) for v in r["options"]],
            draft=SimpleNamespace(text=r["draft"]) if r["draft"] is not None else None,
        )
        for r in raw
    ]


def position(replies: list[Any]) -> Position:
    """Where a conversation stands, as its last reply shows it."""
    last = replies[-1]
    return (last.kind, last.flow, last.step, last.text)


# =============================================================================== the client
class Child:
    """One run of the bot process, and the reader of its replies."""

    def __init__(self, database: str, flows: Path | None, workers: int, log: IO[str]) -> None:
        command = [sys.executable, __file__, "--serve", database, "--workers", str(workers)]
        if flows is not None:
            command += ["--flows", str(flows)]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True
        )
        assert self.process.stdout is not None
        ready = self.process.stdout.readline()
        if not ready.startswith('{"ready"'):
            raise RuntimeError(f"the bot process did not start: {ready!r} (see its log)")
        self.replies: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.replies.put(json.loads(line))
        self.replies.put(None)  # end of output: the process is gone

    def send(self, request: dict[str, Any]) -> bool:
        try:
            assert self.process.stdin is not None
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
            return True
        except (BrokenPipeError, OSError):
            return False

    def kill(self) -> list[dict[str, Any]]:
        """SIGKILL; returns the replies it had already written (they did reach the client)."""
        self.process.kill()
        self.process.wait()
        self.reader.join()
        late = []
        while (item := self.replies.get()) is not None:
            late.append(item)
        for pipe in (self.process.stdin, self.process.stdout):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass
        return late

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


@dataclass
class Talk:
    """One conversation as the client knows it."""

    name: str
    user: ScriptedUser
    pending: Move | None = None  # sent (or about to be) and not answered yet
    confirmed: Position | None = None

    @property
    def who(self) -> Conversation:
        return _who(self.name)


class Client:
    def __init__(self, args: argparse.Namespace, database: str, log: IO[str]) -> None:
        self.args = args
        self.database = database
        self.log = log
        self.rng = random.Random(args.seed)
        self.reference = open_engine(":memory:", flows=args.flows)
        self.talks = {
            f"c{i:03d}": Talk(f"c{i:03d}", user)
            for i, user in enumerate(users(self.reference.flows, args.conversations))
        }
        self.ids = iter(range(1, 10**9))
        self.waiting: dict[int, Talk] = {}
        self.counts = dict.fromkeys(
            ("kills", "turns", "in_flight", "not_applied", "kept_whole", "resumed"), 0
        )
        self.failures: list[str] = []

    # --- plumbing ------------------------------------------------------------------------
    def inbound(self, talk: Talk, move: Move) -> Inbound:
        return _inbound(talk.who, move.text, move.action)

    def send(self, talk: Talk, move: Move) -> None:
        talk.pending = move
        request_id = next(self.ids)
        self.waiting[request_id] = talk
        self.child.send(
            {"id": request_id, "conv": talk.name, "text": move.text, "action": move.action}
        )

    def call(self, talk: Talk, move: Move) -> list[Any]:
        """One request and its reply, with nothing else in flight."""
        request_id = next(self.ids)
        self.child.send(
            {"id": request_id, "conv": talk.name, "text": move.text, "action": move.action}
        )
        item = self.child.replies.get(timeout=60)
        assert item is not None and item["id"] == request_id, item
        return _replies(item["replies"])

    def received(self, item: dict[str, Any], *, send_next: bool) -> None:
        talk = self.waiting.pop(item["id"])
        move = talk.pending
        assert move is not None
        replies = _replies(item["replies"])
        expected = self.reference.handle(self.inbound(talk, move))
        self.counts["turns"] += 1
        if position(replies) != position(expected):
            self.failures.append(f"{talk.name}: the bot and the reference disagree after {move}")
        talk.pending, talk.confirmed = None, position(replies)
        self.advance(talk, replies, send_next=send_next)

    def advance(self, talk: Talk, replies: list[Any], *, send_next: bool) -> None:
        following = talk.user.next(replies)
        if following is None and not talk.user.done:
            following = self.unstick(talk, replies)
        if following is not None:
            talk.pending = following
            if send_next:
                self.send(talk, following)

    def unstick(self, talk: Talk, replies: list[Any]) -> Move | None:
        """A finished conversation whose drafts went down with the process: re-draft them
        (what "Edit in a form" does), as a user would to get them back."""
        if replies and replies[-1].kind == "menu" and not talk.user.drafts:
            return Move(action="draft:edited")
        self.failures.append(f"{talk.name}: stuck after {[r.kind for r in replies]}")
        return None

    # --- the run -------------------------------------------------------------------------
    def run(self) -> None:
        deadline = time.monotonic() + self.args.deadline
        self.child = Child(self.database, self.args.flows, self.args.workers, self.log)
        for talk in self.talks.values():
            self.send(talk, talk.user.opener())
        kills_left = self.args.kills
        countdown = self.rng.randint(1, self.args.every * 2)
        while any(t.pending for t in self.talks.values()):
            if time.monotonic() > deadline:
                self.failures.append("deadline passed")
                break
            if not self.waiting:  # recovery failed for the rest: they would wait forever
                stopped = [t.name for t in self.talks.values() if t.pending]
                self.failures.append(f"conversations that could not go on: {stopped}")
                break
            item = self.child.replies.get(timeout=60)
            if item is None:
                raise RuntimeError("the bot process died by itself (see its log)")
            self.received(item, send_next=True)
            countdown -= 1
            if countdown <= 0 and kills_left:
                time.sleep(self.rng.uniform(0, 0.004))  # land anywhere in a turn
                self.crash_and_recover()
                kills_left -= 1
                countdown = self.rng.randint(1, self.args.every * 2)
        self.child.stop()

    def crash_and_recover(self) -> None:
        for item in self.child.kill():
            self.received(item, send_next=False)  # written before the kill: delivered
        self.counts["kills"] += 1
        unknown = {id(t) for t in self.waiting.values()}
        self.counts["in_flight"] += len(unknown)
        self.waiting.clear()
        self.child = Child(self.database, self.args.flows, self.args.workers, self.log)
        again = [talk for talk in self.talks.values() if self.recover(talk, id(talk) in unknown)]
        for talk in again:  # only once every resume is answered: one request at a time till now
            if talk.pending is not None:
                self.send(talk, talk.pending)

    def recover(self, talk: Talk, in_flight: bool) -> bool:
        """Check where a conversation resumes; True if its pending move is to be sent."""
        if talk.user.done:
            return False
        resume = Move(action="nav:resume")
        seen = self.call(talk, resume)
        now = self.reference.handle(self.inbound(talk, resume))
        self.counts["resumed"] += 1
        move = talk.pending
        if position(seen) == position(now):
            self.counts["not_applied"] += in_flight
            return move is not None  # it never happened: send it (again)
        if not in_flight or move is None:
            self.failures.append(
                f"{talk.name}: resumed at {position(seen)[:3]}, "
                f"last confirmed {talk.confirmed and talk.confirmed[:3]}"
            )
            return False
        self.reference.handle(self.inbound(talk, move))  # suppose it was kept whole
        led_to = self.reference.handle(self.inbound(talk, resume))
        if position(seen) != position(led_to):
            self.failures.append(
                f"{talk.name}: resumed at {position(seen)[:3]}, neither the last confirmed "
                f"step nor where the turn in flight ({move}) leads"
            )
            return False
        self.counts["kept_whole"] += 1
        talk.pending, talk.confirmed = None, position(seen)
        self.advance(talk, seen, send_next=False)
        return talk.pending is not None

    def check(self, store: Any) -> None:
        for talk in self.talks.values():
            for problem in talk.user.problems():
                self.failures.append(f"{talk.name}: {problem}")
            got, _ = store.load(talk.who.key)
            want, _ = self.reference.store.load(talk.who.key)
            if got is None or want is None:
                self.failures.append(f"{talk.name}: session lost")
                continue
            if got.answers != want.answers:
                self.failures.append(f"{talk.name}: stored answers differ from the reference")
            steps = [(m.flow, m.step) for m in got.history]
            if steps != [(m.flow, m.step) for m in want.history] or len(set(steps)) != len(steps):
                self.failures.append(f"{talk.name}: answered steps differ: {steps}")
            if (got.flow, got.step, got.mode) != (want.flow, want.step, want.mode):
                self.failures.append(f"{talk.name}: ended at {got.step}, expected {want.step}")


# ================================================================================== runs
def run(kind: str, args: argparse.Namespace) -> bool:
    from bot.dialogue import open_store

    postgres_url = os.environ["PROTOCOLBOT_TEST_POSTGRES_URL"] if kind == "postgres" else None
    with scratch_database("faults", postgres_url) as database, tempfile.TemporaryFile("w+") as log:
        client = Client(args, database, log)
        started = time.perf_counter()
        try:
            client.run()
        except Exception as exc:
            client.failures.append(f"{type(exc).__name__}: {exc}")
            if hasattr(client, "child"):
                client.child.process.kill()
        seconds = time.perf_counter() - started
        store = open_store(database)
        try:
            client.check(store)
        finally:
            store.close()
        c = client.counts
        finished = sum(t.user.done for t in client.talks.values())
        print(
            f"{kind:10} {len(client.talks)} conversations, {finished} reached their drafts, "
            f"{c['turns']} turns, {c['kills']} kills in {seconds:.1f} s; turns in flight at a "
            f"kill: {c['in_flight']} ({c['not_applied']} left no trace and were sent again, "
            f"{c['kept_whole']} were kept whole and their lost reply replaced by resume); "
            f"{c['resumed']} resumes checked; failures: {len(client.failures)}",
            flush=True,
        )
        for failure in client.failures[:15]:
            print(f"    {failure}")
        if client.failures:
            log.seek(0)
            print("    bot process log (tail):\n" + "".join(log.readlines()[-20:]))
        return not client.failures and finished == len(client.talks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=30)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--every", type=int, default=20, help="replies between kills, on average")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=4, help="turn threads in the bot process")
    parser.add_argument("--deadline", type=float, default=300)
    parser.add_argument("--flows", type=Path, help="a flows folder (default: the bundled one)")
    parser.add_argument("--serve", metavar="DATABASE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.flows, args.workers)
        return 0
    ok = run("sqlite", args)
    if os.environ.get("PROTOCOLBOT_TEST_POSTGRES_URL"):
        ok &= run("postgres", args)
    else:
        print("postgres   skipped (set PROTOCOLBOT_TEST_POSTGRES_URL to include it)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
