"""The safety net under every flow: what a conversation remembers about a possible risk to a
child, and the short card that says where the concern must go.

A risk is signalled by a question marked ``screens_risk`` answered other than "no", by any
answer in the safeguarding flow, by risk words in a typed answer (the re-screen) or in a
message routed to a flow. From then on, leaving the flow by any way (cancel, restart,
switching to another flow, the flow's own end, or the conversation expiring while the user
is away) shows the card before anything is deleted.

The card is current practice (Ofsted guidance for inspectors), not protocol text, and says
so. Its numbers come from knowledge/contacts.yaml and its councils' contacts from the local
authority directory, each flagged as the renderer and the directory flag them where nobody
has verified them; the bot never invents a contact.

A :class:`SafetyNote` is what the card needs and nothing about the case: the councils
involved (as the directory names them, never as typed), whether someone who works with
children is implicated, and whether the user confirmed the concern is already referred. The
store keeps it past the session (``SessionStore.keep_safety_note``) so the card can still be
shown to a user who comes back after their answers were deleted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bot.dialogue.flow import SAFEGUARDING, Flow, Step
from bot.dialogue.session import Session
from bot.kb.directory import Directory

__all__ = [
    "DRAFT_CONTEXT",
    "SafetyNote",
    "conversation_note",
    "note_of",
    "safety_card",
    "signals_risk",
]

# what the engine adds to the context of every text it renders (a template may use it)
DRAFT_CONTEXT = frozenset({"risk_already_referred", "risk_signalled"})
MAX_COUNCILS = 3  # a card names at most this many councils


@dataclass(frozen=True)
class SafetyNote:
    """What the safety card needs, and nothing about the case.

    councils  the councils answered in the flow, as the directory names them (unmatched
              names are left out: they are what the user typed)
    worker    someone who works with children is implicated: True, False, or None when no
              question asked
    referred  the user confirmed the concern has already been referred
    """

    councils: tuple[str, ...] = ()
    worker: bool | None = None
    referred: bool = False

    def to_json(self) -> str:
        return json.dumps(
            {"councils": list(self.councils), "worker": self.worker, "referred": self.referred},
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> SafetyNote:
        """The note ``to_json`` wrote; a note that cannot be read still owes the card."""
        try:
            data = json.loads(text)
            councils = tuple(str(c) for c in data.get("councils", []))[:MAX_COUNCILS]
            worker = data.get("worker")
            return cls(
                councils,
                worker if isinstance(worker, bool) else None,
                data.get("referred") is True,
            )
        except (ValueError, AttributeError, TypeError):
            return cls()

    def merged(self, other: SafetyNote) -> SafetyNote:
        councils = tuple(dict.fromkeys((*self.councils, *other.councils)))[:MAX_COUNCILS]
        workers = [w for w in (self.worker, other.worker) if w is not None]
        return SafetyNote(
            councils, any(workers) if workers else None, self.referred and other.referred
        )


def signals_risk(flow_id: str, step: Step, value: str) -> bool:
    """Whether an answer signals a possible risk to a child: any answer in the safeguarding
    flow, or a risk-screening question answered other than "no"."""
    return flow_id == SAFEGUARDING or (step.screens_risk and value != "no")


def note_of(session: Session, flows: Mapping[str, Flow], directory: Directory) -> SafetyNote | None:
    """The note for the flow a session has in hand (with the flows it called), or None when
    no risk was signalled in it."""
    if not session.risk:
        return None
    councils: list[str] = []
    worker: bool | None = None
    for flow_id, answers in session.answers.items():
        flow = flows.get(flow_id)
        if flow is None or not answers:
            continue
        for step in _card_questions(flow):
            value = answers.get(step.id)
            if not value:
                continue
            if step.type == "council":
                for part in value.split(";"):
                    name = _directory_name(directory, part.strip())
                    if name is not None and name not in councils:
                        councils.append(name)
            if step.implicates_worker:
                worker = bool(worker) or value in step.implicates_worker
    return SafetyNote(tuple(councils[:MAX_COUNCILS]), worker, session.risk_referred)


_CARD_QUESTIONS: dict[int, tuple[Flow, tuple[Step, ...]]] = {}


def _card_questions(flow: Flow) -> tuple[Step, ...]:
    """A flow's questions whose answers the card uses: councils, and who is implicated
    (worked out once per flow: the note is kept up to date on every turn of a risky
    conversation)."""
    cached = _CARD_QUESTIONS.get(id(flow))
    if cached is not None and cached[0] is flow:
        return cached[1]
    if len(_CARD_QUESTIONS) > 256:
        _CARD_QUESTIONS.clear()
    steps = tuple(s for s in flow.steps if s.ask and (s.type == "council" or s.implicates_worker))
    _CARD_QUESTIONS[id(flow)] = (flow, steps)
    return steps


@lru_cache(maxsize=4096)
def _directory_name(directory: Directory, typed: str) -> str | None:
    """The directory's name for a council answer, or None (the note is kept up to date on
    every turn of a risky conversation, so a name not in the directory is matched once)."""
    council = directory.match(typed).council
    return council.name if council is not None else None


def conversation_note(
    session: Session, flows: Mapping[str, Flow], directory: Directory
) -> SafetyNote | None:
    """The note for the whole conversation: the flow in hand and a paused one."""
    notes = [n for n in _notes(session, flows, directory) if n is not None]
    if not notes:
        return None
    note = notes[0]
    for other in notes[1:]:
        note = note.merged(other)
    return note


def _notes(
    session: Session, flows: Mapping[str, Flow], directory: Directory
) -> Iterable[SafetyNote | None]:
    yield note_of(session, flows, directory)
    if session.paused and session.paused.get("risk"):
        paused = session.paused_session()
        if paused is not None:
            yield note_of(paused, flows, directory)


def _phone(contacts: Mapping[str, Any], key: str, what: str) -> str:
    entry = contacts.get(key)
    phone = entry.get("phone") if isinstance(entry, Mapping) else None
    return str(phone) if phone else f"[{what}: not in the contacts file - look it up]"


def safety_card(
    note: SafetyNote, heading: str, directory: Directory, contacts: Mapping[str, Any]
) -> str:
    """The card: where a concern about a child must go, as current practice has it.

    ``contacts`` are the contacts as flows show them (unverified details already flagged)."""
    emergency = _phone(contacts, "emergency", "emergency number")
    police = _phone(contacts, "police_non_emergency", "police non-emergency number")
    cards = [directory.card(name) for name in note.councils]
    lines = [
        f"{heading} A possible risk to a child came up. Make sure the concern has gone where "
        "it must (current practice, not in the protocol):",
        f"• A child in immediate danger: call {emergency} (police or ambulance) now.",
        "• Children's social care in the council where the child lives: phone its front door "
        "(MASH); out of hours, its emergency duty team.",
    ]
    if cards:
        for card in cards:
            lines.append(
                f"  {card.name}: front door {card.front_door}; out of hours {card.out_of_hours}"
            )
    else:
        lines.append(
            "  The council is not known here: find the council where the child lives, and its "
            "children's services front door and out-of-hours team, on the council's website."
        )
    lines.append(f"• Where a crime may have been committed: the police on {police}.")
    lado = "; ".join(f"{card.name}: {card.lado}" for card in cards)
    where = f" ({lado})" if lado else ""
    if note.worker is True:
        lines.append(
            "• Someone who works with children is implicated: the LADO (Local Authority "
            f"Designated Officer) for the area where they work{where}."
        )
    elif note.worker is None:
        lines.append(
            "• If the concern is about someone who works with children (staff, a carer, a "
            "manager): the LADO (Local Authority Designated Officer) for the area where they "
            f"work{where}."
        )
    if note.referred:
        lines.append("You said the concern has already been referred: check that it got there.")
    return "\n".join(lines)
