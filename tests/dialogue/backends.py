"""The two session-store backends the store and audit tests run on, SQLite and PostgreSQL.

A backend opens stores on one database (as separate bot instances would) and closes them at
the end. Each test module subclasses these with the raw readers it needs (reading past the
store) and makes its ``backend`` fixture with :func:`backend_fixture`.

The PostgreSQL backend needs a server: set PROTOCOLBOT_TEST_POSTGRES_URL (see
tests/dialogue/test_store.py); without it its cases are skipped. It works on a schema of
its own, from the shared ``postgres_schema`` fixture, which drops it afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.dialogue import PostgresStore, SqliteStore


class Backend:
    """One database: stores opened on it (as bot instances would), closed at the end."""

    name = ""
    setting = ""  # what PROTOCOLBOT_DATABASE / --database would say

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.opened: list[Any] = []

    def open(self, **kw: Any) -> Any:
        raise NotImplementedError

    def close(self) -> None:
        for store in self.opened:
            store.close()


class SqliteBackend(Backend):
    name = "sqlite"

    def __init__(self, clock: Callable[[], float], path: Path) -> None:
        super().__init__(clock)
        self.path = path
        self.setting = str(path)

    def open(self, **kw: Any) -> SqliteStore:
        store = SqliteStore(self.path, clock=self.clock, **kw)
        self.opened.append(store)
        return store


class PostgresBackend(Backend):
    """On a schema of its own (the shared ``postgres_schema`` fixture, which drops it)."""

    name = "postgres"

    def __init__(self, clock: Callable[[], float], schema: Any) -> None:
        super().__init__(clock)
        self.schema = schema.name
        self.admin = schema.admin
        self.url = schema.url
        self.setting = schema.url

    def open(self, **kw: Any) -> PostgresStore:
        store = PostgresStore(self.url, clock=self.clock, **kw)
        self.opened.append(store)
        return store


def backend_fixture(sqlite: type[SqliteBackend], postgres: type[PostgresBackend]) -> Any:
    """A test module's ``backend`` fixture, run once per backend (``[sqlite]``,
    ``[postgres]``) with that module's subclasses: assign it to a module-level name."""

    @pytest.fixture(params=["sqlite", "postgres"], name="backend")
    def backend(
        request: pytest.FixtureRequest, db_path: Path, clock: Callable[[], float]
    ) -> Iterator[Backend]:
        chosen: Backend
        if request.param == "sqlite":
            chosen = sqlite(clock, db_path)
        else:
            chosen = postgres(clock, request.getfixturevalue("postgres_schema"))
        yield chosen
        chosen.close()

    return backend
