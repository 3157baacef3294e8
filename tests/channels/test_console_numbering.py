"""Piped terminal chat: the number printed beside an option is the number that picks it.

A turn can return several replies with options (the confirm turn of a flow returns each draft
with "Edit the answers", then the closing notice with "Change an answer" and the menu). The
terminal lists one set of choices a turn, the last, numbered from 1.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

from bot.channels.console import conversation, run_lines, to_inbound
from bot.dialogue import Engine, Inbound, Reply

NUMBERED = re.compile(r"^  (\d+)\. (.+)$", re.MULTILINE)


class Spy:
    """The engine, remembering the replies of the last turn."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.last: list[Reply] = []

    def handle(self, inbound: Inbound) -> list[Reply]:
        self.last = self.engine.handle(inbound)
        return self.last


def test_numbers_printed_in_a_turn_start_at_1_and_pick_what_they_label(engine: Engine) -> None:
    spy = Spy(engine)
    out = io.StringIO()
    turns: list[str] = []  # the printed text of each turn

    def typed() -> Iterator[str]:
        def say(line: str) -> Iterator[str]:
            mark = len(out.getvalue())
            yield line
            turns.append(out.getvalue()[mark:])

        def press(label: str) -> Iterator[str]:
            shown = dict((text, number) for number, text in NUMBERED.findall(turns[-1]))
            assert label in shown, f"{label!r} not printed in\n{turns[-1]}"
            yield from say(shown[label])

        yield from say("menu")
        yield from press("Joint working with CQC")
        yield from press("No")
        yield from press("An inspection of children's services")
        yield from press("No")  # no intervention where CQC has powers
        yield from press("No")  # no personal data in the note
        yield from press("No")  # no wider impact
        for line in (
            "Jo Smith, Senior HMI",
            "jo.smith@ofsted.example",
            "Inspection of Kent County Council's children's services",
            "Health partners' waiting times for looked after children's health assessments.",
            "It bears on CQC's view of the health services in the area.",
            "Tell us whether CQC has inspections planned in Kent this year.",
        ):
            yield from say(line)
        yield from press("Yes, draft it")
        confirm_turn = spy.last
        # the turn under test: options in more than one reply (the draft's, the closing ones)
        assert sum(1 for r in confirm_turn if r.options) > 1, [r.kind for r in confirm_turn]
        printed = [(int(n), text) for n, text in NUMBERED.findall(turns[-1])]
        offered = list(confirm_turn[-1].options)
        assert [n for n, _ in printed] == list(range(1, len(offered) + 1)), turns[-1]
        who = conversation(thread="stdin")
        for number, label in printed:
            picked = to_inbound(str(number), confirm_turn, who).action
            wanted = next(o.value for o in offered if o.label == label)
            assert picked == wanted, f"typing {number} ({label!r}) picks {picked!r}"
        # and typing the number printed beside a menu item after the drafts starts that flow,
        # once the drafted answers are let go
        yield from press("A child needs advocacy")
        yield from press("Discard it and start “A child needs advocacy”")

    run_lines(spy, typed(), out)  # type: ignore[arg-type]
    assert spy.last[-1].flow == "child_advocacy", turns[-1]
