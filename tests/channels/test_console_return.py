"""Coming back to the terminal chat: an unfinished flow from an earlier run is named before
the first new line goes into it, so a typed message is never silently taken as an answer."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from bot.channels.console import conversation, run_lines
from bot.dialogue import Engine, Inbound

UNFINISHED = "You have an unfinished “A child needs advocacy” from earlier"


def chat(engine: Engine, *lines: str) -> str:
    out = io.StringIO()
    run_lines(engine, list(lines), out)
    return out.getvalue()


def test_a_second_run_names_the_unfinished_flow_first(
    make_engine: Callable[..., Engine],
) -> None:
    first = chat(make_engine(), "a child needs advocacy")
    assert UNFINISHED not in first
    again = chat(make_engine(), "cancel")  # a new process on the same store
    assert again.startswith(UNFINISHED)
    assert again.index("Type cancel to drop it") < again.index("Cancelled")
    assert UNFINISHED not in chat(make_engine(), "hello")  # nothing left to name


def test_a_fresh_user_gets_nothing_before_their_first_line(engine: Engine) -> None:
    assert engine.handle(Inbound(conversation(thread="stdin"), action="cmd:return")) == []
    assert chat(engine, "hello").startswith("Hello.")


def test_an_expired_conversation_is_said_to_be_gone_with_the_menu(
    make_engine: Callable[..., Engine], clock: Any
) -> None:
    engine = make_engine()
    chat(engine, "a child needs advocacy")
    clock.advance(31 * 60)
    replies = engine.handle(Inbound(conversation(thread="stdin"), action="cmd:return"))
    assert "idle too long" in replies[0].text
    assert replies[-1].kind == "menu" and replies[-1].flow is None
