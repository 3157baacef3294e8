"""Where sessions live between turns: SQLite (WAL) by default, so they survive a restart.

A database URL (``postgresql://...``) selects the PostgreSQL store instead
(``bot.dialogue.store_postgres``), so several bot instances share sessions, the record of
deliveries already seen and the short keys a channel hands out for longer values
(:meth:`SessionStore.remember`, e.g. the keys in Telegram's buttons). Both stores hold a
conversation for a whole turn (:meth:`turn`): two clicks on the same button are worked
through one after the other, never both against the same starting point, and a turn's
writes are committed together or not at all.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path
from typing import Any, Protocol

from bot.dialogue.session import Session, SessionUnreadable


class StoreError(Exception):
    """The session store cannot be opened as configured (a bad URL, a missing driver)."""


class StoreUnavailable(StoreError):
    """The store could not be read or written.

    ``fault`` names the class of reason for logs and operators (never the statement or any
    data); ``permanent`` is True for a fault that retrying will not clear (a corrupt or
    read-only database, a full disk, missing privileges), False for one that may (a lock held
    by another turn, a dropped connection): only then is the user told to try again."""

    def __init__(self, message: str, fault: str = "unavailable", permanent: bool = False) -> None:
        super().__init__(message)
        self.fault = fault
        self.permanent = permanent


# SQLite's primary result codes (sqlite3.Error.sqlite_errorname) that no retry clears
_SQLITE_PERMANENT = {
    "SQLITE_CORRUPT": "corrupt database",
    "SQLITE_NOTADB": "not a database",
    "SQLITE_READONLY": "read-only database",
    "SQLITE_FULL": "disk full",
    "SQLITE_CANTOPEN": "cannot open the database file",
    "SQLITE_PERM": "permission denied",
    "SQLITE_AUTH": "permission denied",
    "SQLITE_IOERR": "input/output error",
}


def sqlite_fault(exc: sqlite3.Error, message: str | None = None) -> StoreUnavailable:
    """The StoreUnavailable a SQLite error means, classed permanent or passing."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    primary = next((k for k in _SQLITE_PERMANENT if name.startswith(k)), None)
    if primary is not None:
        return StoreUnavailable(message or str(exc), _SQLITE_PERMANENT[primary], permanent=True)
    fault = "locked" if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) else "unavailable"
    return StoreUnavailable(message or str(exc), fault)


class SessionStore(Protocol):
    def turn(self, key: str) -> AbstractContextManager[None]:
        """Hold conversation ``key`` until the block ends; its writes commit together at the
        end (or not at all if it raises). Raises StoreUnavailable if it cannot be held."""
        ...

    def load(self, key: str) -> tuple[Session | None, bool]: ...
    def save(self, session: Session) -> None: ...
    def delete(self, key: str) -> None: ...
    def expire(self) -> int: ...

    def open_sessions(self) -> Iterator[Session | None]:
        """Every stored session not yet idle too long (None for one that cannot be read),
        for checking an edit of the flows against the conversations it would interrupt."""
        ...

    def first_time(self, key: str) -> bool: ...

    def remember(self, namespace: str, value: str, ttl_seconds: float) -> str:
        """A short random key that stands for ``value`` in ``namespace`` (12 URL-safe
        characters, 72 random bits), kept for at least ``ttl_seconds`` from now.

        The same value gets the same key for as long as it is kept, on every instance that
        shares the database: remembering it again only pushes its expiry back. Once expired
        (or swept by :meth:`expire`), a value gets a new key and the old one means nothing.
        Values are short (at most 1,024 bytes of UTF-8) and are not secret from whoever can
        read the database: keep identifiers and actions in them, never what a user typed."""
        ...

    def recall(self, namespace: str, key: str) -> str | None:
        """The value ``key`` stands for in ``namespace``; None if unknown or expired."""
        ...

    def keep_safety_note(self, key: str, note: str) -> None:
        """Keep conversation ``key``'s safety note (bot/dialogue/safety.py: that a risk to a
        child was signalled, and where the concern must go; nothing about the case) for
        SAFETY_NOTE_SECONDS, past the deletion of its session, so a user who comes back after
        the session expired is still shown where the concern must go."""
        ...

    def safety_note(self, key: str) -> str | None: ...
    def drop_safety_note(self, key: str) -> None: ...
    def close(self) -> None: ...


MAX_REMEMBERED = 1024  # bytes of UTF-8 in a remembered value: short, and fits any index
SAFETY_NOTE_SECONDS = 14 * 86400  # how long a safety note outlives its conversation


def new_key() -> str:
    """A key for :meth:`SessionStore.remember`: 12 URL-safe characters, 72 random bits."""
    return secrets.token_urlsafe(9)


def check_remembered(namespace: str, value: str, ttl_seconds: float) -> None:
    """What both stores accept for :meth:`SessionStore.remember`; ValueError otherwise."""
    if not namespace:
        raise ValueError("remember: the namespace is empty")
    if "\x00" in namespace or "\x00" in value:
        raise ValueError("remember: NUL characters cannot be stored")
    if len(value.encode("utf-8", "surrogatepass")) > MAX_REMEMBERED:
        raise ValueError(f"remember: the value is over {MAX_REMEMBERED} bytes")
    if not ttl_seconds > 0:
        raise ValueError("remember: ttl_seconds must be positive")


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
        _check_port(url)
        return PostgresStore(url, idle_seconds=idle_seconds, clock=clock)
    if scheme not in {"", "sqlite"}:
        raise StoreError(
            f"PROTOCOLBOT_DATABASE: unsupported database URL scheme {scheme!r}; use a file "
            "path, sqlite:///path or postgresql://user:password@host:port/dbname"
        )
    path = sqlite_path(text)
    if path is None:  # "sqlite://file": two slashes would make a file named like a URL
        raise StoreError(
            f"PROTOCOLBOT_DATABASE: a SQLite URL has three slashes before its path "
            f"(sqlite:///relative/file or sqlite:////absolute/file), not {text!r}"
        )
    return SqliteStore(path, idle_seconds=idle_seconds, clock=clock)


def _check_port(url: str) -> None:
    """A port that is not a number is the operator's typo: say so in a line (urllib would
    raise deep inside the first connection attempt), without echoing the password."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - reading it is the check
    except ValueError:
        port = parts.netloc.rpartition("@")[2].rpartition(":")[2]
        raise StoreError(
            f"PROTOCOLBOT_DATABASE: the port {port!r} in the PostgreSQL URL is not a number "
            "from 1 to 65535 (postgresql://user:password@host:port/dbname)"
        ) from None


def _readable(rows: Iterable[str | bytes]) -> Iterator[Session | None]:
    for data in rows:
        try:
            yield Session.from_json(data)
        except SessionUnreadable:
            yield None


def sqlite_path(database: str | Path) -> str | None:
    """What SQLite opens for a database setting: the path of a file path or of a
    ``sqlite:///path`` URL, or ``:memory:``; None for any other URL (``postgresql://...``).

    The scheme may be written in any case ("SQLite:///file").
    """
    text = str(database)
    if "://" not in text:
        return text
    if text[: len("sqlite:///")].lower() != "sqlite:///":
        return None
    return text[len("sqlite:///") :]


def private_file(path: str | Path) -> None:
    """Create a database file readable by this user only (its folder too, if new); SQLite
    gives the -wal and -shm files the database file's permissions."""
    file = Path(path)
    file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with suppress(FileExistsError):  # an existing file keeps the permissions it has
        os.close(os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def open_sqlite(
    path: str,
    *,
    timeout: float,
    setup: Callable[[sqlite3.Connection], object],
    error: Callable[[object], Exception],
) -> sqlite3.Connection:
    """A connection to a SQLite database for the session store or the audit log: the file
    made with :func:`private_file` (unless ``:memory:``), autocommit, shared by threads, in
    WAL mode and with secure_delete on (deleted rows are overwritten); then ``setup`` runs
    on it. If any of that fails (not a database, a folder we may not write...) the
    connection is closed and ``error(reason)`` raised, ``reason`` being the system's message
    for an OSError and SQLite's exception otherwise."""
    db: sqlite3.Connection | None = None
    try:
        if path != ":memory:":
            private_file(path)
        db = sqlite3.connect(path, check_same_thread=False, timeout=timeout, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA secure_delete=ON")
        setup(db)
    except (sqlite3.Error, OSError) as exc:
        if db is not None:
            db.close()
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise error(reason) from exc
    return db


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
CREATE TABLE IF NOT EXISTS remembered (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (namespace, key),
    UNIQUE (namespace, value)
);
CREATE INDEX IF NOT EXISTS remembered_expires_at ON remembered (expires_at);
CREATE TABLE IF NOT EXISTS safety_notes (
    key TEXT PRIMARY KEY,
    note TEXT NOT NULL,
    noted_at REAL NOT NULL
);
"""

# remember: one statement, so two instances remembering one value at once get one key; an
# expired row (not yet swept) is given a new key rather than brought back to life
_REMEMBER = (
    "INSERT INTO remembered (namespace, key, value, expires_at) VALUES ({p}, {p}, {p}, {p}) "
    "ON CONFLICT (namespace, value) DO UPDATE SET "
    "key = CASE WHEN remembered.expires_at < {p} THEN excluded.key ELSE remembered.key END, "
    "expires_at = {greatest}(remembered.expires_at, excluded.expires_at) "
    "RETURNING key"
)


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
        self.idle_seconds = idle_seconds
        self.timeout = timeout
        self._lock = threading.RLock()
        self._in_turn = False  # the thread holding _lock is inside a turn
        self._failed = False  # a statement of the current turn failed: roll it back

        def setup(db: sqlite3.Connection) -> None:
            # FULL: a turn's commit reaches the disk before its replies are shown, so a power
            # cut never loses an answer or a draft the user has seen (about half a
            # millisecond a turn); NORMAL could lose the last turns before a checkpoint
            db.execute("PRAGMA synchronous=FULL")
            db.executescript(_SCHEMA)

        def error(reason: object) -> StoreUnavailable:
            return StoreUnavailable(f"cannot use the SQLite database {self.path}: {reason}")

        self._db = open_sqlite(self.path, timeout=timeout, setup=setup, error=error)

    def _run(self, sql: str, args: tuple[object, ...] = ()) -> tuple[list[Any], int]:
        """One statement, its rows and how many rows it changed: committed at once, or part
        of the turn this thread holds. The rows are read under the lock: a RETURNING
        statement is only finished (and, outside a turn, committed) once all are read."""
        with self._lock:
            try:
                cursor = self._db.execute(sql, args)
                return cursor.fetchall(), cursor.rowcount
            except sqlite3.Error as exc:
                self._failed = self._in_turn
                raise sqlite_fault(exc) from exc

    def _rows(self, sql: str, args: tuple[object, ...] = ()) -> list[Any]:
        """One statement and all its rows (see :meth:`_run`)."""
        return self._run(sql, args)[0]

    @contextmanager
    def turn(self, key: str) -> Iterator[None]:
        """Hold the database for one turn (``key`` is not needed: SQLite has one writer)."""
        # threads of this process queue here; a turn takes milliseconds, so a long wait
        # means something is stuck and the user is better told to try again
        if not self._lock.acquire(timeout=max(30.0, self.timeout)):
            raise StoreUnavailable("timed out waiting for other turns in this process", "locked")
        try:
            if self._in_turn:  # already inside this thread's turn
                yield
                return
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:  # another process holds the write lock
                raise sqlite_fault(exc) from exc
            self._in_turn, self._failed = True, False
            try:
                yield
            except BaseException:
                self._rollback()
                raise
            finally:
                self._in_turn = False
            if self._failed:
                self._rollback()
                return
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise sqlite_fault(exc) from exc
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
        rows = self._rows("SELECT data, updated_at FROM sessions WHERE key = ?", (key,))
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
        rows = self._rows(
            "SELECT data FROM sessions WHERE updated_at >= ?", (self.clock() - self.idle_seconds,)
        )
        yield from _readable(data for (data,) in rows)

    def save(self, session: Session) -> None:
        session.updated_at = self.clock()
        session.version += 1
        self._run(
            "INSERT INTO sessions (key, data, updated_at, version) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET data = excluded.data, "
            "updated_at = excluded.updated_at, version = excluded.version",
            (session.key, session.to_json(), session.updated_at, session.version),
        )

    def delete(self, key: str) -> None:
        self._run("DELETE FROM sessions WHERE key = ?", (key,))

    def expire(self) -> int:
        """Delete every idle session, and delivery ids and remembered keys past their time;
        returns how many sessions went."""
        now = self.clock()
        cutoff = now - self.idle_seconds
        _, gone = self._run("DELETE FROM sessions WHERE updated_at < ?", (cutoff,))
        self._run("DELETE FROM seen_events WHERE seen_at < ?", (now - 86400,))
        self._run("DELETE FROM remembered WHERE expires_at < ?", (now,))
        self._run("DELETE FROM safety_notes WHERE noted_at < ?", (now - SAFETY_NOTE_SECONDS,))
        return int(gone)

    def first_time(self, key: str) -> bool:
        """Record an event id; False if it was recorded before (a platform retry)."""
        _, added = self._run(
            "INSERT OR IGNORE INTO seen_events (key, seen_at) VALUES (?, ?)", (key, self.clock())
        )
        return added == 1

    def remember(self, namespace: str, value: str, ttl_seconds: float) -> str:
        """A short random key for ``value``; see :meth:`SessionStore.remember`."""
        check_remembered(namespace, value, ttl_seconds)
        now = self.clock()
        rows = self._rows(
            _REMEMBER.format(p="?", greatest="max"),
            (namespace, new_key(), value, now + ttl_seconds, now),
        )
        return str(rows[0][0])

    def recall(self, namespace: str, key: str) -> str | None:
        """The value ``key`` stands for in ``namespace``; None if unknown or expired."""
        rows = self._rows(
            "SELECT value FROM remembered WHERE namespace = ? AND key = ? AND expires_at >= ?",
            (namespace, key, self.clock()),
        )
        return str(rows[0][0]) if rows else None

    def keep_safety_note(self, key: str, note: str) -> None:
        """Keep a safety note past the session; see :meth:`SessionStore.keep_safety_note`."""
        self._run(
            "INSERT INTO safety_notes (key, note, noted_at) VALUES (?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET note = excluded.note, noted_at = excluded.noted_at",
            (key, note, self.clock()),
        )

    def safety_note(self, key: str) -> str | None:
        rows = self._rows(
            "SELECT note FROM safety_notes WHERE key = ? AND noted_at >= ?",
            (key, self.clock() - SAFETY_NOTE_SECONDS),
        )
        return str(rows[0][0]) if rows else None

    def drop_safety_note(self, key: str) -> None:
        self._run("DELETE FROM safety_notes WHERE key = ?", (key,))

    def close(self) -> None:
        with self._lock:
            self._db.close()
