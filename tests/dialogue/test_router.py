"""Router decisions that matter for safety: a risk is never lost to a spelling, a press
enquiry goes to the flow that checks the referral first, and a bare name asks."""

from __future__ import annotations

import pytest

from bot.dialogue import Engine


@pytest.mark.parametrize(
    "message",
    ["safegaurding concern at a childrens home", "i need to reprot a child protetion concern"],
)
def test_a_misspelt_risk_word_is_still_a_risk(engine: Engine, message: str) -> None:
    route = engine.router.route(message)
    assert route.risk and route.flow == "safeguarding_concern"


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
