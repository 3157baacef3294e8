"""Router decisions that matter for safety: a risk is never lost to a spelling (safeguarding
is started or offered first), a press enquiry goes to the flow that checks the referral
first, a bare name asks, small talk gets the menu and a typed title starts its flow."""

from __future__ import annotations

import pytest

from bot.dialogue import Engine
from bot.dialogue.router import Route, WordList


@pytest.mark.parametrize(
    "message",
    [
        "safegaurding concern at a childrens home",  # misspelt
        "i need to reprot a child protetion concern",
        # harms named in everyday words
        "a 15 year old says her family are taking her to Bangladesh to marry a man she's never met",
        "staff at the home held a boy face down on the floor for twenty minutes",
        "a girl in care left a note saying she won't be here tomorrow",
        "lad at the supported accommodation says the men who brought him here took his passport",
        "the carer came in with a split lip and says the boy she fosters did it to protect his sister",
    ],
)
def test_a_risk_misspelt_or_in_everyday_words_brings_safeguarding_first(
    engine: Engine, message: str
) -> None:
    route = engine.router.route(message)
    assert route.risk and engine.router.has_risk(message)
    assert route.flow == "safeguarding_concern" or (
        route.flow is None and route.offer[0] == "safeguarding_concern"
    )


def test_risk_words_in_a_message_mostly_about_another_flow_ask_with_safeguarding_first(
    engine: Engine,
) -> None:
    route = engine.router.route("complaint about the council, and the child is being hit at home")
    assert route.flow is None and route.risk
    assert route.offer[0] == "safeguarding_concern" and "lgo_complaint" in route.offer


@pytest.mark.parametrize("message", ["hello", "thanks!", "ok cheers", "good morning"])
def test_small_talk_gets_the_menu(engine: Engine, message: str) -> None:
    route = engine.router.route(message)
    assert route.small_talk and route.flow is None


@pytest.mark.parametrize("flow", ["lgo_decision_received", "partner_disagreement"])
def test_a_flow_title_or_id_typed_starts_it(engine: Engine, flow: str) -> None:
    title = engine.flows[flow].title
    for typed in (title, title.upper() + ".", flow):
        route = engine.router.route(typed)
        assert route.flow == flow and route.confidence == 1.0


@pytest.mark.parametrize(
    "message",
    [
        "We're starting a review of health assessments with CQC",
        "The council told the Ombudsman it would retrain staff",
    ],
)
def test_a_real_word_close_to_a_risk_word_is_not_a_risk(engine: Engine, message: str) -> None:
    assert not engine.router.route(message).risk


def test_a_press_enquiry_about_an_abuse_case_starts_the_media_flow(engine: Engine) -> None:
    route = engine.router.route(
        "A reporter from the local paper wants a press statement about the police "
        "investigation into abuse at a fostering agency"
    )
    assert route.flow == "media_interest"
    assert route.risk and "safeguarding_concern" in route.offer


def test_abuse_seen_in_the_news_is_still_safeguarding(engine: Engine) -> None:
    route = engine.router.route(
        "The manager of one of our children's homes was arrested for assaulting a child, "
        "we only found out from the local news"
    )
    assert route.flow == "safeguarding_concern"


@pytest.mark.parametrize("message", ["lgo", "the ombudsman", "cqc"])
def test_a_bare_name_asks(engine: Engine, message: str) -> None:
    route = engine.router.route(message)
    assert route.flow is None and len(route.offer) >= 2


@pytest.mark.parametrize(
    "message",
    [
        "I need to book a train to Leeds, where is the travel site",
        "can you help with a cover letter for my daughter's job application",
        "who signs off my flexi sheet this month",
    ],
)
def test_a_message_with_nothing_of_the_protocols_in_it_starts_no_flow(
    engine: Engine, message: str
) -> None:
    route = engine.router.route(message)
    assert route.flow is None and route.offer == ()


@pytest.mark.parametrize(
    ("message", "flow"),
    [
        (
            "Lancashire want the applicant's consent before they search their records",
            "registration_check",
        ),
        ("young persn needs an advocat", "child_advocacy"),  # domain words found through typos
    ],
)
def test_a_message_about_the_protocols_world_is_still_routed(
    engine: Engine, message: str, flow: str
) -> None:
    assert engine.router.in_domain(message)
    assert engine.router.route(message).flow == flow


def test_a_misspelt_domain_word_counts() -> None:
    domain = WordList(["registration"], respell=True)
    assert domain.found_in("the registraton check came back")
    assert not WordList(["registration"]).found_in("the registraton check came back")


def test_an_everyday_phrase_is_taken_out_before_domain_words_are_looked_for() -> None:
    domain = WordList(["application"], ["job application"])
    assert not domain.found_in("a cover letter for a job application")
    assert domain.found_in("the application to register a children's home")


def test_a_runner_up_is_named_only_after_a_close_call() -> None:
    close = Route("a", 0.4, ("a", "b"), scores={"a": 0.4, "b": 0.2})
    clear = Route("a", 0.4, ("a", "b"), scores={"a": 0.4, "b": 0.19})
    asked = Route(None, 0.4, ("a", "b"), scores={"a": 0.4, "b": 0.39})
    assert close.close_runner_up == "b"
    assert clear.close_runner_up is None and asked.close_runner_up is None


@pytest.mark.parametrize(
    "message",
    [
        "Is Ofsted the statutory authority for section 47 enquiries?",
        "what is Ofsted's role at strategy meetings?",
    ],
)
def test_a_question_about_child_protection_procedure_is_a_look_up(
    engine: Engine, message: str
) -> None:
    route = engine.router.route(message)
    assert route.lookup and route.flow is None
