"""A conversation's state: where the user is in which flow, and what they have answered."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any

Mode = str  # "idle" | "asking" | "summary" | "running" | "risk" | "done"


class SessionUnreadable(ValueError):
    """A stored session that cannot be read back; the store deletes it."""


@dataclass
class Mark:
    """A point the user can go back to: an answered question and the call stack around it."""

    flow: str
    step: str
    stack: list[tuple[str, str]]


@dataclass
class Session:
    key: str
    flow: str | None = None
    step: str | None = None
    mode: Mode = "idle"
    answers: dict[str, dict[str, str]] = field(default_factory=dict)  # flow id -> step -> text
    history: list[Mark] = field(default_factory=list)
    stack: list[tuple[str, str]] = field(default_factory=list)  # (flow, step to return to)
    retries: int = 0
    confirmed: bool = False  # the answers summary was confirmed for the drafts
    editing: bool = False  # re-asking one answer from the summary
    last_cites: list[str] = field(default_factory=list)
    seen_says: list[str] = field(default_factory=list)  # "flow/step" already shown
    done_calls: list[str] = field(default_factory=list)  # called flows completed
    pending_text: str = ""  # the free text a "did you mean" menu is about (kept with the session)
    # the drafts ("flow/draft:step") the last turn that drafted rendered: they are committed
    # before the channel shows them, so after a crash `resume` shows them again
    recent_drafts: list[str] = field(default_factory=list)
    # --- the safety net (bot/dialogue/safety.py) ---
    risk: bool = False  # a possible risk to a child was signalled: the safety card is owed
    risk_referred: bool = False  # the user confirmed the concern has already been referred
    risk_check: str = ""  # a risky answer waiting for the user's choice: how to carry on after
    confirming: str = ""  # a question before leaving: "cancel", "restart", "switch:<flow>[:risk]"
    paused: dict[str, Any] | None = None  # a flow kept aside to come back to with resume
    noted: str = ""  # the safety note last kept in the store for this conversation
    version: int = 0
    updated_at: float = field(default_factory=time.time)

    # --- helpers -----------------------------------------------------------------------
    def flow_answers(self, flow_id: str | None = None) -> dict[str, str]:
        return self.answers.setdefault(flow_id or self.flow or "", {})

    def has_answers(self) -> bool:
        return any(self.answers.values())

    def reset(self) -> None:
        """Forget the flow and every answer (case details go with it); a paused flow is kept."""
        kept = {name: getattr(self, name) for name in _KEPT_ON_RESET}
        self.__dict__.update(Session(key=self.key).__dict__)
        self.__dict__.update(kept)

    def pause(self) -> None:
        """Put the flow aside, answers and all, and start afresh; :meth:`unpause` brings it back."""
        state = {name: getattr(self, name) for name in _FLOW_FIELDS}
        state["history"] = [asdict(m) for m in self.history]
        self.reset()
        self.paused = json.loads(json.dumps(state))  # plain data, as it is stored

    def unpause(self) -> None:
        """The paused flow becomes the flow in hand (whatever was in hand is forgotten)."""
        state = self.paused or {}
        self.reset()
        self.paused = None
        restored = Session.from_dict({**state, "key": self.key})
        for name in _FLOW_FIELDS:
            setattr(self, name, getattr(restored, name))

    def paused_session(self) -> Session | None:
        """The paused flow's state as a session of its own, to read (not to save)."""
        if not self.paused:
            return None
        return Session.from_dict({**self.paused, "key": self.key})

    # --- storage -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        """``json.dumps(self.to_dict())``, byte for byte, without deep-copying the session
        first: the stores call this on every save."""
        data = {name: getattr(self, name) for name in _SESSION_FIELDS}
        data["history"] = [{name: getattr(m, name) for name in _MARK_FIELDS} for m in self.history]
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str | bytes) -> Session:
        """The session ``to_json`` wrote; SessionUnreadable for anything else (a damaged
        row, or one an older or newer version of the bot wrote in another shape)."""
        try:
            session = cls.from_dict(json.loads(text))
            if not isinstance(session.key, str) or not isinstance(session.answers, dict):
                raise TypeError("not a session")
            session.paused_session()  # a paused flow must read back too
            return session
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise SessionUnreadable(type(exc).__name__) from exc

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Session:
        data = dict(data)
        data["history"] = [
            Mark(m["flow"], m["step"], [(a, b) for a, b in m["stack"]])
            for m in data.get("history", [])
        ]
        data["stack"] = [(a, b) for a, b in data.get("stack", [])]
        return cls(**data)


# field names in declaration order, the order asdict gives
_SESSION_FIELDS = tuple(f.name for f in fields(Session))
# what belongs to the conversation rather than to the flow in hand
_KEPT_ON_RESET = ("key", "version", "updated_at", "paused", "noted")
_FLOW_FIELDS = tuple(
    name for name in _SESSION_FIELDS if name not in {*_KEPT_ON_RESET, "pending_text", "confirming"}
)
_MARK_FIELDS = tuple(f.name for f in fields(Mark))
