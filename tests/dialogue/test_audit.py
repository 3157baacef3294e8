"""The audit trail: one row per saved turn, structure only, append-only, exported and purged."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import logging
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bot.cli import app
from bot.dialogue import AuditEvent, Conversation, Engine, Inbound, Reply, SqliteAuditLog
from bot.dialogue.audit import write_csv, write_jsonl
from bot.dialogue.store import StoreUnavailable

WHO = Conversation("test", "T0001", "U0001", "D0001")
MARKERS = ("Quillon Fairweather-Marker", "07700 900417", "marker.person@example.org")


def say(engine: Engine, text: str = "", action: str | None = None) -> list[Reply]:
    return engine.handle(Inbound(WHO, text=text, action=action))


def rows(db_path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(db_path) as db:
        return db.execute("SELECT * FROM audit_events ORDER BY id").fetchall()


def events(engine: Engine) -> list[AuditEvent]:
    assert engine.audit is not None
    return list(engine.audit.events(dt.datetime(2000, 1, 1, tzinfo=dt.UTC)))


def to_draft(engine: Engine) -> list[Reply]:
    """The advocacy flow to its drafts, with marker text typed at every free-text question."""
    replies = say(engine, "a child needs advocacy")
    typed = iter(MARKERS * 10)
    for _ in range(40):
        last = next(r for r in reversed(replies) if r.kind in {"question", "summary"})
        if last.kind == "summary":
            return say(engine, action="draft:confirm")
        options = [o for o in last.options if o.value.startswith("ans:")]
        if options:
            wanted = "no" if last.step == "risk_of_harm" else "yes"
            choice = next((o for o in options if o.value.endswith(f":{wanted}")), options[0])
            replies = say(engine, action=choice.value)
        else:
            replies = say(engine, next(typed))
    raise AssertionError("no summary reached")


def test_every_saved_turn_is_recorded_with_structure_only(engine: Engine, db_path: Path) -> None:
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

    with sqlite3.connect(db_path) as db:
        dump = "\n".join(db.iterdump())
    audit_part = "\n".join(line for line in dump.splitlines() if "audit_events" in line)
    assert "INSERT INTO" in audit_part
    for marker in (*MARKERS, "ombudsman"):
        assert marker not in audit_part


def test_the_audit_table_refuses_updates_deletes_and_overwrites(
    engine: Engine, db_path: Path
) -> None:
    say(engine, "hello")
    say(engine, "a child needs advocacy")
    before = rows(db_path)
    assert len(before) == 2
    with sqlite3.connect(db_path) as db:
        for sql in (
            "UPDATE audit_events SET user_id = 'someone else'",
            "DELETE FROM audit_events",
            "DELETE FROM audit_events WHERE id = 1",
            "INSERT OR REPLACE INTO audit_events SELECT * FROM audit_events WHERE id = 1",
            "REPLACE INTO audit_events (id, at, channel, workspace, user_id, flow, steps, kinds,"
            " clauses, drafts) VALUES (2, 'x', 'x', 'x', 'x', NULL, '[]', '[]', '[]', '[]')",
        ):
            with pytest.raises(sqlite3.DatabaseError, match=r"append-only|purge"):
                db.execute(sql)
    assert rows(db_path) == before


def test_purge_removes_only_rows_older_than_the_cutoff(
    engine: Engine, db_path: Path, clock: object
) -> None:
    say(engine, "hello")
    clock.advance(3 * 86400)
    say(engine, "hello")
    log = SqliteAuditLog(db_path, clock=clock)  # type: ignore[arg-type]
    assert log.purge(log.now() - dt.timedelta(days=1)) == 1
    assert len(rows(db_path)) == 1
    with sqlite3.connect(db_path) as db:  # the flag that let the purge through is gone
        assert db.execute("SELECT count(*) FROM audit_purge").fetchone()[0] == 0
        with pytest.raises(sqlite3.DatabaseError):
            db.execute("DELETE FROM audit_events")


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
    assert make_engine().store.load(WHO.key)[0].step == "sufficient_understanding"  # type: ignore[union-attr]
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "audit" in record.getMessage() and "OperationalError" in record.getMessage()
    assert MARKERS[0] not in record.getMessage() and record.exc_info is None


def test_a_turn_that_could_not_be_saved_is_not_recorded(engine: Engine, db_path: Path) -> None:
    say(engine, "a child needs advocacy")

    def broken(*_: object) -> None:
        raise StoreUnavailable("database is locked")

    engine.store.save = broken  # type: ignore[method-assign]
    assert say(engine, "no")[-1].kind == "error"
    assert len(rows(db_path)) == 1


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
    make_engine: Callable[..., Engine], db_path: Path, tmp_path: Path
) -> None:
    engine = make_engine()
    say(engine, "hello")
    say(engine, "a child needs advocacy")
    result = run("audit", "export", "--since", "2000-01-01", "--database", str(db_path))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("time_utc,channel") and len(lines) == 3
    out = tmp_path / "audit.jsonl"
    result = run(
        "audit", "export", "--since", "2000-01-01", "--format", "jsonl",
        "--out", str(out), "--database", str(db_path),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    exported = [json.loads(line) for line in out.read_text().splitlines()]
    assert [e["flow"] for e in exported] == [None, "child_advocacy"]
    far = run("audit", "export", "--since", "2999-01-01", "--database", str(db_path))
    assert far.stdout.splitlines() == [lines[0]]


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
    db_path: Path,
    clock: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock.now = time.time() - 10 * 86400
    engine = make_engine()
    say(engine, "hello")  # an audit row ten days old
    clock.now = time.time() - 2 * 86400
    say(engine, "hello")  # and one two days old
    monkeypatch.setenv("PROTOCOLBOT_AUDIT_RETENTION_DAYS", "5")
    result = run("purge", "--database", str(db_path))
    assert result.exit_code == 0, result.output
    assert "deleted 1 audit event(s)" in result.output
    result = run("purge", "--older-than", "1d", "--database", str(db_path))
    assert "deleted 1 audit event(s)" in result.output
    assert rows(db_path) == []


def test_a_new_database_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    from bot.dialogue import SqliteStore, open_engine

    path = tmp_path / "state" / "sessions.sqlite3"
    engine = open_engine(store=SqliteStore(path))
    engine.handle(Inbound(WHO, text="a child needs advocacy"))
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    for side in path.parent.glob("*-wal"):
        assert side.stat().st_mode & 0o077 == 0, side
