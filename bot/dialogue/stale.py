"""Whether a stored session still fits the flows as they are now.

An administrator may rename a step or remove a flow while conversations are open. A session
that points at a step or flow that no longer exists cannot be carried on; the engine resets it
with a message, and `kb check` warns before such a change strands anyone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from bot.dialogue.flow import END, Flow
from bot.dialogue.session import Session

__all__ = ["stale_reason", "stranded"]


def _missing(flows: Mapping[str, Flow], flow_id: str | None, step_id: str | None) -> str | None:
    if flow_id is None:
        return None
    flow = flows.get(flow_id)
    if flow is None:
        return f"the protocol {flow_id!r} no longer exists"
    if step_id is None or step_id == END:
        return None
    if all(step.id != step_id for step in flow.steps):
        return f"“{flow.title}” no longer has the step {step_id!r}"
    return None


def stale_reason(session: Session, flows: Mapping[str, Flow]) -> str | None:
    """Why ``session`` (or the flow it has paused) can no longer be carried on with
    ``flows`` (None if it can)."""
    paused = session.paused_session()
    places: list[tuple[str | None, str | None]] = []
    for state in (session, paused) if paused is not None else (session,):
        places += [(state.flow, state.step)]
        places += list(state.stack)
        places += [(mark.flow, mark.step) for mark in state.history]
        places += [(flow, step) for mark in state.history for flow, step in mark.stack]
    for flow_id, step_id in places:
        reason = _missing(flows, flow_id, step_id)
        if reason is not None:
            return reason
    return None


def stranded(sessions: Iterable[Session | None], flows: Mapping[str, Flow]) -> list[str]:
    """One line per reason open conversations could not be carried on with ``flows``, with
    how many: what `kb check` warns of before an edit strands anyone."""
    reasons: Counter[str] = Counter()
    for session in sessions:
        reason = "cannot be read" if session is None else stale_reason(session, flows)
        if reason is not None:
            reasons[reason] += 1
    return [f"{n} open conversation(s): {reason}" for reason, n in sorted(reasons.items())]
