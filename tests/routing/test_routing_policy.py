"""From class probabilities to a decision: when the router starts, asks, looks up or shows
the menu, whatever the classifier's weights."""

from __future__ import annotations

from bot.routing.policy import Signals, Thresholds, decide
from bot.routing.sets import LOOKUP, OTHER

SAFE = "safeguarding_concern"
MEDIA = "media_interest"
T = Thresholds(start=0.5, margin=0.2, start_risk=0.3, risk=0.4, none=0.5, offer=0.05)
PLAIN = Signals(risk_words=False, lookup_cue=False, names_document=False)
RISK = Signals(risk_words=True, lookup_cue=False, names_document=False)


def probabilities(**given: float) -> dict[str, float]:
    """Class probabilities: the named ones as given, every other class 0 (lookup and none
    stand for the look-up and menu classes)."""
    found = dict.fromkeys([SAFE, MEDIA, "lgo_complaint", "child_advocacy", LOOKUP, OTHER], 0.0)
    for name, value in given.items():
        found[{"lookup": LOOKUP, "none": OTHER}.get(name, name)] = value
    return found


def test_a_clear_winner_starts_its_flow() -> None:
    route = decide(probabilities(lgo_complaint=0.8, child_advocacy=0.1), PLAIN, T, SAFE)
    assert route.flow == "lgo_complaint" and not route.risk


def test_two_close_flows_ask_with_both_on_offer() -> None:
    route = decide(probabilities(lgo_complaint=0.45, child_advocacy=0.4), PLAIN, T, SAFE)
    assert route.flow is None and {"lgo_complaint", "child_advocacy"} <= set(route.offer)


def test_a_close_call_that_starts_a_flow_names_the_runner_up() -> None:
    route = decide(probabilities(lgo_complaint=0.6, child_advocacy=0.35), PLAIN, T, SAFE)
    assert route.flow == "lgo_complaint" and route.close_runner_up == "child_advocacy"


def test_risk_words_with_safeguarding_behind_ask_with_safeguarding_first() -> None:
    route = decide(probabilities(child_advocacy=0.7, **{SAFE: 0.2}), RISK, T, SAFE)
    assert route.flow is None and route.risk and route.offer[0] == SAFE
    assert "child_advocacy" in route.offer


def test_risk_words_and_a_real_safeguarding_score_start_safeguarding() -> None:
    route = decide(probabilities(lgo_complaint=0.5, **{SAFE: 0.35}), RISK, T, SAFE)
    assert route.flow == SAFE and route.risk and "lgo_complaint" in route.offer


def test_a_high_safeguarding_score_without_risk_words_still_offers_safeguarding_first() -> None:
    route = decide(probabilities(child_advocacy=0.5, **{SAFE: 0.45}), PLAIN, T, SAFE)
    assert route.flow is None and route.risk and route.offer[0] == SAFE


def test_a_flow_that_checks_the_referral_first_starts_at_risk_with_safeguarding_offered() -> None:
    route = decide(probabilities(**{MEDIA: 0.8, SAFE: 0.1}), RISK, T, SAFE, frozenset({MEDIA}))
    assert route.flow == MEDIA and route.risk and route.offer[:2] == (MEDIA, SAFE)


def test_off_topic_gets_the_menu_and_a_document_question_a_look_up() -> None:
    menu = decide(probabilities(none=0.8, lgo_complaint=0.1), PLAIN, T, SAFE)
    assert menu.flow is None and not menu.lookup and menu.offer == ()
    lookup = decide(probabilities(lookup=0.7, lgo_complaint=0.2), PLAIN, T, SAFE)
    assert lookup.flow is None and lookup.lookup


def test_a_bare_word_several_flows_use_asks_between_them() -> None:
    bare = Signals(False, False, False, bare_name_of=("lgo_complaint", "lgo_decision_received"))
    route = decide(probabilities(lgo_complaint=0.95), bare, T, SAFE)
    assert route.flow is None and set(route.offer) >= {"lgo_complaint"}


def test_a_started_flow_is_offered_beside_only_flows_with_a_real_claim() -> None:
    route = decide(probabilities(**{SAFE: 0.9, "child_advocacy": 0.01}), RISK, T, SAFE)
    assert route.flow == SAFE and route.offer == (SAFE,)
