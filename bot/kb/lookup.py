"""Whether the documents answer a look-up, and the current practice that does when they do not.

The search ranks clauses; it cannot tell that the nearest clause about FOI sets no FOI
deadline. A question that asks for a deadline, a phone number or a contact is answered by
the documents only when a clause shown both matches the question's subject and states that
kind of thing. A contact the documents give only as it was when they were agreed (a
historical clause) is not a current answer. When the documents do not answer, the reply
says so plainly, then shows current practice that does (practice notes, currency notes,
the contacts file), each labelled with its source and whether it has been verified, and
then the nearest clauses.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from bot.kb.documents import KnowledgeError
from bot.kb.model import Clause
from bot.kb.practice import (
    CONTACTS_FILE,
    PRACTICE_FILE,
    ContactRoute,
    PracticeNote,
    load_contact_routes,
    load_practice_notes,
)
from bot.kb.search import ClauseIndex, Result
from bot.kb.text import STOPWORDS, stem, words

log = logging.getLogger(__name__)

Asks = Literal["deadline", "contact", "phone"]

# what a question asks for, tried in this order. "Who do we talk to" asks for a body, which a
# clause can name, so only a contact's details count as asking for a contact.
_ASKS: tuple[tuple[Asks, re.Pattern[str]], ...] = (
    (
        "deadline",
        re.compile(
            r"\b(?:deadlines?|time ?limits?|time ?scales?|time ?frames?|how long|how quickly|"
            r"how soon|how many (?:working )?days|by when|response times?|due date|turnaround)\b"
        ),
    ),
    (
        "contact",
        re.compile(
            r"\b(?:named contacts?|points? of contact|contact details|e-?mail address(?:es)?|"
            r"postal address|mailbox|inbox|who (?:is|are) (?:the|our|their|its) (?:\w+ )?contacts?|"
            r"how (?:do|can|should|would) (?:i|we|they|you) (?:contact|reach|get hold of)|"
            r"get hold of (?:us|them|him|her|me|you|someone|somebody))\b"
        ),
    ),
    (
        "phone",
        re.compile(
            r"\b(?:(?:tele)?phone|"
            r"(?<!paragraph )(?<!para )(?<!clause )(?<!section )(?<!reference )(?<!case )"
            r"numbers?(?! of\b))\b"
        ),
    ),
)
# verbs that say nothing about a question's subject ("which mailbox do they use")
_FILLER = frozenset(["use", "uses", "using", "used", "need", "needs"])
_NUMBER = r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|twelve|fourteen|twenty|thirty)"
_UNIT = r"(?:working |calendar |clear )?(?:days?|weeks?|months?|hours?|years?)"
# a time a clause sets ("within 2 weeks", "three months after issue", "as soon as possible"),
# not a period it looks back over ("within the previous 5 years")
_TIME = re.compile(
    rf"\bwithin {_NUMBER} {_UNIT}\b|\b{_NUMBER} {_UNIT} (?:after|of|from|before)\b|"
    r"\b(?:immediately|without delay|as soon as|promptly|forthwith|no later than)\b",
    re.IGNORECASE,
)
_CONTACT = re.compile(r"(?<!\d)0\d{2,4}(?:[ -]?\d{3,4}){2}(?!\d)|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_STATES: dict[Asks, re.Pattern[str]] = {"deadline": _TIME, "contact": _CONTACT, "phone": _CONTACT}
_REASON: dict[Asks, str] = {
    "deadline": "none of them sets a deadline or timescale for it",
    "contact": "none of them names a current contact for it",
    "phone": "none of them gives a current phone number for it",
}
# words in a contact's name that do not say which organisation it is
_GENERIC = frozenset(
    stem(w)
    for w in [
        "local",
        "government",
        "social",
        "care",
        "children",
        "child",
        "services",
        "service",
        "council",
        "commission",
        "number",
        "contact",
        "phone",
    ]
)
ANSWERS = 0.6  # share of the question's subject a clause must match to answer it
ANSWERS_FIRST = 0.3  # ... or less for the clause the search ranked first, its best evidence
NOTE_ANSWERS = 0.5  # share of the question's subject a current-practice note must match
MAX_PRACTICE = 3


@dataclass(frozen=True, slots=True)
class PracticeLine:
    """A later fact that answers the question: never protocol text, always labelled."""

    text: str
    source: str
    verified: bool


@dataclass(frozen=True)
class Answer:
    query: str
    result: Result
    asks: Asks | None  # a deadline, a contact or a phone number, or None for anything else
    answered: bool  # a clause shown answers the question with current text
    historical_year: int | None  # the documents give it only in a historical clause of then
    practice: tuple[PracticeLine, ...] = ()

    @property
    def shows_anything(self) -> bool:
        return self.result.useful or bool(self.practice)

    def heading(self, *, echo: bool = True) -> str:
        """The words above the clauses: what they say, or plainly that they do not answer.
        ``echo=False`` leaves the question out (a group chat others read: it may name a case)."""
        asked = f"“{self.query}”" if echo else "that question"
        if self.answered:
            return f"What the documents say about {asked}:" if echo else "What the documents say:"
        if self.historical_year is not None and self.asks in ("contact", "phone"):
            said = (
                f"The documents do not answer {asked} with a current contact: they give "
                f"only a contact from {self.historical_year}, which is historical (labelled so "
                "below)."
            )
        elif self.asks is not None and self.result.useful:
            said = f"The documents do not answer {asked}: {_REASON[self.asks]}."
        else:
            said = f"The documents do not answer {asked}."
        parts = [said]
        if self.practice:
            parts.append("\n\nCurrent practice (not in the documents; check before relying on it):")
            for line in self.practice:
                flag = "verified" if line.verified else "unverified"
                parts.append(f"\n- {line.text} [{flag}; source: {line.source}]")
        if self.result.useful:
            parts.append("\n\nThe nearest clauses:")
        return "".join(parts)


def look_up(index: ClauseIndex, query: str, k: int = 3, document: str | None = None) -> Answer:
    """Search the clauses, then judge whether they answer; raises QueryError like search."""
    result = index.search(query, k=k, document=document)
    asks = asks_for(query)
    if asks is None and result.useful:
        return Answer(query, result, None, True, None)
    topic = _topic(index, query)
    shown = [h.clause for h in result.hits] if result.useful else []
    stating = [c for rank, c in enumerate(shown) if asks and _states(index, c, asks, topic, rank)]
    current = [c for c in stating if _status(index, c) != "historical"]
    if current:
        return Answer(query, result, asks, True, None)
    year = index.kb.document_of(stating[0]).in_force.year if stating else None
    practice = _practice(index, query, asks, topic)
    return Answer(query, result, asks, False, year, practice)


def asks_for(query: str) -> Asks | None:
    lowered = query.lower().replace("’", "'")
    return next((kind for kind, pattern in _ASKS if pattern.search(lowered)), None)


# --- subject matching --------------------------------------------------------------------
def _concept_spans(index: ClauseIndex, surface: list[str]) -> list[tuple[int, int, list[str]]]:
    """Glossary phrases in the words, leaving out a lone stopword ("we" is not Ofsted here)."""
    spans = index.glossary.spans([stem(w) for w in surface])
    return [s for s in spans if not (s[1] == 1 and surface[s[0]] in STOPWORDS)]


def _topic(index: ClauseIndex, query: str) -> dict[str, float]:
    """What the question is about, weighted: its words and concepts, less the words that say
    what kind of thing it asks for ("deadline", "phone number", "named contact")."""
    lowered = query.lower().replace("’", "'")
    for _, pattern in _ASKS:
        lowered = pattern.sub(" ", lowered)
    surface = words(lowered)
    covered: set[int] = set()
    concepts: set[str] = set()
    for start, length, found in _concept_spans(index, surface):
        covered.update(range(start, start + length))
        concepts.update(found)
    terms = {
        stem(w)
        for i, w in enumerate(surface)
        if i not in covered and w not in STOPWORDS and w not in _FILLER and not w.isdigit()
    }
    return {t: index.idf(t) for t in terms | concepts}


def _bag(index: ClauseIndex, text: str) -> set[str]:
    surface = words(text)
    bag = {stem(w) for w in surface if w not in STOPWORDS}
    for _, _, found in _concept_spans(index, surface):
        bag.update(found)
    return bag


def _coverage(topic: dict[str, float], bag: Iterable[str]) -> float | None:
    total = sum(topic.values())
    if not total:
        return None
    have = set(bag)
    return sum(w for t, w in topic.items() if t in have) / total


def _states(
    index: ClauseIndex, clause: Clause, asks: Asks, topic: dict[str, float], rank: int
) -> bool:
    """The clause states the kind of thing asked for, about the question's subject."""
    if not _STATES[asks].search(clause.text):
        return False
    if not topic:  # "what is the deadline?": anything stating one answers
        return True
    # a subject no clause mentions ("subject access requests") no clause answers
    known = {t: w for t, w in topic.items() if index.knows(t)}
    coverage = _coverage(known, index.terms_of(clause.id))
    return coverage is not None and coverage >= (ANSWERS_FIRST if rank == 0 else ANSWERS)


def _status(index: ClauseIndex, clause: Clause) -> str:
    return index.kb.document_of(clause).status_of(clause.id)


# --- current practice --------------------------------------------------------------------
def _practice(
    index: ClauseIndex, query: str, asks: Asks | None, topic: dict[str, float]
) -> tuple[PracticeLine, ...]:
    notes, routes = _practice_of(index.kb.root)
    lines: list[PracticeLine] = []
    if asks in ("contact", "phone"):
        named = _named(index, query)
        # an entry with no way to reach it (a body named for flows to quote) answers no
        # contact question
        lines += [
            PracticeLine(r.text, f"contacts file, from {r.source}", r.verified)
            for r in routes
            if r.details and named & _names_of(index, r)
        ]
    candidates: dict[str, tuple[str, bool, str]] = {}
    for note in notes:
        candidates.setdefault(note.text, (note.source, note.verified, " ".join(note.phrases)))
    for document in index.kb.documents.values():
        for currency in document.currency_notes:
            candidates.setdefault(currency.text, (currency.source, currency.verified, ""))
    scored: list[tuple[float, int, PracticeLine]] = []
    for text, (source, verified, phrases) in candidates.items():
        if asks is not None and not _STATES[asks].search(text):
            continue
        coverage = _coverage(topic, _bag(index, f"{text} {phrases}"))
        if coverage is not None and coverage >= NOTE_ANSWERS:
            scored.append((-coverage, len(scored), PracticeLine(text, source, verified)))
    lines += [line for *_, line in sorted(scored)]
    return tuple(lines[:MAX_PRACTICE])


def _named(index: ClauseIndex, text: str) -> set[str]:
    """The organisations a text names: glossary concepts and distinctive words."""
    surface = words(text)
    found = {c for _, _, concepts in _concept_spans(index, surface) for c in concepts}
    found |= {stem(w) for w in surface if w not in STOPWORDS and len(w) >= 4}
    return found


def _names_of(index: ClauseIndex, route: ContactRoute) -> set[str]:
    named = _named(index, f"{route.name} {route.key.replace('_', ' ')}")
    return {n for n in named if n not in _GENERIC}


@lru_cache(maxsize=8)
def _cached(
    root: Path, stamps: tuple[int, ...]
) -> tuple[tuple[PracticeNote, ...], tuple[ContactRoute, ...]]:
    del stamps  # part of the cache key only: an edited file is read again
    return tuple(load_practice_notes(root)), tuple(load_contact_routes(root))


def _practice_of(root: Path) -> tuple[tuple[PracticeNote, ...], tuple[ContactRoute, ...]]:
    stamps = tuple(
        (root / name).stat().st_mtime_ns if (root / name).exists() else 0
        for name in (PRACTICE_FILE, CONTACTS_FILE)
    )
    try:
        return _cached(root, stamps)
    except KnowledgeError as exc:  # kb check names the fault; a look-up still answers
        log.warning("current practice not shown: %s", exc)
        return (), ()
