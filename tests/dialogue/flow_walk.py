"""Walk the real flows through the real engine, without a script per flow.

A position is a saved session (its dict). From any position the walk can try every move a
user could make at that question, each on a copy of the session under a fresh conversation
key, so positions can be revisited cheaply and independently.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

from bot.dialogue import Conversation, Engine, Flow, Inbound, Reply, Step
from bot.dialogue.flow import END
from bot.dialogue.session import Session

Snapshot = dict[str, Any]
FILLER = "Test answer for the walk, with enough words"

_ids = itertools.count(1)


def fresh_conversation() -> Conversation:
    return Conversation("walk", "w1", f"u{next(_ids)}", "t1")


def snapshot(engine: Engine, conversation: Conversation) -> Snapshot | None:
    session, _ = engine.store.load(conversation.key)
    return session.to_dict() if session else None


def place(engine: Engine, snap: Snapshot) -> Conversation:
    """A new conversation whose session is a copy of ``snap``."""
    conversation = fresh_conversation()
    engine.store.save(Session.from_dict({**snap, "key": conversation.key}))
    return conversation


def play(engine: Engine, snap: Snapshot, **inbound: Any) -> tuple[list[Reply], Snapshot | None]:
    conversation = place(engine, snap)
    replies = engine.handle(Inbound(conversation, **inbound))
    return replies, snapshot(engine, conversation)


def start(engine: Engine, flow_id: str) -> Snapshot:
    conversation = fresh_conversation()
    engine.handle(Inbound(conversation, action=f"flow:{flow_id}"))
    snap = snapshot(engine, conversation)
    assert snap is not None
    return snap


def valid_text(step: Step, text: str = FILLER) -> str | None:
    """``text`` cut to fit the question's length rules; None if it cannot fit them."""
    if step.type == "date":
        return "today"
    rules = step.validate_
    if rules.pattern:
        return None
    if rules.needs_email:
        text = f"{text}, walk@ofsted.example.invalid"
    text = text[: rules.max_length]
    return text if len(text.strip()) >= rules.min_length else None


def moves(step: Step, text_for: Callable[[Step], str | None]) -> list[dict[str, Any]]:
    """The inbound values that answer ``step``: each option, or one valid typed answer."""
    choices = step.choices()
    if choices:
        return [{"action": f"ans:{step.id}:{c.value}"} for c in choices]
    text = text_for(step)
    if text is None and step.optional:
        text = "skip"
    return [{"text": text}] if text is not None else []


def branching_keys(flow: Flow, step_id: str) -> frozenset[str]:
    """The answers that conditions from ``step_id`` on depend on: only they tell two visits
    to the same question apart."""
    keys: set[str] = set()
    seen: set[str] = set()
    todo = [step_id]
    while todo:
        current = todo.pop()
        if current == END or current in seen:
            continue
        seen.add(current)
        step = flow.step(current)
        if isinstance(step.next, tuple):
            for branch in step.next:
                keys |= set(branch.when or {})
        todo.extend(step.targets())
    return frozenset(keys)


def explore(
    engine: Engine,
    flow_id: str,
    text_for: Callable[[Step], str | None] = valid_text,
) -> Iterator[Snapshot]:
    """Every distinct position of the flow at one of its own questions or its summary.

    A summary is confirmed, so questions after a draft are reached too. Calls into other
    flows are not followed (those flows are walked on their own).
    """
    flow = engine.flows[flow_id]
    seen: set[Any] = set()
    todo = [start(engine, flow_id)]
    while todo:
        snap = todo.pop()
        if snap["flow"] != flow_id or snap["mode"] not in {"asking", "summary"}:
            continue
        answers = snap["answers"].get(flow_id, {})
        relevant = branching_keys(flow, snap["step"])
        memo = (
            snap["step"],
            snap["mode"],
            tuple(map(tuple, snap["stack"])),
            frozenset((k, v) for k, v in answers.items() if k in relevant),
        )
        if memo in seen:
            continue
        seen.add(memo)
        yield snap
        if snap["mode"] == "summary":
            _, after = play(engine, snap, action="draft:confirm")
            if after is not None:
                todo.append(after)
            continue
        for move in moves(flow.step(snap["step"]), text_for):
            _, after = play(engine, snap, **move)
            if after is not None:
                todo.append(after)


def first_questions(engine: Engine, flow_id: str) -> dict[str, Snapshot]:
    """One position at each question of the flow that the walk can reach."""
    found: dict[str, Snapshot] = {}
    for snap in explore(engine, flow_id):
        if snap["mode"] == "asking":
            found.setdefault(snap["step"], snap)
    return found


def drafts_with(engine: Engine, flow_id: str, text: str) -> list[Reply]:
    """The replies of confirming the first summary reached with ``text`` typed at every
    free-text question it fits (other questions get a short valid answer)."""

    def text_for(step: Step) -> str | None:
        return valid_text(step, text) or valid_text(step)

    for snap in explore(engine, flow_id, text_for):
        if snap["mode"] == "summary":
            replies, _ = play(engine, snap, action="draft:confirm")
            if any(r.draft for r in replies):
                return replies
    raise AssertionError(f"{flow_id}: no path to a draft found")
