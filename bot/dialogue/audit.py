"""The audit trail: what guidance the bot gave, turn by turn, for a manager's review.

One row per turn: when (UTC), who (channel, workspace, the platform's user id), which flow,
the steps the replies came from, the kinds of reply, the clauses shown and, for each draft,
the sha256 of its text. Never what the user typed, their answers or a draft's text: the
audit trail outlives the sessions that hold those, so it must not become a second copy.

The log lives in the sessions' database and is append-only. In SQLite (here) triggers
refuse every UPDATE, every DELETE outside :meth:`SqliteAuditLog.purge`, and any INSERT that
would overwrite an existing row (``INSERT OR REPLACE`` deletes without firing delete
triggers); the PostgreSQL log (:mod:`bot.dialogue.audit_postgres`) is guarded the same way.
:func:`audit_for` picks the one that goes with a session store. SECURITY.md explains the
design and its limits.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from bot.dialogue.messages import Conversation, Reply
from bot.dialogue.store import SessionStore, SqliteStore, open_sqlite, sqlite_path
from bot.dialogue.store_postgres import PostgresStore

__all__ = [
    "AuditEvent",
    "AuditLog",
    "AuditUnavailable",
    "SqliteAuditLog",
    "audit_for",
    "write_csv",
    "write_jsonl",
]

log = logging.getLogger(__name__)

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # fixed width, so text order is time order
COLUMNS = (
    "time_utc",
    "channel",
    "workspace",
    "user",
    "flow",
    "steps",
    "reply_kinds",
    "clauses",
    "draft_sha256",
)


class AuditUnavailable(Exception):
    """The audit log could not be read or written."""


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime(TIME_FORMAT)


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One turn's guidance. ``steps`` are ``flow/step`` ids; ``drafts`` are sha256 hex digests
    of the draft texts (the first 12 characters are what the user saw as "draft abc123")."""

    channel: str
    workspace: str
    user: str
    flow: str | None
    steps: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    clauses: tuple[str, ...] = ()
    drafts: tuple[str, ...] = ()
    at: dt.datetime | None = None  # stamped by the log when recorded

    @classmethod
    def of_turn(
        cls, conversation: Conversation, flow: str | None, replies: Sequence[Reply]
    ) -> AuditEvent:
        """Built from the replies' structure only; no reply text is read."""
        return cls(
            channel=conversation.channel,
            workspace=conversation.workspace,
            user=conversation.user,
            flow=flow,
            steps=_unique(f"{r.flow}/{r.step}" for r in replies if r.flow and r.step),
            kinds=tuple(r.kind for r in replies),
            clauses=_unique(c.clause_id for r in replies for c in r.citations),
            drafts=tuple(
                hashlib.sha256(r.draft.text.encode("utf-8", "surrogatepass")).hexdigest()
                for r in replies
                if r.draft is not None
            ),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "time_utc": _utc(self.at) if self.at else None,
            "channel": self.channel,
            "workspace": self.workspace,
            "user": self.user,
            "flow": self.flow,
            "steps": list(self.steps),
            "reply_kinds": list(self.kinds),
            "clauses": list(self.clauses),
            "draft_sha256": list(self.drafts),
        }


CHECKPOINT_WAIT_SECONDS = 5.0  # how long purge waits for other readers to let go of the WAL


class WalNotEmptied(AuditUnavailable):
    """The purge committed, but another connection's open read transaction kept the
    write-ahead log from being emptied, so the purged rows are still in the -wal file."""

    def __init__(self, purged: int) -> None:
        super().__init__(
            f"deleted {purged} audit event(s), but another connection (a running bot, or a "
            "backup) holds a read transaction, so the deleted rows and sessions are still in "
            "the database's -wal file; run purge again when it has finished"
        )
        self.purged = purged


class AuditLog(Protocol):
    def record(self, event: AuditEvent) -> None: ...
    def events(self, since: dt.datetime) -> Iterator[AuditEvent]: ...
    def purge(self, before: dt.datetime) -> int: ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    channel TEXT NOT NULL,
    workspace TEXT NOT NULL,
    user_id TEXT NOT NULL,
    flow TEXT,
    steps TEXT NOT NULL,
    kinds TEXT NOT NULL,
    clauses TEXT NOT NULL,
    drafts TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_events_at ON audit_events (at);
-- a row exists here only inside the purge transaction, which removes it before committing
CREATE TABLE IF NOT EXISTS audit_purge (one INTEGER PRIMARY KEY CHECK (one = 1));
CREATE TRIGGER IF NOT EXISTS audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
CREATE TRIGGER IF NOT EXISTS audit_events_no_delete BEFORE DELETE ON audit_events
WHEN NOT EXISTS (SELECT 1 FROM audit_purge)
BEGIN
    SELECT RAISE(ABORT, 'audit_events rows are removed only by protocolbot purge');
END;
CREATE TRIGGER IF NOT EXISTS audit_events_no_overwrite BEFORE INSERT ON audit_events
WHEN EXISTS (SELECT 1 FROM audit_events WHERE id = NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
"""


class SqliteAuditLog:
    """The audit trail in a SQLite file (the sessions' file), on its own connection."""

    def __init__(self, path: str | Path, clock: Callable[[], float] = time.time) -> None:
        file = sqlite_path(path)
        self.path = str(path) if file is None else file
        self.clock = clock
        self._lock = threading.Lock()

        def setup(db: sqlite3.Connection) -> None:
            db.executescript(_SCHEMA)
            # a flag row can only be left behind by hand; it would disable the guard
            if db.execute("SELECT 1 FROM audit_purge").fetchone():
                db.execute("DELETE FROM audit_purge")

        def error(reason: object) -> AuditUnavailable:
            return AuditUnavailable(f"SQLite database {self.path}: {reason}")

        self._db = open_sqlite(self.path, timeout=5.0, setup=setup, error=error)

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC)

    def record(self, event: AuditEvent) -> None:
        at = event.at or self.now()
        row = (
            _utc(at),
            event.channel,
            event.workspace,
            event.user,
            event.flow,
            json.dumps(list(event.steps)),
            json.dumps(list(event.kinds)),
            json.dumps(list(event.clauses)),
            json.dumps(list(event.drafts)),
        )
        try:
            with self._lock:
                self._db.execute(
                    "INSERT INTO audit_events (at, channel, workspace, user_id, flow, steps, "
                    "kinds, clauses, drafts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    row,
                )
        except sqlite3.Error as exc:
            raise AuditUnavailable(str(exc)) from exc

    def events(self, since: dt.datetime) -> Iterator[AuditEvent]:
        """Events recorded at or after ``since``, oldest first."""
        try:
            with self._lock:
                rows = self._db.execute(
                    "SELECT at, channel, workspace, user_id, flow, steps, kinds, clauses, drafts "
                    "FROM audit_events WHERE at >= ? ORDER BY id",
                    (_utc(since),),
                ).fetchall()
        except sqlite3.Error as exc:
            raise AuditUnavailable(str(exc)) from exc
        for at, channel, workspace, user, flow, steps, kinds, clauses, drafts in rows:
            yield AuditEvent(
                channel=channel,
                workspace=workspace,
                user=user,
                flow=flow,
                steps=tuple(json.loads(steps)),
                kinds=tuple(json.loads(kinds)),
                clauses=tuple(json.loads(clauses)),
                drafts=tuple(json.loads(drafts)),
                at=dt.datetime.strptime(at, TIME_FORMAT).replace(tzinfo=dt.UTC),
            )

    def purge(self, before: dt.datetime) -> int:
        """Delete events recorded before ``before``; the only way rows ever leave.

        The flag row that lets the delete trigger through is inserted and removed inside one
        transaction, so no other connection ever sees it; a crash rolls it back with the rest.
        """
        try:
            with self._lock:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    self._db.execute("INSERT INTO audit_purge (one) VALUES (1)")
                    gone = self._db.execute(
                        "DELETE FROM audit_events WHERE at < ?", (_utc(before),)
                    ).rowcount
                    self._db.execute("DELETE FROM audit_purge")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
                # copy the deletions into the main file and empty the WAL, so neither the
                # purged rows nor sessions deleted before this call linger in it; a reader
                # in the middle of a transaction holds the WAL, so wait a little for it
                self._db.execute(f"PRAGMA busy_timeout = {int(CHECKPOINT_WAIT_SECONDS * 1000)}")
                try:
                    busy = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
                finally:
                    self._db.execute("PRAGMA busy_timeout = 5000")
        except sqlite3.Error as exc:
            raise AuditUnavailable(str(exc)) from exc
        if busy:
            raise WalNotEmptied(int(gone))
        return int(gone)

    def close(self) -> None:
        with self._lock:
            self._db.close()


def audit_for(store: SessionStore) -> AuditLog | None:
    """The audit log that goes with a session store: in the same database, so one backup,
    one set of permissions and one purge cover both (and, for PostgreSQL, every instance
    writes the one trail). None for a store of another kind."""
    if isinstance(store, SqliteStore):
        return SqliteAuditLog(store.path, clock=store.clock)
    if isinstance(store, PostgresStore):
        from bot.dialogue.audit_postgres import PostgresAuditLog

        return PostgresAuditLog(store)
    log.warning("no audit log for a %s: turns are not audited", type(store).__name__)
    return None


# --- export ----------------------------------------------------------------------------
# what makes a spreadsheet run a cell: a formula sign, in ASCII or full width, or a pipe
# (DDE), even behind leading spaces or line breaks, which some spreadsheets skip
_FORMULA_START = frozenset("=+-@|＝＋－＠｜")


def _cell(value: str) -> str:
    # user ids and workspace names come from outside: none may become a formula
    if value[:1] in ("\t", "\r", "\n") or value.lstrip()[:1] in _FORMULA_START:
        return "'" + value
    return value


def write_csv(events: Iterable[AuditEvent], out: IO[str]) -> int:
    """CSV with a header row; lists are space-separated. Returns the number of events."""
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    count = 0
    for event in events:
        row = event.as_dict()
        writer.writerow(
            [
                _cell(" ".join(v) if isinstance(v, list) else (v or ""))
                for v in (row[c] for c in COLUMNS)
            ]
        )
        count += 1
    return count


def write_jsonl(events: Iterable[AuditEvent], out: IO[str]) -> int:
    """One JSON object per line. Returns the number of events."""
    count = 0
    for event in events:
        out.write(json.dumps(event.as_dict(), ensure_ascii=False) + "\n")
        count += 1
    return count
