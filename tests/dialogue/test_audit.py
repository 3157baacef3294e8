"""The audit trail: one row per saved turn, structure only, append-only, exported and purged.

The cases that concern the database run on both backends: SQLite, and PostgreSQL when
PROTOCOLBOT_TEST_POSTGRES_URL names a server (see tests/dialogue/test_store.py; `.ci/run`
starts one, and without it those cases are skipped). Each PostgreSQL case gets its own schema.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import backends
import pytest
from typer.testing import CliRunner, Result

from bot.cli import app
from bot.dialogue import (
    AuditEvent,
    Conversation,
    Engine,
    Inbound,
    PostgresStore,
    Reply,
    SqliteAuditLog,
    SqliteStore,
    open_engine,
)
from bot.dialogue.audit import audit_for, write_csv, write_jsonl
from bot.dialogue.store import StoreUnavailable

WHO = Conversation("test", "T0001", "U0001", "D0001")
MARKERS = ("Quillon Fairweather-Marker", "07700 900417", "marker.person@example.org")
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def say(engine: Engine, text: str = "", action: str | None = None) -> list[Reply]:
    return engine.handle(Inbound(WHO, text=text, action=action))


# --- the two backends ----------------------------------------------------------------------
class Backend(backends.Backend):
    """One database: stores opened on it (as bot instances would), and raw access past them."""

    refused: tuple[type[Exception], ...] = ()  # what a refused statement raises

    def store(self, idle_seconds: float = 30 * 60) -> Any:
        return self.open(idle_seconds=idle_seconds)

    def rows(self) -> list[tuple[Any, ...]]:
        """Every audit row, read past the bot, oldest first."""
        raise NotImplementedError

    def execute(self, sql: str) -> None:
        """One statement on a connection of its own, as someone with the database would."""
        raise NotImplementedError


class SqliteBackend(backends.SqliteBackend, Backend):
    refused = (sqlite3.DatabaseError,)

    def rows(self) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.path) as db:
            return db.execute("SELECT * FROM audit_events ORDER BY id").fetchall()

    def execute(self, sql: str) -> None:
        db = sqlite3.connect(self.path, isolation_level=None)
        try:
            db.execute(sql)
        finally:
            db.close()


class PostgresBackend(backends.PostgresBackend, Backend):
    def __init__(self, clock: Callable[[], float], schema: Any) -> None:
        import psycopg

        super().__init__(clock, schema)
        self.refused = (psycopg.Error,)

    def rows(self) -> list[tuple[Any, ...]]:
        return self.admin.execute(
            f"SELECT * FROM {self.schema}.audit_events ORDER BY id"
        ).fetchall()

    def execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.setting, autocommit=True) as db:
            db.execute(sql)


backend = backends.backend_fixture(SqliteBackend, PostgresBackend)


@pytest.fixture
def postgres(clock: Any, postgres_schema: Any) -> Iterator[PostgresBackend]:
    """The PostgreSQL backend alone, for what only it has."""
    chosen = PostgresBackend(clock, postgres_schema)
    yield chosen
    chosen.close()


@pytest.fixture
def make_engine(backend: Backend) -> Callable[..., Engine]:
    """A fresh engine (as after a process restart, or another instance) on the backend's
    database, with the audit log ``audit_for`` picks for its store."""

    def make(idle_minutes: int = 30) -> Engine:
        return open_engine(store=backend.store(idle_seconds=idle_minutes * 60))

    return make


def events(engine: Engine) -> list[AuditEvent]:
    assert engine.audit is not None
    return list(engine.audit.events(EPOCH))


def to_draft(engine: Engine) -> list[Reply]:
    """The advocacy flow to its drafts, with marker text typed at every free-text question."""
    replies = say(engine, "a child needs advocacy")
    typed = iter(MARKERS * 10)
    for _ in range(40):
        last = next(r for r in reversed(replies) if r.kind in {"question", "summary"})
        if last.kind == "summary":
            return say(engine, action="draft:confirm")
        options = [o for o in last.options if o.value.startswith("ans:")]
        if last.step == "explained_on":
            replies = say(engine, "today")
        elif options:
            wanted = "no" if last.step == "risk_of_harm" else "yes"
            choice = next((o for o in options if o.value.endswith(f":{wanted}")), options[0])
            replies = say(engine, action=choice.value)
        else:
            replies = say(engine, next(typed))
    raise AssertionError("no summary reached")


def test_the_audit_log_goes_with_the_store(backend: Backend) -> None:
    from bot.dialogue.audit_postgres import PostgresAuditLog

    audit = audit_for(backend.store())
    kind = PostgresAuditLog if backend.name == "postgres" else SqliteAuditLog
    assert isinstance(audit, kind)
    audit.close()


def test_every_saved_turn_is_recorded_with_structure_only(engine: Engine, backend: Backend) -> None:
    say(engine, "hello")
    drafted = to_draft(engine)
    say(engine, f"? ombudsman {MARKERS[0]}")  # a look-up: its words are not recorded either
    recorded = events(engine)
    assert len(recorded) >= 10
    first = recorded[0]
    assert (first.channel, first.workspace, first.user) == ("test", "T0001", "U0001")
    assert first.at is not None and first.at.tzinfo is not None
    assert "menu" in first.kinds
    assert any("child_advocacy/risk_of_harm" in e.steps for e in recorded)
    assert all(e.flow == "child_advocacy" for e in recorded[1:-1])
    shown = {c.clause_id for r in drafted for c in r.citations}
    last_draft_turn = next(e for e in reversed(recorded) if e.drafts)
    assert shown <= set(last_draft_turn.clauses)
    texts = [r.draft.text for r in drafted if r.draft]
    assert len(texts) == 2
    assert list(last_draft_turn.drafts) == [hashlib.sha256(t.encode()).hexdigest() for t in texts]
    digest_shown = next(r.meta["draft_sha"] for r in drafted if r.draft)
    assert last_draft_turn.drafts[0].startswith(digest_shown)
    assert recorded[-1].kinds and "lookup" in recorded[-1].kinds

    raw = backend.rows()  # every column of every row, as the database holds them
    assert len(raw) == len(recorded)
    for marker in (*MARKERS, "ombudsman"):
        assert marker not in repr(raw)
    if isinstance(backend, SqliteBackend):  # and nowhere in the file's audit statements
        with sqlite3.connect(backend.path) as db:
            dump = "\n".join(db.iterdump())
        audit_part = "\n".join(line for line in dump.splitlines() if "audit_events" in line)
        assert "INSERT INTO" in audit_part
        for marker in (*MARKERS, "ombudsman"):
            assert marker not in audit_part


def test_events_come_back_as_recorded_and_since_a_moment(backend: Backend) -> None:
    audit = audit_for(backend.store())
    assert audit is not None
    at = dt.datetime(2026, 3, 1, 9, 30, 5, tzinfo=dt.UTC)
    full = AuditEvent(
        "slack", "T1", "=HYPERLINK()", "lgo_complaint", ("lgo_complaint/a", "lgo_complaint/b"),
        ("question", "summary"), ("lgo-2016/5",), ("ab" * 32, "cd" * 32), at,
    )  # fmt: skip
    bare = AuditEvent("telegram", "", "42", None, at=at + dt.timedelta(days=1))
    audit.record(full)
    audit.record(bare)
    assert list(audit.events(EPOCH)) == [full, bare]
    assert list(audit.events(at)) == [full, bare]  # "since" includes its own second
    assert list(audit.events(at + dt.timedelta(seconds=1))) == [bare]
    assert list(audit.events(at + dt.timedelta(days=2))) == []
    stamped = AuditEvent("slack", "T1", "U1", None)  # no time: the log stamps it, in UTC
    audit.record(stamped)
    [back] = [e for e in audit.events(EPOCH) if e.user == "U1"]
    assert back.at == dt.datetime.fromtimestamp(backend.clock(), dt.UTC).replace(microsecond=0)
    out = io.StringIO()
    assert write_jsonl(audit.events(EPOCH), out) == 3
    assert json.loads(out.getvalue().splitlines()[0]) == full.as_dict()


def refusals(backend: Backend) -> list[tuple[str, str]]:
    """Statements that would change or remove audit rows, and what the refusal says."""
    if isinstance(backend, SqliteBackend):
        return [
            ("UPDATE audit_events SET user_id = 'someone else'", "append-only"),
            ("DELETE FROM audit_events", "purge"),
            ("DELETE FROM audit_events WHERE id = 1", "purge"),
            ("INSERT OR REPLACE INTO audit_events SELECT * FROM audit_events WHERE id = 1",
             "append-only"),
            ("REPLACE INTO audit_events (id, at, channel, workspace, user_id, flow, steps, kinds,"
             " clauses, drafts) VALUES (2, 'x', 'x', 'x', 'x', NULL, '[]', '[]', '[]', '[]')",
             "append-only"),
        ]  # fmt: skip
    copy_of_row_1 = (
        "INSERT INTO audit_events OVERRIDING SYSTEM VALUE SELECT * FROM audit_events WHERE id = 1"
    )
    return [
        ("UPDATE audit_events SET user_id = 'someone else'", "append-only"),
        ("UPDATE audit_events SET at = at WHERE id = 1", "append-only"),
        ("DELETE FROM audit_events", "purge"),
        ("DELETE FROM audit_events WHERE id = 1", "purge"),
        ("TRUNCATE audit_events", "purge"),
        ("WITH gone AS (DELETE FROM audit_events RETURNING *) SELECT count(*) FROM gone", "purge"),
        # ids are the database's to give: an INSERT cannot take an existing row's place
        ("INSERT INTO audit_events (id, at, channel, workspace, user_id, steps, kinds, clauses,"
         " drafts) VALUES (1, now(), 'x', 'x', 'x', '{}', '{}', '{}', '{}')", "non-DEFAULT"),
        (copy_of_row_1, "duplicate key"),
        (copy_of_row_1 + " ON CONFLICT (id) DO UPDATE SET user_id = 'someone else'",
         "append-only"),
    ]  # fmt: skip


def test_the_audit_table_refuses_updates_deletes_and_overwrites(
    engine: Engine, backend: Backend
) -> None:
    say(engine, "hello")
    say(engine, "a child needs advocacy")
    before = backend.rows()
    assert len(before) == 2
    for sql, says in refusals(backend):
        with pytest.raises(backend.refused, match=says):
            backend.execute(sql)
        assert backend.rows() == before, sql


def test_a_disabled_guard_is_put_back_when_the_log_is_opened(backend: Backend) -> None:
    audit_for(backend.store())
    if isinstance(backend, SqliteBackend):
        backend.execute("INSERT INTO audit_purge (one) VALUES (1)")  # the purge flag, by hand
        backend.execute("DROP TRIGGER audit_events_no_update")
    else:
        backend.execute("ALTER TABLE audit_events DISABLE TRIGGER USER")
        backend.execute("DROP TRIGGER audit_events_no_truncate ON audit_events")
    backend.execute("UPDATE audit_events SET user_id = 'x'")  # no guard: no error
    backend.execute("DELETE FROM audit_events")
    audit = audit_for(backend.store())  # the next instance to start
    assert audit is not None
    audit.record(AuditEvent("slack", "T1", "U1", None))
    with pytest.raises(backend.refused, match="purge"):
        backend.execute("DELETE FROM audit_events")
    with pytest.raises(backend.refused, match="append-only"):
        backend.execute("UPDATE audit_events SET user_id = 'x'")
    if isinstance(backend, PostgresBackend):
        with pytest.raises(backend.refused, match="purge"):
            backend.execute("TRUNCATE audit_events")
    assert len(backend.rows()) == 1


def test_purge_removes_only_rows_older_than_the_cutoff(
    make_engine: Callable[..., Engine], backend: Backend, clock: Any
) -> None:
    engine = make_engine()
    say(engine, "hello")
    clock.advance(3 * 86400)
    say(engine, "hello")
    assert engine.audit is not None
    cutoff = dt.datetime.fromtimestamp(clock(), dt.UTC) - dt.timedelta(days=1)
    assert engine.audit.purge(cutoff) == 1
    [kept] = events(engine)
    assert kept.at is not None and kept.at > cutoff
    assert len(backend.rows()) == 1
    assert engine.audit.purge(cutoff) == 0
    # whatever let the purge through is gone: rows are protected again, on every connection
    with pytest.raises(backend.refused, match="purge"):
        backend.execute("DELETE FROM audit_events")
    if isinstance(backend, SqliteBackend):
        with sqlite3.connect(backend.path) as db:
            assert db.execute("SELECT count(*) FROM audit_purge").fetchone()[0] == 0
    else:
        import psycopg

        store = engine.store
        assert isinstance(store, PostgresStore)
        for _ in range(3):  # the pooled connections the purge ran on are back in the pool
            with store.connection() as conn:
                assert conn.execute(
                    "SELECT current_setting('protocolbot.purging', true)"
                ).fetchone()[0] in (None, "")
                with pytest.raises(psycopg.Error, match="purge"), conn.transaction():
                    conn.execute("DELETE FROM audit_events")
        # and the space of what was deleted is reclaimed now, not when autovacuum comes round
        vacuumed: set[str] = set()
        for _ in range(50):  # statistics may lag a little behind on older servers
            vacuumed = {
                name
                for (name,) in backend.admin.execute(
                    "SELECT relname FROM pg_stat_user_tables "
                    "WHERE schemaname = %s AND last_vacuum IS NOT NULL",
                    (backend.schema,),
                ).fetchall()
            }
            if len(vacuumed) == 5:
                break
            time.sleep(0.1)
        assert vacuumed == {"sessions", "seen_events", "remembered", "safety_notes", "audit_events"}
    assert len(backend.rows()) == 1


def test_instances_starting_together_share_one_trail(postgres: PostgresBackend) -> None:
    """Each instance creates the table, function and triggers if missing; at the same
    moment, that must neither fail nor make two of anything."""
    import threading

    logs: list[Any] = []
    failures: list[BaseException] = []
    start = threading.Barrier(4)

    def open_one() -> None:
        try:
            start.wait()
            logs.append(audit_for(postgres.store()))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not failures and len(logs) == 4
    for n, log in enumerate(logs):
        log.record(AuditEvent("slack", "T1", f"U{n}", None))
    assert sorted(e.user for e in logs[0].events(EPOCH)) == ["U0", "U1", "U2", "U3"]
    triggers = postgres.admin.execute(
        "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass ORDER BY tgname",
        (f"{postgres.schema}.audit_events",),
    ).fetchall()
    assert triggers == [("audit_events_append_only",), ("audit_events_no_truncate",)]


def test_a_vacuum_that_fails_does_not_fail_the_purge(
    postgres: PostgresBackend, caplog: pytest.LogCaptureFixture
) -> None:
    backend = postgres
    store = backend.store()
    audit = audit_for(store)
    assert audit is not None
    audit.record(AuditEvent("slack", "T1", "U1", None, at=EPOCH))
    store.url = "postgresql://bot:hunter2@127.0.0.1:9/gone"  # only the VACUUM connects anew
    with caplog.at_level(logging.WARNING):
        assert audit.purge(EPOCH + dt.timedelta(days=1)) == 1
    assert backend.rows() == []
    assert "VACUUM" in caplog.text and "hunter2" not in caplog.text


def test_an_audit_failure_is_logged_without_content_and_keeps_the_turn(
    make_engine: Callable[..., Engine], caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine()

    class Broken:
        def record(self, event: AuditEvent) -> None:
            raise sqlite3.OperationalError(f"disk I/O error near {MARKERS[0]}")

    engine.audit = Broken()  # type: ignore[assignment]
    say(engine, "a child needs advocacy")
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        replies = say(engine, "no")
    assert replies and all(r.kind != "error" for r in replies)
    assert make_engine().store.load(WHO.key)[0].step == "child_situation"  # type: ignore[union-attr]
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "audit" in record.getMessage() and "OperationalError" in record.getMessage()
    assert MARKERS[0] not in record.getMessage() and record.exc_info is None


def test_a_turn_that_could_not_be_saved_is_not_recorded(engine: Engine, backend: Backend) -> None:
    say(engine, "a child needs advocacy")

    def broken(*_: object) -> None:
        raise StoreUnavailable("database is locked")

    engine.store.save = broken  # type: ignore[method-assign]
    assert say(engine, "no")[-1].kind == "error"
    assert len(backend.rows()) == 1


def test_export_writes_csv_and_json_lines() -> None:
    at = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
    event = AuditEvent(
        "slack", "T1", "=HYPERLINK()", "lgo_complaint", ("lgo_complaint/a",), ("question",),
        ("lgo-2016/5", "lgo-2016/6"), ("ab" * 32,), at,
    )  # fmt: skip
    out = io.StringIO()
    assert write_csv([event], out) == 1
    header, row = list(csv.reader(io.StringIO(out.getvalue())))
    assert header[0] == "time_utc" and row[0] == "2026-03-01T09:30:00Z"
    assert row[3] == "'=HYPERLINK()"  # not a formula when opened in a spreadsheet
    assert row[7] == "lgo-2016/5 lgo-2016/6"
    out = io.StringIO()
    assert write_jsonl([event, event], out) == 2
    first = json.loads(out.getvalue().splitlines()[0])
    assert first["clauses"] == ["lgo-2016/5", "lgo-2016/6"] and first["user"] == "=HYPERLINK()"


# --- the commands ----------------------------------------------------------------------
def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def test_audit_export_command(
    make_engine: Callable[..., Engine], backend: Backend, tmp_path: Path
) -> None:
    engine = make_engine()
    say(engine, "hello")
    say(engine, "a child needs advocacy")
    where = backend.setting
    result = run("audit", "export", "--since", "2000-01-01", "--database", where)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("time_utc,channel") and len(lines) == 3
    assert lines[1].split(",")[1:4] == ["test", "T0001", "U0001"]
    assert "2 audit event(s)" in result.stderr
    out = tmp_path / "audit.jsonl"
    result = run(
        "audit", "export", "--since", "2000-01-01", "--format", "jsonl",
        "--out", str(out), "--database", where,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    exported = [json.loads(line) for line in out.read_text().splitlines()]
    assert [e["flow"] for e in exported] == [None, "child_advocacy"]
    assert exported == [e.as_dict() for e in events(engine)]
    far = run("audit", "export", "--since", "2999-01-01", "--database", where)
    assert far.stdout.splitlines() == [lines[0]]
    assert "password" not in result.output and "@" not in result.stderr


@pytest.mark.parametrize(
    "args, says",
    [
        (["audit", "export", "--since", "2026-13-01"], "not a date"),
        (["audit", "export", "--since", "yesterday"], "not a date"),
        (["audit", "export", "--since", "20260101"], "not a date"),
        (["audit", "export", "--since", "2026-01-01", "--format", "xml"], "xml"),
        (["audit", "export", "--since", "2026-01-01", "--out", "/no/such/folder/x.csv"], "folder"),
        (["purge", "--older-than", "30"], "days or hours"),
        (["purge", "--older-than", "0d"], "days or hours"),
        (["purge", "--older-than", "-5d"], "days or hours"),
        (["purge", "--older-than", "3 weeks"], "days or hours"),
        (["purge", "--older-than", "9999999d"], "days or hours"),
    ],
)
def test_bad_dates_durations_and_paths_are_clear_errors(
    args: list[str], says: str, db_path: Path
) -> None:
    db_path.touch()
    result = run(*args, "--database", str(db_path))
    assert result.exit_code == 2, result.output
    assert says in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a database, just some notes\n" * 100)
    for args in (["purge"], ["audit", "export", "--since", "2026-01-01"]):
        result = run(*args, "--database", str(bogus))
        assert result.exit_code == 1, result.output
        assert "cannot open the database" in result.output and "Traceback" not in result.output


def test_purge_on_a_missing_database_says_so(tmp_path: Path) -> None:
    result = run("purge", "--database", str(tmp_path / "none.sqlite3"))
    assert result.exit_code == 0 and "nothing to purge" in result.output
    assert not (tmp_path / "none.sqlite3").exists()
    result = run("audit", "export", "--since", "2026-01-01", "--database", str(tmp_path / "n"))
    assert result.exit_code == 1 and "no database" in result.output


def test_purge_uses_the_configured_retention(
    make_engine: Callable[..., Engine],
    backend: Backend,
    clock: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock.now = time.time() - 10 * 86400
    engine = make_engine()
    say(engine, "hello")  # an audit row ten days old
    clock.now = time.time() - 2 * 86400
    say(engine, "a child needs advocacy")  # one two days old, and a session as old
    assert engine.store.load(WHO.key)[0] is not None
    monkeypatch.setenv("PROTOCOLBOT_AUDIT_RETENTION_DAYS", "5")
    result = run("purge", "--database", backend.setting)
    assert result.exit_code == 0, result.output
    assert "deleted 1 session(s)" in result.output  # idle for longer than 30 minutes
    assert "deleted 1 audit event(s)" in result.output
    assert len(backend.rows()) == 1
    result = run("purge", "--older-than", "1d", "--database", backend.setting)
    assert result.exit_code == 0, result.output
    assert "deleted 1 audit event(s)" in result.output
    assert backend.rows() == []
    clock.now = time.time()
    assert engine.store.load(WHO.key) == (None, False)


def test_the_commands_name_an_unreachable_server_without_its_password() -> None:
    pytest.importorskip("psycopg")
    # the two commands open the database the same way; one waits out the timeout for both
    result = run("purge", "--database", "postgresql://bot:hunter2@127.0.0.1:9/sessions")
    assert result.exit_code == 1, result.output
    assert "cannot open the database" in result.output and "127.0.0.1:9" in result.output
    assert "hunter2" not in result.output and "Traceback" not in result.output


def test_a_new_database_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    from bot.dialogue import SqliteStore, open_engine

    path = tmp_path / "state" / "sessions.sqlite3"
    engine = open_engine(store=SqliteStore(path))
    engine.handle(Inbound(WHO, text="a child needs advocacy"))
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    for side in path.parent.glob("*-wal"):
        assert side.stat().st_mode & 0o077 == 0, side


def test_a_retention_longer_than_the_clock_has_run_keeps_everything(
    engine: Engine, backend: Backend
) -> None:
    say(engine, "a child needs advocacy")
    result = run("purge", "--older-than", "999999d", "--database", backend.setting)
    assert result.exit_code == 0, result.output
    assert "deleted 0 audit event(s) recorded before 1970-01-01" in result.output
    assert len(backend.rows()) == 1


@pytest.mark.parametrize("port", ["abc", "99999", "5432x"])
def test_a_postgres_url_whose_port_is_not_a_number_is_one_line(port: str) -> None:
    result = run("purge", "--database", f"postgresql://bot:hunter2@127.0.0.1:{port}/sessions")
    assert result.exit_code == 1, result.output
    assert f"the port '{port}' in the PostgreSQL URL is not a number" in result.output
    assert "hunter2" not in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    "value",
    [
        "=1+1",
        "+1",
        "-1",
        "@SUM(A1)",
        " =1+1",
        "\n=1+1",
        "\r\n+cmd",
        "\t@x",
        "＝1+1",
        "|calc",
        "  ＋1",
    ],
)
def test_export_neutralises_every_cell_a_spreadsheet_would_run(value: str) -> None:
    at = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
    event = AuditEvent("slack", "T1", value, "f", (), (), (), (), at)
    out = io.StringIO()
    write_csv([event], out)
    row = list(csv.reader(io.StringIO(out.getvalue())))[1]
    assert row[3] == "'" + value


def test_export_leaves_ordinary_cells_alone() -> None:
    at = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
    event = AuditEvent("slack", "T1", "U123 -1", "f", (), (), (), (), at)
    out = io.StringIO()
    write_csv([event], out)
    assert list(csv.reader(io.StringIO(out.getvalue())))[1][3] == "U123 -1"


def test_opening_the_chat_with_nothing_to_resume_records_nothing(
    engine: Engine, backend: Backend
) -> None:
    for _ in range(3):
        assert engine.handle(Inbound(WHO, action="cmd:return")) == []
    assert backend.rows() == []
    say(engine, "a child needs advocacy")
    assert len(backend.rows()) == 1


def test_purge_says_so_when_a_reader_keeps_purged_rows_in_the_wal(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.dialogue.audit as audit

    if not isinstance(engine.store, SqliteStore):
        pytest.skip("the write-ahead log is SQLite's")
    monkeypatch.setattr(audit, "CHECKPOINT_WAIT_SECONDS", 0.05)
    say(engine, "a child needs advocacy")
    reader = sqlite3.connect(engine.store.path)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM audit_events").fetchone()  # holds a snapshot
        result = run("purge", "--older-than", "1h", "--database", str(engine.store.path))
        assert result.exit_code == 1, result.output
        assert "purge incomplete" in result.output and "-wal file" in result.output
    finally:
        reader.close()
    result = run("purge", "--older-than", "1h", "--database", str(engine.store.path))
    assert result.exit_code == 0, result.output
