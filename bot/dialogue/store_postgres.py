"""Sessions in PostgreSQL, so several bot instances behind a load balancer share them.

The same tables and behaviour as the SQLite store (sessions, delivery ids, remembered keys).
A turn runs in one transaction on one pooled connection and first takes a
transaction-scoped advisory lock on the conversation key: a second turn for the same
conversation, on any instance, waits until the first has committed and then sees its
result. Advisory rather than row locks, because a
conversation's first turn has no row to lock yet. If the lock is not granted within
``timeout`` seconds, or the server cannot be reached, the turn raises StoreUnavailable and
nothing of it is kept.

psycopg (3) and psycopg_pool are imported when a store is opened: they come with the
``postgres`` extra, and everything else works without them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from bot.dialogue.session import Session, SessionUnreadable
from bot.dialogue.store import (
    _REMEMBER,
    SAFETY_NOTE_SECONDS,
    StoreError,
    StoreUnavailable,
    _readable,
    check_remembered,
    new_key,
)

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

__all__ = ["PostgresStore"]

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS sessions (
        key TEXT PRIMARY KEY,
        data TEXT NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL,
        version INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX IF NOT EXISTS sessions_updated_at ON sessions (updated_at)",
    """CREATE TABLE IF NOT EXISTS seen_events (
        key TEXT PRIMARY KEY,
        seen_at DOUBLE PRECISION NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS remembered (
        namespace TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        expires_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (namespace, key),
        UNIQUE (namespace, value)
    )""",
    "CREATE INDEX IF NOT EXISTS remembered_expires_at ON remembered (expires_at)",
    """CREATE TABLE IF NOT EXISTS safety_notes (
        key TEXT PRIMARY KEY,
        note TEXT NOT NULL,
        noted_at DOUBLE PRECISION NOT NULL
    )""",
)
_SCHEMA_LOCK = 0x70726F746F626F74  # "protobot": instances starting together create tables once


class _RolledBack(Exception):
    """Internal: a statement of the turn failed, so the turn's transaction is abandoned."""


def _where(url: str) -> str:
    """The server a URL names, without its password, for messages and logs."""
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path or ''}"


# SQLSTATEs that no retry clears: the operator has to act
_PERMANENT = {
    "42501": "permission denied",
    "25006": "read-only transaction",
    "53100": "disk full",
    "XX001": "corrupt data",
    "XX002": "corrupt index",
    "42P01": "missing table",
}


def postgres_fault(exc: BaseException, message: str) -> StoreUnavailable:
    """The StoreUnavailable a psycopg or pool error means, classed permanent or passing."""
    state = getattr(exc, "sqlstate", None) or ""
    if state in _PERMANENT:
        return StoreUnavailable(message, _PERMANENT[state], permanent=True)
    return StoreUnavailable(message, "connection" if state[:2] in {"", "08"} else "unavailable")


def reason(exc: BaseException) -> str:
    """The server's message on one line: its primary text, without the statement it quotes
    ("LINE 1: ...") or libpq's hints on further lines."""
    diag = getattr(exc, "diag", None)
    text = getattr(diag, "message_primary", None) or str(exc) or type(exc).__name__
    return " ".join(text.split())


class PostgresStore:
    """The SQLite store's interface over a PostgreSQL database (``postgresql://`` URL)."""

    def __init__(
        self,
        url: str,
        idle_seconds: float = 30 * 60,
        clock: Callable[[], float] = time.time,
        *,
        timeout: float = 5.0,
        max_connections: int = 10,
    ) -> None:
        try:
            import psycopg
            from psycopg_pool import ConnectionPool, PoolTimeout
        except ImportError as exc:
            raise StoreError(
                "PROTOCOLBOT_DATABASE names a PostgreSQL server but the PostgreSQL driver is "
                "not installed: pip install 'protocol-bot[postgres]'"
            ) from exc
        self.url = url
        self.where = _where(url)
        self.idle_seconds = idle_seconds
        self.clock = clock
        self.timeout = timeout
        self._errors: tuple[type[Exception], ...] = (psycopg.Error, PoolTimeout)
        self._local = threading.local()
        wait_ms = int(timeout * 1000)

        def configure(conn: psycopg.Connection[Any]) -> None:
            # a turn waits this long for another turn's lock; a transaction left open by a
            # stuck instance is ended by the server so it cannot hold a conversation forever
            conn.execute(f"SET lock_timeout = {wait_ms}")
            conn.execute("SET statement_timeout = 30000")
            conn.execute("SET idle_in_transaction_session_timeout = 60000")

        options: dict[str, Any] = {
            "autocommit": True,
            "connect_timeout": max(2, round(timeout)),
            # a server gone from the network is noticed in seconds, not TCP's minutes
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 5,
            "keepalives_count": 3,
        }
        # the tables are made on a connection of our own before the pool starts: a server
        # that cannot be reached, a refused password or a role without privileges is then
        # reported as the server put it, once, not as a pool time-out after retries
        try:
            with psycopg.connect(url, **options) as conn:
                configure(conn)
                with conn.transaction():
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                    for statement in _SCHEMA:
                        conn.execute(statement)
        except psycopg.Error as exc:
            raise StoreUnavailable(f"cannot use PostgreSQL at {self.where}: {reason(exc)}") from exc
        self._pool: ConnectionPool[Any] = ConnectionPool(
            url,
            min_size=1,
            max_size=max_connections,
            kwargs=options,
            configure=configure,
            check=ConnectionPool.check_connection,
            timeout=timeout,
            name="protocolbot-sessions",
            open=True,
        )

    # --- connections -------------------------------------------------------------------
    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        held = getattr(self._local, "conn", None)
        if held is not None:  # inside this thread's turn: its transaction
            yield held
            return
        with self._pool.connection() as conn:
            yield conn

    def _run(self, sql: str, args: tuple[object, ...] = ()) -> tuple[list[Any], int]:
        """One statement: committed at once, or part of the turn this thread holds."""
        try:
            with self._connection() as conn:
                cursor = conn.execute(sql, args)
                rows = cursor.fetchall() if cursor.description else []
                return rows, cursor.rowcount
        except self._errors as exc:
            if getattr(self._local, "conn", None) is not None:
                self._local.failed = True
            raise postgres_fault(exc, f"PostgreSQL at {self.where}: {exc}") from exc

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection (autocommit) of its own, never a turn's: for the audit log,
        which lives in this database and shares this pool. Errors are psycopg's."""
        with self._pool.connection() as conn:
            yield conn

    @property
    def errors(self) -> tuple[type[Exception], ...]:
        """The exceptions a failed connection or statement raises (psycopg's, the pool's)."""
        return self._errors

    @contextmanager
    def turn(self, key: str) -> Iterator[None]:
        """Hold conversation ``key`` for one turn, in one transaction."""
        if getattr(self._local, "conn", None) is not None:  # already inside this turn
            yield
            return
        try:
            with self._pool.connection() as conn:
                self._local.conn, self._local.failed = conn, False
                try:
                    with conn.transaction():
                        conn.execute(
                            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (key,)
                        )
                        yield
                        if self._local.failed:
                            raise _RolledBack
                finally:
                    self._local.conn = None
        except _RolledBack:
            return  # the turn has already told its user to try again; nothing was kept
        except self._errors as exc:
            raise postgres_fault(exc, f"PostgreSQL at {self.where}: {exc}") from exc

    # --- the SessionStore interface ----------------------------------------------------
    def load(self, key: str) -> tuple[Session | None, bool]:
        """The session, and whether one existed but had expired (and is now deleted)."""
        rows, _ = self._run("SELECT data, updated_at FROM sessions WHERE key = %s", (key,))
        if not rows:
            return None, False
        data, updated_at = rows[0]
        if self.clock() - updated_at > self.idle_seconds:
            self.delete(key)
            return None, True
        try:
            return Session.from_json(data), False
        except SessionUnreadable:
            self.delete(key)  # with the turn: kept deleted only if the turn is saved
            raise

    def open_sessions(self) -> Iterator[Session | None]:
        rows, _ = self._run(
            "SELECT data FROM sessions WHERE updated_at >= %s", (self.clock() - self.idle_seconds,)
        )
        yield from _readable(data for (data,) in rows)

    def save(self, session: Session) -> None:
        session.updated_at = self.clock()
        session.version += 1
        self._run(
            "INSERT INTO sessions (key, data, updated_at, version) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (key) DO UPDATE SET data = excluded.data, "
            "updated_at = excluded.updated_at, version = excluded.version",
            (session.key, session.to_json(), session.updated_at, session.version),
        )

    def delete(self, key: str) -> None:
        self._run("DELETE FROM sessions WHERE key = %s", (key,))

    def expire(self) -> int:
        """Delete every idle session, and delivery ids and remembered keys past their time;
        returns how many sessions went."""
        now = self.clock()
        _, gone = self._run(
            "DELETE FROM sessions WHERE updated_at < %s", (now - self.idle_seconds,)
        )
        self._run("DELETE FROM seen_events WHERE seen_at < %s", (now - 86400,))
        self._run("DELETE FROM remembered WHERE expires_at < %s", (now,))
        self._run("DELETE FROM safety_notes WHERE noted_at < %s", (now - SAFETY_NOTE_SECONDS,))
        return gone

    def first_time(self, key: str) -> bool:
        """Record an event id; False if any instance recorded it before (a platform retry)."""
        _, added = self._run(
            "INSERT INTO seen_events (key, seen_at) VALUES (%s, %s) ON CONFLICT (key) DO NOTHING",
            (key, self.clock()),
        )
        return added == 1

    def remember(self, namespace: str, value: str, ttl_seconds: float) -> str:
        """A short random key for ``value``, the same on every instance while it is kept;
        see :meth:`bot.dialogue.store.SessionStore.remember`."""
        check_remembered(namespace, value, ttl_seconds)
        now = self.clock()
        rows, _ = self._run(
            _REMEMBER.format(p="%s", greatest="GREATEST"),
            (namespace, new_key(), value, now + ttl_seconds, now),
        )
        return str(rows[0][0])

    def recall(self, namespace: str, key: str) -> str | None:
        """The value ``key`` stands for in ``namespace``; None if unknown or expired."""
        if "\x00" in namespace or "\x00" in key:
            return None  # never stored (PostgreSQL text cannot hold NUL)
        rows, _ = self._run(
            "SELECT value FROM remembered WHERE namespace = %s AND key = %s AND expires_at >= %s",
            (namespace, key, self.clock()),
        )
        return str(rows[0][0]) if rows else None

    def keep_safety_note(self, key: str, note: str) -> None:
        """Keep a safety note past the session; see
        :meth:`bot.dialogue.store.SessionStore.keep_safety_note`."""
        self._run(
            "INSERT INTO safety_notes (key, note, noted_at) VALUES (%s, %s, %s) "
            "ON CONFLICT (key) DO UPDATE SET note = excluded.note, noted_at = excluded.noted_at",
            (key, note, self.clock()),
        )

    def safety_note(self, key: str) -> str | None:
        rows, _ = self._run(
            "SELECT note FROM safety_notes WHERE key = %s AND noted_at >= %s",
            (key, self.clock() - SAFETY_NOTE_SECONDS),
        )
        return str(rows[0][0]) if rows else None

    def drop_safety_note(self, key: str) -> None:
        self._run("DELETE FROM safety_notes WHERE key = %s", (key,))

    def close(self) -> None:
        self._pool.close()
