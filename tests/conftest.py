"""Shared fixtures: the real knowledge base, flows and engine, on a temporary SQLite file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.dialogue import Engine, SqliteStore, open_engine
from bot.paths import knowledge_dir


def pytest_configure(config: pytest.Config) -> None:
    # the look-up index cache goes to a throwaway folder, not the user's home
    import os
    import tempfile

    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="protocolbot-test-cache-")


class Clock:
    """A clock tests can move forward, so expiry needs no sleeping."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "sessions.sqlite3"


@pytest.fixture
def make_engine(db_path: Path, clock: Clock) -> Callable[..., Engine]:
    """A fresh engine (as after a process restart) on the same database file each call."""

    def make(idle_minutes: int = 30) -> Engine:
        store = SqliteStore(db_path, idle_seconds=idle_minutes * 60, clock=clock)
        return open_engine(store=store)

    return make


@pytest.fixture
def engine(make_engine: Callable[..., Engine]) -> Engine:
    return make_engine()


@pytest.fixture(scope="session")
def knowledge() -> Path:
    return knowledge_dir()
