"""Council questions: answers matched against the directory, and the registration check's
due-date arithmetic, outside a conversation."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from bot.dialogue import Engine
from bot.dialogue.answers import check_answer
from bot.dialogue.flow import Flow, Step
from bot.dialogue.loading import validate_flow
from bot.drafting import TemplateProblem
from bot.drafting.render import _due, _long_date
from bot.kb.directory import Directory

ONE = Step.model_validate(
    {"id": "council", "ask": "Which council?", "type": "council", "optional": True}
)
MANY = Step.model_validate(
    {"id": "councils", "ask": "Which councils?", "type": "council", "many": True}
)


def test_a_known_council_is_stored_by_its_official_name(directory: Directory) -> None:
    checked = check_answer(ONE, "tower hamlet", directory=directory)
    assert checked.value == "London Borough of Tower Hamlets"
    assert "Found in the local authority directory: London Borough of Tower Hamlets." in (
        checked.note
    )
    assert "EXAMPLE entries" in checked.note


def test_an_unknown_council_is_kept_as_typed_and_said_plainly(directory: Directory) -> None:
    checked = check_answer(ONE, "Kentucky", directory=directory)
    assert checked.value == "Kentucky"
    assert "I have no directory entry for “Kentucky”" in checked.note
    assert "Did you mean" not in checked.note
    close = check_answer(ONE, "Leeds Beckett University", directory=directory)
    assert close.value == "Leeds Beckett University"
    assert "Did you mean Leeds City Council?" in close.note


def test_without_a_directory_every_council_is_unknown() -> None:
    checked = check_answer(ONE, "Kent County Council")
    assert checked.value == "Kent County Council"
    assert "no directory entry" in checked.note


def test_skip_and_length_rules_still_apply(directory: Directory) -> None:
    assert check_answer(ONE, "skip", directory=directory).value == ""
    assert check_answer(MANY, "", directory=directory).value is None
    long = check_answer(MANY, "x" * 3000, directory=directory)
    assert long.value is None and "characters" in long.problem


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Kent, Leeds", "Kent County Council; Leeds City Council"),
        (
            "kent; tower hamlets\nleeds",
            "Kent County Council; London Borough of Tower Hamlets; Leeds City Council",
        ),
        ("Kent and Leeds", "Kent County Council; Leeds City Council"),
        ("Kent & Manchester", "Kent County Council; Manchester City Council"),
        ("Kent, Kent CC", "Kent County Council"),
        ("Brighton and Hove", "Brighton and Hove"),  # not two councils the directory knows
        ("Gotham, Leeds", "Gotham; Leeds City Council"),
    ],
)
def test_several_councils_in_one_answer(directory: Directory, typed: str, stored: str) -> None:
    assert check_answer(MANY, typed, directory=directory).value == stored


def test_many_belongs_to_council_questions() -> None:
    with pytest.raises(ValidationError, match="'many' belongs to 'ask' steps of type council"):
        Step.model_validate({"id": "x", "ask": "Which?", "many": True})


def test_due_dates_from_iso_answers() -> None:
    assert _due("2026-12-22", 14) == dt.date(2027, 1, 5)
    assert _due("2028-02-20", 14) == dt.date(2028, 3, 5)
    assert _due("2027-02-20", 14) == dt.date(2027, 3, 6)
    assert _due(dt.date(2026, 11, 23), 14) == dt.date(2026, 12, 7)
    assert _long_date("2026-12-07") == "7 December 2026"
    assert _long_date(dt.date(2027, 1, 5)) == "5 January 2027"
    assert _long_date("not known") == "not known"


@pytest.mark.parametrize(
    ("today", "says", "then"),
    [
        (dt.date(2026, 11, 10), "That date has not passed yet, so the council is not late", "end"),
        (dt.date(2026, 11, 15), "The response is due today, so the council is not late yet", "end"),
        (dt.date(2026, 11, 16), "That date has passed (1 day ago)", "person_name"),
        (dt.date(2026, 11, 18), "That date has passed (3 days ago)", "person_name"),
    ],
)
def test_the_deadline_counts_two_weeks_from_sending_and_chases_only_after(
    engine: Engine, today: dt.date, says: str, then: str
) -> None:
    flow = engine.flows["registration_check"]
    deadline = flow.step("deadline")
    answers = {"stage": "no_reply", "which_council": "Kent County Council", "sent_on": "2026-11-01"}
    assert deadline.next_step(answers, today) == then  # no chaser drafted before it is late
    context = engine.renderer.context(answers, flow.asks(), {"today": today})
    text = " ".join(engine.renderer.render_text(deadline.say or "", context).split())
    assert "For the request sent on 1 November 2026, that is by 15 November 2026" in text
    assert says in text
    if then == "end":
        assert "nothing to chase. Diary 16 November 2026" in text
        assert "I'll draft" not in text


def test_a_template_asking_for_an_unknown_contact_role_is_a_template_problem(
    engine: Engine,
) -> None:
    context = engine.renderer.context({}, [], {})
    with pytest.raises(TemplateProblem, match="unknown contact role 'director'"):
        engine.renderer.render_text("{{ local_authority('Kent').contact('director') }}", context)
    with pytest.raises(TemplateProblem):
        engine.renderer.render_text("{{ due_date('not known', 14) }}", context)


REQUIRED = Step.model_validate({"id": "council", "ask": "Which council?", "type": "council"})


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("skip", "I need the council's name"),
        ("not known", "I need the council's name"),
        ("Don't know", "I need the council's name"),
        ("yes", "I need the council's name"),
        ("!!!", "is not a council's name"),
        ("123", "is not a council's name"),
        ("asdfghjkl", "does not look like a council's name"),
    ],
)
def test_a_required_council_question_re_asks_junk(
    directory: Directory, typed: str, problem: str
) -> None:
    checked = check_answer(REQUIRED, typed, directory=directory)
    assert checked.value is None
    assert problem in checked.problem


def test_an_optional_council_question_skips_but_still_re_asks_junk(directory: Directory) -> None:
    assert check_answer(ONE, "not known", directory=directory).value == ""
    assert check_answer(ONE, "no idea", directory=directory).value == ""
    for typed in ("!!!", "123", "asdfghjkl"):
        assert check_answer(ONE, typed, directory=directory).value is None, typed
    assert check_answer(MANY, "Leeds, 123", directory=directory).value is None


@pytest.mark.parametrize(
    "typed", ["Kentucky", "RBKC", "Knightsbridge", "St Helens", "Bath and North East Somerset"]
)
def test_unknown_but_plausible_council_names_are_still_kept(
    directory: Directory, typed: str
) -> None:
    assert check_answer(REQUIRED, typed, directory=directory).value == typed


def test_a_condition_on_a_date_answer_must_say_how_many_days_ago(engine: Engine) -> None:
    flow = Flow.model_validate(
        {
            "id": "dated",
            "title": "t",
            "description": "d",
            "triggers": ["a", "b", "c"],
            "steps": [
                {
                    "id": "sent",
                    "ask": "When?",
                    "type": "date",
                    "next": [
                        {"if": {"sent": "last week"}, "then": "end"},
                        {"else": "end"},
                    ],
                },
            ],
        }
    )
    problems = validate_flow(
        flow, "dated.yaml", flow_ids={"dated"}, clause_ids=set(), renderer=engine.renderer
    )
    assert any("write 'more than N days ago'" in p for p in problems), problems
