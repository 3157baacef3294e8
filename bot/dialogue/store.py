"""Where sessions live between turns: SQLite (WAL) by default, so they survive a restart."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from bot.dialogue.session import Session


class StoreUnavailable(Exception):
    """The store could not be read or written; the turn should be retried by the user."""


class SessionStore(Protocol):
    def load(self, key: str) -> tuple[Session | None, bool]: ...
    def save(self, session: Session) -> None: ...
    def delete(self, key: str) -> None: ...
    def expire(self) -> int: ...
    def first_time(self, key: str) -> bool: ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    key TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    updated_at REAL NOT NULL,
    version INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS seen_events (
    key TEXT PRIMARY KEY,
    seen_at REAL NOT NULL
);
"""


class SqliteStore:
    """Sessions keyed by channel, workspace, user and thread; idle ones are deleted for real."""

    def __init__(
        self,
        path: str | Path,
        idle_seconds: float = 30 * 60,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = str(path)
        self.clock = clock
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.idle_seconds = idle_seconds
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=5.0)
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA secure_delete=ON")  # deleted answers are overwritten
            self._db.executescript(_SCHEMA)
            self._db.commit()

    def _run(self, sql: str, args: tuple[object, ...] = ()) -> sqlite3.Cursor:
        try:
            with self._lock, self._db:
                return self._db.execute(sql, args)
        except sqlite3.Error as exc:
            raise StoreUnavailable(str(exc)) from exc

    def load(self, key: str) -> tuple[Session | None, bool]:
        """The session, and whether one existed but had expired (and is now deleted)."""
        row = self._run("SELECT data, updated_at FROM sessions WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None, False
        if self.clock() - row[1] > self.idle_seconds:
            self.delete(key)
            return None, True
        return Session.from_dict(json.loads(row[0])), False

    def save(self, session: Session) -> None:
        session.updated_at = self.clock()
        session.version += 1
        self._run(
            "INSERT INTO sessions (key, data, updated_at, version) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET data = excluded.data, "
            "updated_at = excluded.updated_at, version = excluded.version",
            (session.key, json.dumps(session.to_dict()), session.updated_at, session.version),
        )

    def delete(self, key: str) -> None:
        self._run("DELETE FROM sessions WHERE key = ?", (key,))

    def expire(self) -> int:
        """Delete every idle session; returns how many went."""
        cutoff = self.clock() - self.idle_seconds
        gone = self._run("DELETE FROM sessions WHERE updated_at < ?", (cutoff,)).rowcount
        self._run("DELETE FROM seen_events WHERE seen_at < ?", (self.clock() - 86400,))
        return int(gone)

    def first_time(self, key: str) -> bool:
        """Record an event id; False if it was recorded before (a platform retry)."""
        cursor = self._run(
            "INSERT OR IGNORE INTO seen_events (key, seen_at) VALUES (?, ?)", (key, self.clock())
        )
        return cursor.rowcount == 1

    def close(self) -> None:
        with self._lock:
            self._db.close()
