"""Where sessions live between turns: SQLite (WAL) by default, so they survive a restart.

A database URL (``postgresql://...``) selects the PostgreSQL store instead
(``bot.dialogue.store_postgres``), so several bot instances share sessions and the record of
deliveries already seen. Both stores hold a conversation for a whole turn (:meth:`turn`):
two clicks on the same button are worked through one after the other, never both against
the same starting point, and a turn's writes are committed together or not at all.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path
from typing import Protocol

from bot.dialogue.session import Session


class StoreError(Exception):
    """The session store cannot be opened as configured (a bad URL, a missing driver)."""


class StoreUnavailable(StoreError):
    """The store could not be read or written; the turn should be retried by the user."""


class SessionStore(Protocol):
    def turn(self, key: str) -> AbstractContextManager[None]:
        """Hold conversation ``key`` until the block ends; its writes commit together at the
        end (or not at all if it raises). Raises StoreUnavailable if it cannot be held."""
        ...

    def load(self, key: str) -> tuple[Session | None, bool]: ...
    def save(self, session: Session) -> None: ...
    def delete(self, key: str) -> None: ...
    def expire(self) -> int: ...
    def first_time(self, key: str) -> bool: ...
    def close(self) -> None: ...


def open_store(
    database: str | Path, idle_seconds: float = 30 * 60, clock: Callable[[], float] = time.time
) -> SessionStore:
    """The store a database setting names: a file path, ``sqlite:///path``, ``:memory:``,
    or a ``postgresql://user:password@host:port/dbname`` URL."""
    text = str(database)
    scheme = text.partition("://")[0].lower() if "://" in text else ""
    if scheme in {"postgresql", "postgres", "postgresql+psycopg"}:
        from bot.dialogue.store_postgres import PostgresStore

        url = "postgresql://" + text.partition("://")[2]
        return PostgresStore(url, idle_seconds=idle_seconds, clock=clock)
    if scheme not in {"", "sqlite"}:
        raise StoreError(
            f"PROTOCOLBOT_DATABASE: unsupported database URL scheme {scheme!r}; use a file "
            "path, sqlite:///path or postgresql://user:password@host:port/dbname"
        )
    return SqliteStore(text.removeprefix("sqlite:///"), idle_seconds=idle_seconds, clock=clock)


def private_file(path: str | Path) -> None:
    """Create a database file readable by this user only (its folder too, if new); SQLite
    gives the -wal and -shm files the database file's permissions."""
    file = Path(path)
    file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with suppress(FileExistsError):  # an existing file keeps the permissions it has
        os.close(os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


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
    """Sessions keyed by channel, workspace, user and thread; idle ones are deleted for real.

    One connection in autocommit mode, shared by the threads of this process under a lock.
    A turn holds that lock and SQLite's write lock (BEGIN IMMEDIATE) from start to end:
    SQLite has one writer at a time anyway, and this way a second process on the same file
    waits too. ``timeout`` is how long to wait for another process's write lock.
    """

    def __init__(
        self,
        path: str | Path,
        idle_seconds: float = 30 * 60,
        clock: Callable[[], float] = time.time,
        *,
        timeout: float = 5.0,
    ) -> None:
        self.path = str(path)
        self.clock = clock
        if self.path != ":memory:":
            private_file(self.path)
        self.idle_seconds = idle_seconds
        self.timeout = timeout
        self._lock = threading.RLock()
        self._turns = 0  # nesting depth of the turn held by the thread holding _lock
        self._failed = False  # a statement of the current turn failed: roll it back
        self._db = sqlite3.connect(
            self.path, check_same_thread=False, timeout=timeout, isolation_level=None
        )
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA secure_delete=ON")  # deleted answers are overwritten
            self._db.executescript(_SCHEMA)

    def _run(self, sql: str, args: tuple[object, ...] = ()) -> sqlite3.Cursor:
        """One statement: committed at once, or part of the turn this thread holds."""
        with self._lock:
            try:
                return self._db.execute(sql, args)
            except sqlite3.Error as exc:
                self._failed = self._turns > 0
                raise StoreUnavailable(str(exc)) from exc

    @contextmanager
    def turn(self, key: str) -> Iterator[None]:
        """Hold the database for one turn (``key`` is not needed: SQLite has one writer)."""
        # threads of this process queue here; a turn takes milliseconds, so a long wait
        # means something is stuck and the user is better told to try again
        if not self._lock.acquire(timeout=max(30.0, self.timeout)):
            raise StoreUnavailable("timed out waiting for other turns in this process")
        try:
            if self._turns:  # already inside this thread's turn
                self._turns += 1
                try:
                    yield
                finally:
                    self._turns -= 1
                return
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:  # another process holds the write lock
                raise StoreUnavailable(str(exc)) from exc
            self._turns, self._failed = 1, False
            try:
                yield
            except BaseException:
                self._rollback()
                raise
            finally:
                self._turns = 0
            if self._failed:
                self._rollback()
                return
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise StoreUnavailable(str(exc)) from exc
        finally:
            self._lock.release()

    def _rollback(self) -> None:
        try:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # nothing was committed; the connection's next BEGIN starts afresh

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
