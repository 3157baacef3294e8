"""The safety net in Telegram: starting another flow while one has answers asks first (pause,
discard or carry on), cancel asks first, and leaving a flow in which a risk to a child was
signalled shows where the concern must go. The rule is the engine's; Telegram shows its
question as an inline keyboard."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from telegram_fakes import ALICE, BOT, Harness, Recording, parse_html

from bot.dialogue import Conversation, Engine

KEY = Conversation("telegram", str(BOT["id"]), str(ALICE["id"]), str(ALICE["id"])).key


@pytest.fixture
def bot(make_engine: Callable[..., Engine], db_path: Path) -> Iterator[Harness]:
    harness = Harness(Recording(make_engine()), db_path)
    yield harness
    harness.close()


def session(bot: Harness) -> Any:
    return bot.engine.engine.store.load(KEY)[0]


def labels(bot: Harness) -> list[str]:
    keyboard = bot.last_keyboard()["reply_markup"]["inline_keyboard"]
    return [parse_html(b["text"]) for row in keyboard for b in row]


def shown(bot: Harness, since: int) -> str:
    return "\n".join(parse_html(t) for t in bot.api.texts(since))


def part_way_through_a_complaint(bot: Harness) -> dict[str, str]:
    bot.say("/protocol a complainant should go to the LGO")
    bot.press("No")
    bot.press("The council's children's services (social workers, assessments, decisions, support)")
    state = session(bot)
    assert state.flow == "lgo_complaint" and state.step == "jurisdiction"
    return dict(state.flow_answers())


def test_starting_another_flow_asks_first_and_carrying_on_keeps_the_answers(bot: Harness) -> None:
    answers = part_way_through_a_complaint(bot)
    mark = len(bot.api.calls)
    bot.say("/protocol a child needs advocacy")
    assert "part-way through" in shown(bot, mark) and "deleted" not in shown(bot, mark)
    offered = labels(bot)  # long labels are numbered: "1. Pause it and start ..."
    assert any("Pause it and start" in label for label in offered), offered
    assert any("Discard it and start" in label for label in offered), offered
    assert session(bot).flow_answers() == answers
    bot.press("Carry on with “A complainant should go to the Ombudsman (LGO)”")
    state = session(bot)
    assert state.flow == "lgo_complaint" and state.step == "jurisdiction"
    assert state.flow_answers() == answers


def test_a_message_suggesting_a_risk_mid_flow_is_never_dropped(bot: Harness) -> None:
    answers = part_way_through_a_complaint(bot)
    mark = len(bot.api.calls)
    bot.say("/protocol a child told me her foster carer hits her")
    assert "suggests a child may be at risk" in shown(bot, mark)
    assert session(bot).flow_answers() == answers
    bot.press("Carry on with “A complainant should go to the Ombudsman (LGO)”")
    assert session(bot).risk  # remembered: leaving the complaint now shows the card
    bot.say("/cancel")
    assert session(bot).flow_answers() == answers
    mark = len(bot.api.calls)
    bot.press("Yes, cancel and delete")
    said = shown(bot, mark)
    assert said.index("A possible risk to a child came up") < said.index("have been deleted")
    assert "999" in said and "101" in said
    assert session(bot) is None
