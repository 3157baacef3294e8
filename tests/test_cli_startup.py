"""A database the bot cannot use at start-up is one clear line from every command that opens
it, never a traceback: the session store or the audit log, SQLite or PostgreSQL.

The PostgreSQL cases need PROTOCOLBOT_TEST_POSTGRES_URL (see tests/dialogue/test_store.py)
and skip without it.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from bot.cli import app

TELEGRAM_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"

# every command that opens the database; the serve commands get settings good enough to
# reach it, and fail there, before anything is served
COMMANDS = {
    "chat": ["chat"],
    "serve slack": ["serve", "slack", "--http", "--port", "0"],
    "serve telegram": ["serve", "telegram"],
    "audit export": ["audit", "export", "--since", "2026-01-01"],
    "purge": ["purge"],
}


def run(args: list[str], database: str, monkeypatch: pytest.MonkeyPatch) -> Result:
    for name in ("DATABASE_URL", "TELEGRAM_WEBHOOK_URL", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PROTOCOLBOT_DATABASE", database)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-0000-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "test-signing-secret")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TELEGRAM_TOKEN)
    monkeypatch.setenv("TELEGRAM_ALLOWED_USERS", "1001")
    return CliRunner().invoke(app, args, input="hello\n")


def none_left_open(schema: Any) -> bool:
    """No connection of the stores is left (a closed one may take a moment to go)."""
    for _ in range(50):
        if schema.connections() == 0:
            return True
        time.sleep(0.05)
    return False


def one_clear_line(result: Result, *says: str) -> str:
    assert result.exit_code in (1, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for words in says:
        assert words in lines[0], lines[0]
    return lines[0]


@pytest.fixture(params=list(COMMANDS), ids=list(COMMANDS))
def command(request: pytest.FixtureRequest) -> list[str]:
    return COMMANDS[request.param]


# --- SQLite ------------------------------------------------------------------------------
def test_a_file_that_is_not_a_database(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bogus = tmp_path / "sessions.sqlite3"
    bogus.write_text("not a database, just some notes\n" * 100)
    result = run(command, str(bogus), monkeypatch)
    one_clear_line(result, "file is not a database", str(bogus))


@pytest.mark.parametrize("name", ["chat", "serve slack", "serve telegram"])
def test_a_database_under_a_file(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(purge and audit export only read a database that exists: they say there is none.)"""
    (tmp_path / "state").write_text("a file where a folder should be")
    where = tmp_path / "state" / "sessions.sqlite3"
    result = run(COMMANDS[name], str(where), monkeypatch)
    one_clear_line(result, "cannot use the SQLite database", str(where))


def test_an_audit_log_that_cannot_be_opened_sqlite(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sessions open, the audit log does not (something else took its table's name)."""
    path = tmp_path / "sessions.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE VIEW audit_events AS SELECT 1 AS id")
    result = run(command, str(path), monkeypatch)
    one_clear_line(result, "cannot open the audit log")


# --- PostgreSQL ----------------------------------------------------------------------------
def test_a_role_without_privileges(
    command: list[str], postgres_schema: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The role may not create the tables: the server's reason, without the password, and
    no connection left behind."""
    postgres_schema.admin.execute(f"REVOKE CREATE ON SCHEMA {postgres_schema.name} FROM PUBLIC")
    postgres_schema.admin.execute(
        f"REVOKE CREATE ON SCHEMA {postgres_schema.name} FROM CURRENT_USER"
    )
    result = run(command, postgres_schema.url, monkeypatch)
    line = one_clear_line(result, "permission denied for schema", "127.0.0.1")
    password = postgres_schema.url.split("@", 1)[0].rsplit(":", 1)[-1]
    assert password not in line
    assert none_left_open(postgres_schema)


def test_an_audit_log_that_cannot_be_opened_postgres(
    command: list[str], postgres_schema: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    postgres_schema.admin.execute(
        f"CREATE VIEW {postgres_schema.name}.audit_events AS SELECT 1 AS id"
    )
    result = run(command, postgres_schema.url, monkeypatch)
    one_clear_line(result, "cannot open the audit log", "127.0.0.1")
    assert none_left_open(postgres_schema)  # the store's pool was closed again
