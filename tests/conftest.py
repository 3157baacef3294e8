"""Shared fixtures: the real knowledge base, flows and engine, on a temporary SQLite file."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bot.cli import app
from bot.dialogue import Engine, SqliteStore, open_engine
from bot.kb.directory import DIRECTORY_FILE, Directory, load_directory
from bot.paths import knowledge_dir


def pytest_configure(config: pytest.Config) -> None:
    # the look-up index cache goes to a throwaway folder, not the user's home
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
        # dates typed in a scenario are reckoned from the test clock's day, not the real one
        return open_engine(
            store=store, today=lambda: dt.datetime.fromtimestamp(clock(), dt.UTC).date()
        )

    return make


@pytest.fixture
def engine(make_engine: Callable[..., Engine]) -> Engine:
    return make_engine()


@pytest.fixture(scope="session")
def knowledge() -> Path:
    return knowledge_dir()


@pytest.fixture(scope="session")
def directory(knowledge: Path) -> Directory:
    """The real local authority directory, loaded once."""
    return load_directory(knowledge / DIRECTORY_FILE)


@pytest.fixture
def cli() -> Callable[..., Result]:
    """Run `protocolbot ARGS` in-process, as an administrator would from a shell."""
    runner = CliRunner()

    def run(args: Sequence[str], knowledge: Path | None = None, stdin: str | None = None) -> Result:
        env = {"PROTOCOLBOT_KNOWLEDGE": str(knowledge or knowledge_dir())}
        return runner.invoke(app, list(args), env=env, input=stdin)

    return run


class PostgresSchema:
    """A fresh schema on the test server, and the URL that puts a store's tables in it."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.name = f"test_{uuid.uuid4().hex[:12]}"
        self.admin = psycopg.connect(url, autocommit=True)
        self.admin.execute(f"CREATE SCHEMA {self.name}")
        glue = "&" if "?" in url else "?"
        # application_name marks the connections the stores open, so a test can count them
        self.url = f"{url}{glue}options=-csearch_path%3D{self.name}&application_name={self.name}"

    def connections(self) -> int:
        """Connections the stores on this schema hold open."""
        row = self.admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (self.name,)
        ).fetchone()
        return int(row[0]) if row else 0

    def drop(self) -> None:
        self.admin.execute(f"DROP SCHEMA {self.name} CASCADE")
        self.admin.close()


@pytest.fixture
def postgres_url() -> str:
    """The test server PROTOCOLBOT_TEST_POSTGRES_URL names. Skips without it (fails instead
    with PROTOCOLBOT_REQUIRE_POSTGRES=1, as `.ci/run` sets); tests/dialogue/test_store.py
    says what the server needs."""
    url = os.environ.get("PROTOCOLBOT_TEST_POSTGRES_URL", "")
    required = os.environ.get("PROTOCOLBOT_REQUIRE_POSTGRES") == "1"
    if not url:
        if required:
            pytest.fail("PROTOCOLBOT_REQUIRE_POSTGRES=1 but PROTOCOLBOT_TEST_POSTGRES_URL is unset")
        pytest.skip(
            "needs a PostgreSQL server: set PROTOCOLBOT_TEST_POSTGRES_URL="
            "postgresql://user:password@127.0.0.1:port/dbname (.ci/run starts one)"
        )
    try:
        import psycopg  # noqa: F401
    except ImportError:
        if required:
            raise
        pytest.skip("psycopg is not installed: pip install -e '.[dev]'")
    return url


@pytest.fixture
def postgres_schema(postgres_url: str) -> Iterator[PostgresSchema]:
    """A schema of its own on the test server, dropped after the test."""
    schema = PostgresSchema(postgres_url)
    yield schema
    schema.drop()
