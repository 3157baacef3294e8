"""Many users at once: no lost or crossed sessions, every flow reaches its drafts, latency.

    python bench/load.py [--users 200] [--deadline 600] [--only slack|engine]

Each simulated user walks one of the three flows to its drafts (bench/scripted_users.py),
all users at the same time, in two ways:

* slack: through the real Slack HTTP endpoint (``bot.channels.slack.make_http_server`` over
  the real bolt app from ``build_app``) with requests signed as Slack signs them, and the
  bot's replies posted to the fake Slack Web API from tests/channels/slack_fake.py. A turn's
  latency runs from sending the request until the last message of the reply has reached the
  fake Slack (what the user waits for); the ack latency is the HTTP response alone.
* engine: ``Engine.handle`` called directly from one thread per user.

Both with the SQLite store, and with the PostgreSQL store when PROTOCOLBOT_TEST_POSTGRES_URL
is set (in a schema of its own, dropped afterwards). Loopback only; bounded by --users and
--deadline. Exits non-zero if any session was lost or crossed or any flow did not finish.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
import queue
import statistics
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "tests" / "channels")]

from scripted_users import (  # noqa: E402
    MARKER,
    Move,
    ScriptedUser,
    percentile,
    scratch_database,
    slack_headers,
    users,
)

from bot.dialogue import Conversation, Engine, Inbound, Reply, open_engine  # noqa: E402
from bot.dialogue.store import SessionStore, SqliteStore  # noqa: E402

MAX_RETRIES = 5  # "try again" replies a user sits through before giving up


@dataclass
class Outcome:
    """What one user saw."""

    user: ScriptedUser
    latencies: list[float] = field(default_factory=list)  # ms per turn
    acks: list[float] = field(default_factory=list)  # ms per HTTP response (slack)
    retries: int = 0
    problems: list[str] = field(default_factory=list)


# --- stores --------------------------------------------------------------------------------
@contextmanager
def scratch_store(postgres_url: str | None = None) -> Iterator[SessionStore]:
    """A SQLite store in a temporary file, or with ``postgres_url`` a PostgreSQL store (20
    connections) in a schema of its own; closed and removed afterwards."""
    with scratch_database("load", postgres_url) as database:
        if postgres_url is None:
            store: SessionStore = SqliteStore(database)
        else:
            from bot.dialogue import PostgresStore

            store = PostgresStore(database, max_connections=20)
        try:
            yield store
        finally:
            store.close()


def engine_on(parts: Engine, store: SessionStore) -> Engine:
    """An engine wired as open_engine wires it (with the store's audit log), without loading
    the knowledge and flows again."""
    from bot.dialogue.audit import audit_for

    return Engine(
        index=parts.index, flows=parts.flows, router=parts.router, renderer=parts.renderer,
        store=store, audit=audit_for(store),
    )  # fmt: skip


class Errors(logging.Handler):
    """Errors the bot logged during a run (a failed audit write, a failed Slack call)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.name}: {record.getMessage()}"[:200])


# --- one user's conversation, whatever carries it -------------------------------------------
def converse(
    user: ScriptedUser, send: Callable[[Move], list[Reply]], deadline: float, outcome: Outcome
) -> None:
    move: Move | None = user.opener()
    while move is not None:
        if time.monotonic() > deadline:
            outcome.problems.append("deadline passed before the flow finished")
            return
        if user.turns > 150:
            outcome.problems.append("no end after 150 turns")
            return
        start = time.perf_counter()
        replies = send(move)
        outcome.latencies.append((time.perf_counter() - start) * 1000)
        if replies and all(r.kind == "error" for r in replies):
            outcome.retries += 1
            if outcome.retries > MAX_RETRIES:
                outcome.problems.append(f"gave up after errors: {replies[0].text[:80]}")
                return
            time.sleep(0.05)
            continue  # "please try again": the same move again
        move = user.next(replies)
        if move is None and not user.done:
            outcome.problems.append(f"stuck after: {[r.kind for r in replies]}")
            return
    outcome.problems += user.problems()


def check_store(store: SessionStore, keys: dict[str, str]) -> list[str]:
    """Each finished session holds its own user's marker and nobody else's."""
    problems = []
    for key, own in keys.items():
        session, _ = store.load(key)
        if session is None:
            problems.append(f"{key}: session lost")
            continue
        found = set(MARKER.findall(json.dumps(session.answers)))
        if found != {own}:
            problems.append(f"{key}: answers carry {sorted(found)}, expected [{own}]")
        if session.mode != "done":
            problems.append(f"{key}: ended in mode {session.mode}")
    return problems


def run_all(n: int, job: Callable[[int], Outcome]) -> tuple[list[Outcome], float]:
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="user") as pool:
        outcomes = list(pool.map(job, range(n)))
    return outcomes, time.perf_counter() - start


# --- (b) the engine directly -------------------------------------------------------------------
def engine_run(parts: Engine, store: SessionStore, n: int, deadline: float) -> dict[str, Any]:
    engine = engine_on(parts, store)
    people = users(parts.flows, n)
    keys = {}

    def job(i: int) -> Outcome:
        who = Conversation("bench", "local", f"user{i:04d}", "t")
        keys[who.key] = people[i].marker
        outcome = Outcome(people[i])

        def send(move: Move) -> list[Reply]:
            return engine.handle(Inbound(who, text=move.text, action=move.action))

        converse(people[i], send, deadline, outcome)
        return outcome

    outcomes, seconds = run_all(n, job)
    return summarise(outcomes, seconds, check_store(store, keys))


# --- (a) the Slack HTTP path -------------------------------------------------------------------
class Recording:
    """The engine, passed through; each turn's replies also go to the user waiting for them
    (the simulated person reads them instead of parsing Block Kit)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.flows = engine.flows
        self.index = engine.index
        self.store = engine.store
        self.turns: dict[str, queue.Queue[list[Reply]]] = defaultdict(queue.Queue)

    def handle(self, inbound: Inbound) -> list[Reply]:
        replies = self.engine.handle(inbound)
        self.turns[inbound.conversation.user].put(replies)
        return replies


def slack_run(parts: Engine, store: SessionStore, n: int, deadline: float) -> dict[str, Any]:
    from slack_fake import (
        SECRET,
        TEAM,
        FakeSlackApi,
        block_actions,
        buttons,
        event_callback,
        im_message,
        mrkdwn_of,
    )

    from bot.channels import slack_blocks as kit
    from bot.channels.slack import build_app, make_http_server
    from bot.config import Settings

    class Slack(FakeSlackApi):
        """The fake Web API, keeping each DM's messages apart and waking only its user."""

        def __init__(self) -> None:
            self.inbox: dict[str, list[dict[str, Any]]] = defaultdict(list)
            self.arrived: dict[str, threading.Condition] = defaultdict(threading.Condition)
            self.guard = threading.Lock()
            super().__init__()

        def _record(self, method: str, args: dict[str, Any]) -> None:
            if method != "chat.postMessage":
                return
            with self.guard:
                arrived = self.arrived[args["channel"]]
            with arrived:
                self.inbox[args["channel"]].append(args)
                arrived.notify_all()

        def wait_for(self, channel: str, count: int, timeout: float) -> bool:
            with self.guard:
                arrived = self.arrived[channel]
            with arrived:
                return arrived.wait_for(lambda: len(self.inbox[channel]) >= count, timeout)

    fake = Slack()
    fake.server.socket.listen(1024)  # it stands in for Slack: no 5-connection backlog
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        slack_bot_token="xoxb-load-test",
        slack_signing_secret=SECRET,
        slack_api_url=fake.url,
    )
    recording = Recording(engine_on(parts, store))
    workers = ThreadPoolExecutor(max_workers=32, thread_name_prefix="lazy")
    app = build_app(settings, recording, listener_executor=workers)
    server = make_http_server(app, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    people = users(parts.flows, n)
    keys = {}

    def job(i: int) -> Outcome:
        user_id, dm = f"U{i:05d}", f"D{i:05d}"
        keys[Conversation("slack", TEAM, user_id, dm).key] = people[i].marker
        outcome = Outcome(people[i])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

        def post(body: str, content_type: str) -> None:
            headers = slack_headers(body, content_type, SECRET)
            start = time.perf_counter()
            connection.request("POST", "/slack/events", body=body.encode(), headers=headers)
            response = connection.getresponse()
            response.read()
            outcome.acks.append((time.perf_counter() - start) * 1000)
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}")

        def send(move: Move) -> list[Reply]:
            before = len(fake.inbox[dm])
            if move.action is None:
                event = im_message(move.text, user_id)
                event["channel"] = dm
                post(json.dumps(event_callback(event)), "application/json")
            else:
                message, button, block = newest_button(move.action)
                payload = block_actions(message, dm, button, block, user_id)
                body = urlencode({"payload": json.dumps(payload)})
                post(body, "application/x-www-form-urlencoded")
            replies = recording.turns[user_id].get(timeout=max(1.0, deadline - time.monotonic()))
            expected = before + sum(len(kit.render_reply(r)) for r in replies)
            if not fake.wait_for(dm, expected, timeout=max(1.0, deadline - time.monotonic())):
                raise RuntimeError("the reply never reached Slack")
            for args in fake.inbox[dm][before:expected]:
                people[i].seen_text.append(mrkdwn_of(args.get("blocks", [])))
            return replies

        def newest_button(value: str) -> tuple[dict[str, Any], dict[str, Any], str]:
            for number, args in reversed(list(enumerate(fake.inbox[dm]))):
                for button, block in buttons(args.get("blocks", [])):
                    if button["value"] == value:
                        message = {"type": "message", "ts": f"ts-{number}", "text": args["text"]}
                        message["blocks"] = args["blocks"]
                        return message, button, block
            raise RuntimeError(f"no button {value!r} in {dm}")

        try:
            converse(people[i], send, deadline, outcome)
        except Exception as exc:  # reported as this user's problem, not a crash of the run
            outcome.problems.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()
        posted = [mrkdwn_of(a.get("blocks", [])) for a in fake.inbox[dm]]
        if not any(people[i].marker in text for text in posted if "DRAFT" in text):
            outcome.problems.append("no draft with the user's marker reached their DM")
        return outcome

    try:
        outcomes, seconds = run_all(n, job)
    finally:
        server.shutdown()
        server.server_close()
        workers.shutdown(wait=True)
        fake.close()
    return summarise(outcomes, seconds, check_store(store, keys))


# --- report ------------------------------------------------------------------------------------
def summarise(outcomes: list[Outcome], seconds: float, store_problems: list[str]) -> dict[str, Any]:
    latencies = [t for o in outcomes for t in o.latencies]
    acks = [t for o in outcomes for t in o.acks]
    problems = [f"{o.user.marker}: {p}" for o in outcomes for p in o.problems] + store_problems
    return {
        "users": len(outcomes),
        "drafted": sum(o.user.done and not o.problems for o in outcomes),
        "turns": len(latencies),
        "retries": sum(o.retries for o in outcomes),
        "seconds": seconds,
        "p50": statistics.median(latencies) if latencies else float("nan"),
        "p99": percentile(latencies, 99),
        "max": max(latencies, default=float("nan")),
        "ack_p50": statistics.median(acks) if acks else None,
        "ack_p99": percentile(acks, 99) if acks else None,
        "problems": problems,
    }


def report(label: str, result: dict[str, Any]) -> None:
    line = (
        f"{label:22} {result['users']} users, {result['drafted']} reached their drafts, "
        f"{result['turns']} turns in {result['seconds']:.1f} s "
        f"({result['turns'] / result['seconds']:.0f} turns/s): "
        f"turn p50 {result['p50']:.1f} ms, p99 {result['p99']:.1f} ms, max {result['max']:.0f} ms"
    )
    if result["ack_p50"] is not None:
        line += f"; ack p50 {result['ack_p50']:.1f} ms, p99 {result['ack_p99']:.1f} ms"
    line += f"; try-again replies {result['retries']}"
    problems = result["problems"]
    line += f"; lost or crossed: {len(problems)}"
    print(line, flush=True)
    for problem in problems[:10]:
        print(f"    {problem}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--deadline", type=float, default=600, help="seconds per run, at most")
    parser.add_argument("--only", choices=["slack", "engine"])
    parser.add_argument("--flows", type=Path, help="a flows folder (default: the bundled one)")
    args = parser.parse_args()
    parts = open_engine(":memory:", flows=args.flows)
    backends: list[tuple[str, Callable[[], Any]]] = [("SQLite", scratch_store)]
    url = os.environ.get("PROTOCOLBOT_TEST_POSTGRES_URL")
    if url:
        backends.append(("PostgreSQL", lambda: scratch_store(url)))
    else:
        print("PostgreSQL: skipped (set PROTOCOLBOT_TEST_POSTGRES_URL to include it)")
    runs = [("slack", slack_run), ("engine", engine_run)]
    failed = False
    for name, opened in backends:
        for path, run in runs:
            if args.only and args.only != path:
                continue
            errors = Errors()
            logging.getLogger("bot").addHandler(errors)
            with opened() as store:
                deadline = time.monotonic() + args.deadline
                result = run(parts, store, args.users, deadline)
            logging.getLogger("bot").removeHandler(errors)
            result["problems"] += [f"logged: {m}" for m in errors.messages]
            report(f"{name}, {path}", result)
            failed |= bool(result["problems"]) or result["drafted"] < args.users
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
