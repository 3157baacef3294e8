"""Answer rules outside a conversation: recent dates, dates of birth and ages, email addresses."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.dialogue.answers import check_answer
from bot.dialogue.flow import Step

TODAY = dt.date(2026, 11, 23)


def _step(**fields: object) -> Step:
    return Step.model_validate({"id": "q", "ask": "Question?", **fields})


RECENT = _step(type="date", validate={"not_future": True, "within_days": 365})


@pytest.mark.parametrize("typed", ["01/01/1900", "22/11/2025", "1999-05-01"])
def test_a_recent_date_question_refuses_old_dates(typed: str) -> None:
    checked = check_answer(RECENT, typed, today=TODAY)
    assert checked.value is None
    assert "more than a year ago" in checked.problem


@pytest.mark.parametrize(
    ("typed", "stored"), [("23/11/2025", "2025-11-23"), ("today", "2026-11-23")]
)
def test_a_recent_date_question_takes_dates_within_its_bound(typed: str, stored: str) -> None:
    assert check_answer(RECENT, typed, today=TODAY).value == stored


def test_a_date_of_birth_question_refuses_impossible_ages() -> None:
    born = _step(type="date", validate={"not_future": True, "max_age": 100})
    assert check_answer(born, "14/03/1980", today=TODAY).value == "1980-03-14"
    checked = check_answer(born, "01/01/1900", today=TODAY)
    assert checked.value is None and "older than 100" in checked.problem


FREE_DOB = _step(optional=True, validate={"min_length": 1, "max_length": 60, "max_age": 25})


@pytest.mark.parametrize(
    "typed", ["8 years old", "14", "14/03/2012", "about 14", "due 03/05/2027", "teenager"]
)
def test_a_free_text_date_of_birth_or_age_takes_plausible_answers(typed: str) -> None:
    assert check_answer(FREE_DOB, typed, today=TODAY).value == typed


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("01/01/1900", "older than 25"),
        ("150", "An age of 150 is not possible"),
        ("40 years old", "An age of 40 is not possible"),
        ("03/05/2027", "in the future"),
    ],
)
def test_a_free_text_date_of_birth_or_age_refuses_impossible_ones(typed: str, problem: str) -> None:
    checked = check_answer(FREE_DOB, typed, today=TODAY)
    assert checked.value is None and problem in checked.problem


def test_a_question_needing_an_email_address_refuses_text_without_one() -> None:
    sender = _step(
        validate={"min_length": 6, "max_length": 250, "needs_email": True},
        reask="Please give your name, job title and a secure email address.",
    )
    refused = check_answer(sender, "Sam Patel, Regulatory Inspector")
    assert refused.value is None and "secure email address" in refused.problem
    assert check_answer(sender, "Sam Patel, sam@").value is None
    taken = "Sam Patel, Regulatory Inspector, sam.patel@ofsted.example.invalid"
    assert check_answer(sender, taken).value == taken


def test_too_short_answers_get_the_question_s_own_re_ask_and_too_long_ones_the_limit() -> None:
    step = _step(
        validate={"min_length": 10, "max_length": 2000},
        reask="Please set out the information (at least 10 characters).",
    )
    assert check_answer(step, "short").problem == (
        "Please set out the information (at least 10 characters)."
    )
    long = check_answer(step, "x" * 8000)
    assert long.value is None
    assert "8,000 characters; please keep it under 2,000" in long.problem


@pytest.mark.parametrize(
    "fields",
    [
        {"type": "text", "validate": {"within_days": 30}},
        {"type": "yesno", "validate": {"max_age": 25}},
        {"type": "date", "validate": {"needs_email": True}},
    ],
)
def test_rules_are_declared_only_on_questions_they_fit(fields: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="belongs to"):
        _step(**fields)


@pytest.mark.parametrize(
    "typed",
    [
        "\x1b[31mOak House\x1b[0m",  # a colour
        "\x1b]0;title\x07Oak House",  # a window title
        "Oak\x1b[2K House\x00",  # a line clear and a NUL
    ],
)
def test_terminal_escape_sequences_are_taken_out_whole(typed: str) -> None:
    text = _step(validate={"min_length": 1, "max_length": 100})
    assert check_answer(text, typed, today=TODAY).value == "Oak House"


@pytest.mark.parametrize("typed", ["skip", "Not known", "n/a", "don't know"])
def test_a_required_text_answer_cannot_be_skipped(typed: str) -> None:
    signer = _step(validate={"min_length": 2, "max_length": 100})
    checked = check_answer(signer, typed, today=TODAY)
    assert checked.value is None and "can't be skipped" in checked.problem
    optional = _step(optional=True, validate={"min_length": 2, "max_length": 100})
    assert check_answer(optional, typed, today=TODAY).value == ""
