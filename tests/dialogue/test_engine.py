"""Engine behaviour that scenarios cannot show well: storage, sandboxing, sharing, failures."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from bot.dialogue import Conversation, Engine, Inbound, Reply
from bot.dialogue.store import StoreUnavailable

WHO = Conversation("test", "local", "u1", "t1")


def say(engine: Engine, text: str = "", action: str | None = None, **kw: object) -> list[Reply]:
    return engine.handle(Inbound(WHO, text=text, action=action, **kw))  # type: ignore[arg-type]


def press(engine: Engine, replies: list[Reply], label: str) -> list[Reply]:
    option = next(o for r in replies for o in r.options if o.label == label)
    return say(engine, action=option.value)


def test_idle_expiry_deletes_answers_from_the_database_file(
    engine: Engine, db_path: Path, clock: object
) -> None:
    replies = say(engine, "a child needs advocacy")
    replies = press(engine, replies, "No")  # no risk of harm
    replies = press(engine, replies, "In care (looked after by a council)")
    replies = press(engine, replies, "Yes")  # sufficient understanding
    replies = press(engine, replies, "Yes, I have explained it")
    replies = say(engine, "today")  # explained on
    replies = press(engine, replies, "Yes")  # consents
    say(engine, "Zebedee Quartermaine-Test, inspector")  # referrer name: a marker to look for
    raw = db_path.read_bytes() + (
        db_path.with_name(db_path.name + "-wal").read_bytes()
        if db_path.with_name(db_path.name + "-wal").exists()
        else b""
    )
    assert b"Zebedee" in raw
    clock.advance(31 * 60)  # type: ignore[attr-defined]
    replies = say(engine, "hello")
    assert "deleted" in replies[0].text
    with sqlite3.connect(db_path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert db.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0
    for path in db_path.parent.iterdir():
        assert b"Zebedee" not in path.read_bytes(), path


def test_purge_deletes_idle_answers_and_the_audit_trail_never_holds_them(
    make_engine: Callable[..., Engine], db_path: Path, clock: object
) -> None:
    from typer.testing import CliRunner

    from bot.cli import app

    clock.now = time.time() - 3 * 3600  # type: ignore[attr-defined]
    engine = make_engine()
    marker = "Zebedee Quartermaine-Test"
    replies = say(engine, "a child needs advocacy")
    for _ in range(40):  # to the drafts, typing the marker at every free-text question
        last = next(r for r in reversed(replies) if r.kind in {"question", "summary"})
        if last.kind == "summary":
            replies = say(engine, action="draft:confirm")
            break
        options = [o for o in last.options if o.value.startswith("ans:")]
        wanted = {"risk_of_harm": ":no", "child_situation": ":in_care"}.get(last.step, ":yes")
        pick = next((o for o in options if o.value.endswith(wanted)), None)
        if last.step == "explained_on":
            replies = say(engine, "today")
            continue
        replies = say(engine, action=pick.value) if pick else say(engine, f"{marker}, inspector")
    assert any(r.draft and marker in r.draft.text for r in replies)

    def files() -> bytes:
        return b"".join(p.read_bytes() for p in sorted(db_path.parent.iterdir()) if p.is_file())

    assert marker.encode() in files()  # the session holds the answers until it expires
    with sqlite3.connect(db_path) as db:
        audit = db.execute("SELECT * FROM audit_events").fetchall()
    assert len(audit) > 10 and marker not in repr(audit)

    result = CliRunner().invoke(app, ["purge", "--older-than", "2h", "--database", str(db_path)])
    assert result.exit_code == 0, result.output
    assert "deleted 1 session(s)" in result.output
    assert f"deleted {len(audit)} audit event(s)" in result.output
    with sqlite3.connect(db_path) as db:
        assert db.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM audit_events").fetchone()[0] == 0
    assert marker.encode() not in files()  # nor in the WAL: purge checkpoints it away


def test_template_syntax_in_an_answer_is_printed_not_run(engine: Engine) -> None:
    replies = say(engine, "a child needs advocacy")
    replies = press(engine, replies, "No")
    replies = press(engine, replies, "In care (looked after by a council)")
    replies = press(engine, replies, "Yes")
    replies = press(engine, replies, "Yes, I have explained it")
    replies = say(engine, "today")
    replies = press(engine, replies, "Yes")
    for _ in range(40):
        question = next((r for r in reversed(replies) if r.kind in {"question", "summary"}), None)
        assert question is not None, [r.text for r in replies]
        if question.kind == "summary":
            replies = press(engine, replies, "Yes, draft it")
            break
        answers = [o for o in question.options if o.value.startswith("ans:")]
        no = next((o for o in answers if o.value.endswith(":no")), answers[0] if answers else None)
        replies = say(engine, action=no.value) if no else say(engine, "{{ 7*7 }} {% raw %}")
    drafts = [r.draft for r in replies if r.draft]
    assert drafts
    assert "{{ 7*7 }}" in drafts[0].text
    assert "49" not in drafts[0].text
    assert "protocol-bot has not sent it anywhere" in drafts[0].notes  # not in the letter


def test_a_flow_asked_for_in_a_shared_channel_moves_to_a_private_message(engine: Engine) -> None:
    replies = say(engine, "a child needs advocacy", shared=True)
    assert len(replies) == 1
    assert replies[0].meta["continue_privately"] == "flow:child_advocacy"
    assert replies[0].flow is None and not replies[0].options


def test_an_old_button_cannot_answer_a_later_question(engine: Engine) -> None:
    first = say(engine, "a child needs advocacy")
    old = next(o for r in first for o in r.options if o.label == "No")
    say(engine, action=old.value)
    again = say(engine, action=old.value)  # a double click
    assert "already been answered" in again[0].text


def test_store_failure_asks_the_user_to_try_again_and_keeps_the_step(
    make_engine: Callable[..., Engine],
) -> None:
    engine = make_engine()
    say(engine, "a child needs advocacy")

    def broken(*_: object) -> None:
        raise StoreUnavailable("database is locked")

    real_save = engine.store.save
    engine.store.save = broken  # type: ignore[method-assign]
    replies = say(engine, "no")
    assert replies[-1].kind == "error" and "try again" in replies[-1].text
    engine.store.save = real_save  # type: ignore[method-assign]
    replies = make_engine().handle(Inbound(WHO, text="resume"))
    assert any(r.step == "risk_of_harm" for r in replies)


def test_unknown_actions_and_empty_text_get_an_answer(engine: Engine) -> None:
    assert say(engine, action="nonsense:thing")
    assert say(engine, "")[0].kind == "menu"
    assert say(engine, "x" * 100_000)


def test_a_busy_engine_deletes_idle_sessions_of_users_who_never_return(
    engine: Engine, db_path: Path, clock: object, monkeypatch: object
) -> None:
    import bot.dialogue.engine as engine_module

    other = Conversation("test", "local", "someone-else", "t9")
    engine.handle(Inbound(other, text="a child needs advocacy"))
    clock.advance(31 * 60)  # type: ignore[attr-defined]
    monkeypatch.setattr(engine_module, "SWEEP_SECONDS", 0.0)  # type: ignore[attr-defined]
    say(engine, "a child needs advocacy")  # a different user's turn triggers the sweep
    with sqlite3.connect(db_path) as db:
        keys = [row[0] for row in db.execute("SELECT key FROM sessions")]
    assert keys == [WHO.key]


def test_a_contact_nobody_has_verified_is_marked_wherever_it_is_shown(engine: Engine) -> None:
    replies = say(engine, "a complainant should go to the LGO")
    replies = press(engine, replies, "No")
    replies = press(
        engine,
        replies,
        next(o.label for r in replies for o in r.options if o.label.startswith("The council")),
    )
    replies = press(
        engine, replies, "None of these - it is all about the council's children's services"
    )
    replies = say(engine, "Kent County Council")
    replies = press(engine, replies, "Yes, finished it and still unhappy")
    replies = press(engine, replies, "No")  # aware of the problem within 12 months
    shown = "\n".join(r.text for r in replies)
    assert "0300 061 0614 [unverified]" in shown
    assert "0300 061 0614\n" not in shown + "\n"


def test_ids_containing_the_separator_never_share_a_session(engine: Engine) -> None:
    one = Conversation("test", "T1", "a|b", "c")
    other = Conversation("test", "T1", "a", "b|c")
    assert one.key != other.key
    assert Conversation("test", "T1", "U1", "D1").key == "test|T1|U1|D1"  # unchanged
    assert Conversation("t", "w", "50%7C", "x").key != Conversation("t", "w", "50|", "x").key
    engine.handle(Inbound(one, text="a child needs advocacy"))
    replies = engine.handle(Inbound(other, action="cmd:return"))
    assert not any("unfinished" in r.text for r in replies)


def test_a_database_fault_that_will_not_clear_says_so_and_logs_its_class(
    engine: Engine, db_path: Path, caplog: object
) -> None:
    import logging
    import os

    say(engine, "a child needs advocacy")
    engine.store._db.close()  # type: ignore[attr-defined]  # the file is reopened read-only
    engine.store._db = sqlite3.connect(  # type: ignore[attr-defined]
        f"file:{db_path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
    )
    with caplog.at_level(logging.WARNING):  # type: ignore[attr-defined]
        replies = say(engine, "no")
    assert replies[-1].kind == "error"
    assert "tell an administrator" in replies[-1].text
    assert "try again in a moment" not in replies[-1].text
    logged = [r.getMessage() for r in caplog.records]  # type: ignore[attr-defined]
    assert any("read-only database (permanent)" in m for m in logged), logged
    assert os.path.exists(db_path)


def test_a_lock_held_elsewhere_is_passing_and_says_try_again(
    engine: Engine, db_path: Path, caplog: object
) -> None:
    import logging

    say(engine, "a child needs advocacy")
    engine.store.timeout = 0.05  # type: ignore[attr-defined]
    engine.store._db.execute("PRAGMA busy_timeout = 50")  # type: ignore[attr-defined]
    other = sqlite3.connect(db_path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        with caplog.at_level(logging.WARNING):  # type: ignore[attr-defined]
            replies = say(engine, "no")
    finally:
        other.close()
    assert "try again in a moment" in replies[-1].text
    logged = [r.getMessage() for r in caplog.records]  # type: ignore[attr-defined]
    assert any(m.endswith(": locked") for m in logged), logged
