"""The safety net as the engine keeps it, on a fixture flow beside the real ones: what signals a
risk, what the safety card then says, what the draft is told, and the note that outlives an
expired session (holding nothing the user typed)."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.dialogue import Conversation, Engine, Inbound, Reply, SqliteStore, open_engine
from bot.dialogue.flow import Step
from bot.dialogue.safety import SafetyNote
from bot.paths import flows_dir

FIXTURES = Path(__file__).parent / "fixtures"
WHO = Conversation("test", "local", "u1", "t1")
CARD = "A possible risk to a child came up"


@pytest.fixture
def flows(tmp_path: Path) -> Path:
    """The real flows and templates, with the fixture flow and its template added."""
    folder = tmp_path / "flows"
    shutil.copytree(flows_dir(), folder)
    shutil.copy(FIXTURES / "risk_screening.yaml", folder)
    shutil.copy(FIXTURES / "templates" / "risk_screening_note.txt.j2", folder / "templates")
    return folder


@pytest.fixture
def make(flows: Path, db_path: Path, clock: Any) -> Callable[[], Engine]:
    def build() -> Engine:
        store = SqliteStore(db_path, idle_seconds=30 * 60, clock=clock)
        return open_engine(
            store=store,
            flows=flows,
            today=lambda: dt.datetime.fromtimestamp(clock(), dt.UTC).date(),
        )

    return build


def say(engine: Engine, text: str = "", action: str | None = None, **kw: Any) -> list[Reply]:
    return engine.handle(Inbound(WHO, text=text, action=action, **kw))


def shown(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def to_details(engine: Engine, *, risk: str, worker: str, council: str) -> list[Reply]:
    say(engine, action="flow:risk_screening")
    say(engine, action=f"ans:child_at_risk:{risk}")
    say(engine, action=f"ans:about_worker:{worker}")
    replies = say(engine, council)
    assert replies[-1].step == "details", shown(replies)
    return replies


def cancelled(engine: Engine) -> str:
    asked = say(engine, "cancel")
    assert "answers will be deleted" in shown(asked)
    return shown(say(engine, action="leave:cancel"))


def test_a_risk_question_answered_yes_owes_the_card_with_the_council_and_the_lado(
    make: Callable[[], Engine],
) -> None:
    engine = make()
    to_details(engine, risk="yes", worker="yes", council="Kent")
    said = cancelled(engine)
    assert said.index(CARD) < said.index("answers have been deleted")
    assert "Kent County Council: front door Front Door Service" in said
    assert "Someone who works with children is implicated: the LADO" in said
    assert "(Kent County Council: LADO" in said
    assert "[EXAMPLE DATA - not a real contact]" in said  # the directory's own flag


def test_no_risk_signalled_means_no_card(make: Callable[[], Engine]) -> None:
    engine = make()
    to_details(engine, risk="no", worker="yes", council="Kent")
    assert CARD not in cancelled(engine)


def test_a_worker_question_answered_no_leaves_the_lado_out(make: Callable[[], Engine]) -> None:
    engine = make()
    to_details(engine, risk="yes", worker="no", council="skip")
    said = cancelled(engine)
    assert CARD in said and "LADO" not in said
    assert "The council is not known here" in said


def test_already_referred_reaches_the_draft(make: Callable[[], Engine]) -> None:
    engine = make()
    to_details(engine, risk="no", worker="no", council="skip")
    replies = say(engine, "the manager hit a boy in the dining room")
    assert replies[-1].kind == "question" and replies[-1].step == "details"
    assert "suggests a child may be at risk" in shown(replies)
    say(engine, action="risk:referred")
    replies = say(engine, action="draft:confirm")
    [draft] = [r.draft for r in replies if r.draft]
    assert "The concern has already been referred (confirmed by the user)." in draft.text
    assert CARD in shown(replies)  # the flow's own end: the card, with the referral noted
    assert "You said the concern has already been referred" in shown(replies)


def test_a_risk_typed_into_the_draft_form_is_screened_before_redrafting(
    make: Callable[[], Engine],
) -> None:
    engine = make()
    to_details(engine, risk="no", worker="no", council="skip")
    say(engine, "a late reply")
    replies = say(engine, action="draft:confirm")
    assert any(r.draft for r in replies) and CARD not in shown(replies)
    edited = {"details": "a late reply, and the child says a carer hit her"}
    replies = say(engine, action="draft:edited", edits=edited)
    assert not any(r.draft for r in replies)
    assert "suggests a child may be at risk" in shown(replies)
    replies = say(engine, action="draft:edited", edits={})  # the form opened again: not yet
    assert not any(r.draft for r in replies)
    assert "suggests a child may be at risk" in shown(replies)
    replies = say(engine, action="risk:first")
    assert replies[-1].flow == "safeguarding_concern" and replies[-1].step == "immediate_danger"


def test_the_card_outlives_a_session_swept_while_the_user_was_away(
    make: Callable[[], Engine], clock: Any, db_path: Path
) -> None:
    engine = make()
    to_details(engine, risk="yes", worker="yes", council="Kent")
    say(engine, "Zebedee Quartermaine-Test hit the child")  # typed: never in the note
    clock.advance(31 * 60)
    assert engine.store.expire() == 1  # the sweep, not the user's return, deletes it
    with sqlite3.connect(db_path) as db:
        [(note,)] = db.execute("SELECT note FROM safety_notes").fetchall()
    assert "Zebedee" not in note and "hit" not in note
    assert SafetyNote.from_json(note) == SafetyNote(("Kent County Council",), True, False)
    said = shown(say(engine, "hello"))
    assert said.index("has been deleted") < said.index(CARD)
    assert "Kent County Council: front door" in said and "implicated: the LADO" in said
    assert CARD not in shown(say(engine, "hello"))  # shown once
    with sqlite3.connect(db_path) as db:
        assert db.execute("SELECT count(*) FROM safety_notes").fetchone()[0] == 0


def test_implicates_worker_must_name_answers_of_its_question() -> None:
    with pytest.raises(ValueError, match="implicates_worker names"):
        Step.model_validate(
            {"id": "who", "ask": "Who?", "type": "yesno", "implicates_worker": ["staff"]}
        )
    with pytest.raises(ValueError, match="implicates_worker names"):
        Step.model_validate({"id": "who", "ask": "Who?", "implicates_worker": ["yes"]})
    step = Step.model_validate(
        {"id": "who", "ask": "Who?", "type": "yesno", "implicates_worker": [True]}
    )
    assert step.implicates_worker == ("yes",)
