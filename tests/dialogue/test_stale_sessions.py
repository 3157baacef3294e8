"""Sessions that no longer fit: a flow edited or removed while conversations are open, and
rows that cannot be read back. Each is reset with a clear message, never a traceback."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import sqlite3
from pathlib import Path

import pytest

from bot.channels.console import run_lines
from bot.dialogue import Conversation, Engine, Inbound, SqliteStore, open_engine
from bot.paths import flows_dir

WHO = Conversation("test", "local", "u1", "t1")


def engine_over(flows: Path, db: Path) -> Engine:
    return open_engine(store=SqliteStore(db), flows=flows, today=lambda: dt.date(2026, 12, 3))


@pytest.fixture
def flows(tmp_path: Path) -> Path:
    copy = tmp_path / "flows"
    shutil.copytree(flows_dir(), copy)
    return copy


def at_complaint_about(engine: Engine) -> None:
    replies = engine.handle(Inbound(WHO, text="a complainant should go to the LGO"))
    assert replies[-1].step == "child_at_risk"
    replies = engine.handle(Inbound(WHO, action="ans:child_at_risk:no"))
    assert replies[-1].step == "complaint_about"


@pytest.mark.parametrize("typed", ["cancel", "hello", "back", "resume", "why"])
def test_a_renamed_step_resets_the_conversation_with_a_message(
    flows: Path, tmp_path: Path, typed: str
) -> None:
    db = tmp_path / "s.sqlite3"
    at_complaint_about(engine_over(flows, db))
    path = flows / "lgo_complaint.yaml"
    path.write_text(path.read_text().replace("complaint_about", "complaint_subject"))
    replies = engine_over(flows, db).handle(Inbound(WHO, text=typed))
    assert "no longer has the step 'complaint_about'" in replies[0].text
    assert "deleted, answers and all" in replies[0].text
    again = engine_over(flows, db).handle(Inbound(WHO, text="a complainant should go to the LGO"))
    assert again[-1].step == "child_at_risk"  # carries on normally afterwards


def test_a_paused_flow_the_flows_no_longer_fit_resets_the_conversation(
    flows: Path, tmp_path: Path
) -> None:
    db = tmp_path / "s.sqlite3"
    engine = engine_over(flows, db)
    at_complaint_about(engine)
    engine.handle(Inbound(WHO, action="flow:child_advocacy"))
    replies = engine.handle(Inbound(WHO, action="leave:pause"))
    assert replies[-1].flow == "child_advocacy"
    path = flows / "lgo_complaint.yaml"
    path.write_text(path.read_text().replace("complaint_about", "complaint_subject"))
    replies = engine_over(flows, db).handle(Inbound(WHO, text="resume"))
    assert "no longer has the step 'complaint_about'" in replies[0].text


def test_a_removed_flow_resets_the_conversation(flows: Path, tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite3"
    engine = engine_over(flows, db)
    # a flow no other flow calls or links to, so the rest still load without it
    replies = engine.handle(Inbound(WHO, text="a child needs advocacy"))
    flow = replies[-1].flow
    assert flow is not None
    (flows / f"{flow}.yaml").unlink()
    replies = engine_over(flows, db).handle(Inbound(WHO, text="cancel"))
    assert f"the protocol {flow!r} no longer exists" in replies[0].text


@pytest.mark.parametrize(
    "row",
    [
        "{not json",
        '{"key": "k", "flow": "lgo_complaint", "history": "oops"}',
        '{"key": "k", "a_field_from_a_newer_version": 1}',
        "[1, 2, 3]",
        '{"key": "k", "stack": [1]}',
        '{"key": "k", "paused": {"flow": "lgo_complaint", "stack": [1]}}',
    ],
)
def test_an_unreadable_session_row_is_deleted_and_the_chat_starts(
    engine: Engine, db_path: Path, row: str
) -> None:
    run_lines(engine, ["a child needs advocacy\n"], io.StringIO())
    with sqlite3.connect(db_path) as db:
        db.execute("UPDATE sessions SET data = ?", (row,))
    out = io.StringIO()
    run_lines(engine, ["menu\n"], out)  # as `chat` starts: the resume turn, then the line
    shown = out.getvalue()
    assert "saved by another version of the bot or was damaged" in shown
    assert "Look up a clause" in shown
    with sqlite3.connect(db_path) as db:
        assert db.execute("SELECT count(*) FROM sessions WHERE data = ?", (row,)).fetchone()[0] == 0


def test_kb_check_warns_of_open_conversations_an_edit_would_strand(
    flows: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from bot.cli import app

    db = tmp_path / "s.sqlite3"
    at_complaint_about(engine_over(flows, db))
    monkeypatch.setenv("PROTOCOLBOT_DATABASE", str(db))
    monkeypatch.setenv("PROTOCOLBOT_FLOWS", str(flows))
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    result = CliRunner().invoke(app, ["kb", "check"])
    assert result.exit_code == 0, result.output
    assert "warning:" not in result.output
    path = flows / "lgo_complaint.yaml"
    path.write_text(path.read_text().replace("complaint_about", "complaint_subject"))
    result = CliRunner().invoke(app, ["kb", "check"])
    assert result.exit_code == 0, result.output  # a warning: the flows themselves are valid
    assert (
        "warning: 1 open conversation(s): “A complainant should go to the Ombudsman (LGO)” "
        "no longer has the step 'complaint_about'" in result.output
    )
