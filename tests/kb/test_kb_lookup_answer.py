"""A look-up says plainly when the documents do not answer, and shows current practice that does."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from typer.testing import Result

from bot.kb import ClauseIndex, look_up
from bot.kb.check import check_knowledge
from bot.kb.lookup import asks_for

BENCH = Path(__file__).resolve().parents[2] / "bench" / "lookup_eval.yaml"


def test_foi_response_deadline_is_not_in_the_documents(index: ClauseIndex) -> None:
    answer = look_up(index, "FOI response deadline")
    assert answer.asks == "deadline" and not answer.answered
    heading = answer.heading()
    assert heading.startswith(
        "The documents do not answer “FOI response deadline”: none of them sets a deadline"
    )
    # the FOI current-practice note answers it, labelled and unverified
    assert "Current practice (not in the documents; check before relying on it):" in heading
    assert "within 20 working days" in heading
    assert "[unverified; source: ICO guidance (practice notes)]" in heading
    # then the nearest clauses, the CQC MoU's FOI clause first
    assert heading.endswith("The nearest clauses:")
    assert answer.result.hits[0].clause.id == "cqc-2011/20"


def test_the_ombudsmans_named_contact_is_only_historical(index: ClauseIndex) -> None:
    answer = look_up(index, "who is the named contact at the Ombudsman")
    assert answer.asks == "contact" and not answer.answered
    assert answer.historical_year == 2016
    assert answer.result.hits[0].clause.id == "lgo-2016/named-points-of-contact/2"
    heading = answer.heading()
    assert "they give only a contact from 2016, which is historical" in heading
    assert "Local Government and Social Care Ombudsman: phone 0300 061 0614" in heading
    assert "[unverified; source: contacts file" in heading


def test_the_ombudsmans_number_comes_from_the_contacts_file(index: ClauseIndex) -> None:
    answer = look_up(index, "what's the number for the local government ombudsman")
    assert answer.asks == "phone" and not answer.answered
    [line] = answer.practice
    assert line.text.startswith("Local Government and Social Care Ombudsman: phone 0300 061 0614")
    assert not line.verified
    # the 2016 number in the protocol is not offered as current
    assert "0330 403 4033" not in answer.heading()


@pytest.mark.parametrize(
    ("query", "clause_id"),
    [
        (
            "how long does a council have to reply to a registration check",
            "la-2023/what-local-authorities-do-for-ofsted/1",
        ),
        (
            "email address for the ARC team",
            "la-2023/ofsteds-applications-regulatory-and-contact-team/2",
        ),
    ],
)
def test_a_clause_that_states_it_answers(index: ClauseIndex, query: str, clause_id: str) -> None:
    answer = look_up(index, query)
    assert answer.asks is not None and answer.answered
    assert clause_id in [h.clause.id for h in answer.result.hits]
    assert answer.heading() == f"What the documents say about “{query}”:"
    assert answer.practice == ()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("FOI response deadline", "deadline"),
        ("how quickly must the council reply", "deadline"),
        ("CQC phone number", "phone"),
        ("who is the named contact at the Ombudsman", "contact"),
        ("what paragraph number covers FOI", None),
        ("what is the number of complaints the LGO shares", None),
        ("who do we talk to before putting anything out?", None),
        ("do we hear back about themes from the kids' champion's helpline cases?", None),
        ("can a journalist get hold of stuff CQC sent us?", None),
    ],
)
def test_what_a_question_asks_for(query: str, expected: str | None) -> None:
    assert asks_for(query) == expected


def test_nothing_the_documents_answer_is_said_to_be_unanswered(index: ClauseIndex) -> None:
    """Every question of the look-up evaluation set has a clause that answers it: none the
    search finds may be reported as unanswered."""
    questions = yaml.safe_load(BENCH.read_text(encoding="utf-8"))
    wrongly = [
        q["q"]
        for q in questions
        if (answer := look_up(index, q["q"])).result.useful and not answer.answered
    ]
    assert wrongly == []


def test_a_practice_note_on_an_unknown_clause_fails_the_check(knowledge_copy: Path) -> None:
    path = knowledge_copy / "practice_notes.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "related: [cqc-2011/20]", "related: [cqc-2011/99]"
        ),
        encoding="utf-8",
    )
    errors = check_knowledge(knowledge_copy).errors
    assert any("related to unknown clause 'cqc-2011/99'" in e for e in errors), errors


def test_a_broken_practice_notes_file_fails_the_check_but_not_the_look_up(
    knowledge_copy: Path, cli: Callable[..., Result]
) -> None:
    (knowledge_copy / "practice_notes.yaml").write_text("- text: no source\n", encoding="utf-8")
    errors = check_knowledge(knowledge_copy).errors
    assert any("invalid practice notes" in e for e in errors), errors
    result = cli(["lookup", "FOI response deadline"], knowledge=knowledge_copy)
    assert result.exit_code == 0, result.output
    assert "The documents do not answer" in " ".join(result.stdout.split())
