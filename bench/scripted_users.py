"""Simulated users for the load and fault benchmarks: each walks one flow to its drafts.

A user reads the replies of a turn the way a person reads the chat: it presses an answer
button where the question has some (the first, or "No" to a risk question so the flow
stays on its own path), confirms the summary, and types an answer otherwise. Every typed
answer carries the user's own marker (``MKR-0042-END``), so a draft that shows someone
else's marker, or lacks its own, exposes crossed or lost sessions.

Also what the benchmarks share besides: a throwaway database, and Slack's request signing.
"""

from __future__ import annotations

import re
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.dialogue.flow import END

OPENERS = {
    "safeguarding_concern": "I've received a safeguarding concern about a child",
    "lgo_complaint": "a parent wants to complain to the ombudsman about the council",
    "child_advocacy": "a young person needs an advocate",
}
MARKER = re.compile(r"MKR-\d{4}-END")
# typed answers to try, in turn, when a question asks again (its check refused the last one)
FALLBACKS = ("not known", "skip", "12", "Leeds", "today")


def marker(number: int) -> str:
    return f"MKR-{number:04d}-END"


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@contextmanager
def postgres_schema(url: str, prefix: str) -> Iterator[str]:
    """A throwaway schema on the PostgreSQL server at ``url``, dropped afterwards; yields the
    URL whose connections use it (it comes first on their search path)."""
    import psycopg

    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
        try:
            glue = "&" if "?" in url else "?"
            yield f"{url}{glue}options=-csearch_path%3D{schema}"
        finally:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


@contextmanager
def scratch_database(name: str, postgres_url: str | None = None) -> Iterator[str]:
    """A throwaway database, removed afterwards: a SQLite file ``<name>.sqlite3`` in a
    temporary folder, or with ``postgres_url`` a schema of its own on that server (see
    ``postgres_schema``); yields the path or URL to open it by."""
    if postgres_url is None:
        with tempfile.TemporaryDirectory() as tmp:
            yield str(Path(tmp) / f"{name}.sqlite3")
    else:
        with postgres_schema(postgres_url, name) as url:
            yield url


def slack_headers(body: str, content_type: str, secret: str) -> dict[str, str]:
    """HTTP headers of a request to the app, signed now with ``secret`` as Slack signs it."""
    from slack_sdk.signature import SignatureVerifier

    ts = str(int(time.time()))
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": SignatureVerifier(secret).generate_signature(timestamp=ts, body=body),
    }


@dataclass
class Move:
    """What the user sends next: typed text, or the value of a button."""

    text: str = ""
    action: str | None = None
    step: str | None = None  # the question it answers, if any


@dataclass
class ScriptedUser:
    flow: str
    marker: str
    flows: Mapping[str, Any]
    drafts: list[str] = field(default_factory=list)
    seen_text: list[str] = field(default_factory=list)
    done: bool = False
    turns: int = 0
    _asked: str | None = None
    _tries: int = 0

    def opener(self) -> Move:
        return Move(text=OPENERS[self.flow])

    def typed(self, step_id: str) -> str:
        # the question may belong to a flow this one called (its step ids are its own)
        step = next(
            (f.step(step_id) for f in self.flows.values() if step_id in f.asks()), None
        )
        if step is not None and step.type == "date":
            return "today"
        if self._tries == 0:
            return f"{self.marker} answer to {step_id}"
        return FALLBACKS[(self._tries - 1) % len(FALLBACKS)]

    def next(self, replies: Sequence[Any]) -> Move | None:
        """The move after this turn's replies; None once the drafts are out and it ended."""
        self.turns += 1
        for reply in replies:
            self.seen_text.append(reply.text)
            if reply.draft is not None:
                self.drafts.append(reply.draft.text)
                self.seen_text.append(reply.draft.text)
        if any(r.step == END and r.kind == "notice" for r in replies) and self.drafts:
            self.done = True
            return None
        for reply in reversed(replies):
            if reply.kind == "summary":
                self._asked, self._tries = None, 0
                return Move(action="draft:confirm")
            if reply.kind != "question":
                continue
            step_id = reply.step or ""
            self._tries = self._tries + 1 if step_id == self._asked else 0
            self._asked = step_id
            answers = [o for o in reply.options if o.value.startswith("ans:")]
            if answers:
                risky = "risk" in step_id or "danger" in step_id
                pick = answers[-1] if risky else answers[0]
                return Move(action=pick.value, step=step_id)
            return Move(text=self.typed(step_id), step=step_id)
        return None  # nothing to answer: the conversation is stuck (reported by the caller)

    def problems(self) -> list[str]:
        """Lost or crossed sessions, as seen by this user."""
        found = []
        if not self.drafts:
            found.append("no draft")
        elif not any(self.marker in d for d in self.drafts):
            found.append("own marker missing from the drafts")
        strangers = {m for t in self.seen_text for m in MARKER.findall(t)} - {self.marker}
        if strangers:
            found.append(f"saw other users' markers: {sorted(strangers)[:3]}")
        return found


def users(flows: Mapping[str, Any], n: int) -> list[ScriptedUser]:
    """``n`` users taking the flows of OPENERS in turn, user ``i`` with marker ``i``."""
    names = list(OPENERS)
    return [ScriptedUser(names[i % len(names)], marker(i), flows) for i in range(n)]
