"""A crash between saving the turn that drafted and showing its replies loses no draft: the
engine commits first, so the next start says the drafts are kept and `resume` shows them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flow_walk import explore, place

from bot.dialogue import Engine, Inbound, Reply


def confirmed_then_lost(engine: Engine, flow_id: str) -> tuple[object, list[Reply]]:
    """Confirm the first summary of ``flow_id``; its replies never reach the user (the
    process dies before they are shown). Returns the conversation and the lost replies."""
    for snap in explore(engine, flow_id):
        if snap["mode"] == "summary":
            conversation = place(engine, snap)
            lost = engine.handle(Inbound(conversation, action="draft:confirm"))
            if any(r.draft for r in lost):
                return conversation, lost
    raise AssertionError(f"{flow_id}: no summary leads to a draft")


@pytest.mark.parametrize("flow_id", ["lgo_complaint", "safeguarding_concern"])
def test_resume_after_a_crash_shows_the_lost_drafts(
    make_engine: Callable[..., Engine], flow_id: str
) -> None:
    conversation, lost = confirmed_then_lost(make_engine(), flow_id)
    restarted = make_engine()  # a new process on the same database
    opened = restarted.handle(Inbound(conversation, action="cmd:return"))  # type: ignore[arg-type]
    if any(r.draft for r in opened):  # an unfinished flow carries on: the drafts come first
        again = opened
    else:  # a finished one says they are kept
        assert "type resume to see them again" in " ".join(r.text for r in opened)
        again = restarted.handle(Inbound(conversation, text="resume"))  # type: ignore[arg-type]
    assert any("Here again are the drafts from your last turn" in r.text for r in again)
    letters = [r.draft.text for r in again if r.draft]
    assert letters == [r.draft.text for r in lost if r.draft]
    # once the user does anything else, the drafts are taken as seen
    restarted.handle(Inbound(conversation, text="help"))  # type: ignore[arg-type]
    later = restarted.handle(Inbound(conversation, text="resume"))  # type: ignore[arg-type]
    assert not any(r.draft for r in later)
