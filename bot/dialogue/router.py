"""Map a free-text message to a flow, with a confidence, or admit it is not sure.

Each flow is described by its trigger examples, title and description. A message is
compared with them as TF-IDF vectors of stemmed words plus glossary concepts (so
"ombudsmen", "LGSCO" and "council complaint" meet), with typo repair against the flows'
vocabulary. Words that suggest a child may be at risk (misspelt or not) always bring the
safeguarding flow in: it is started, unless the message is clearly about a flow that itself
asks first whether the concern has been referred (press interest in an abuse case), which is
then started with safeguarding offered beside it. A bare name ("lgo") or a message close to
three flows at once asks rather than guesses.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz, process

from bot.dialogue.flow import SAFEGUARDING, Flow
from bot.kb.documents import KnowledgeError, read_yaml
from bot.kb.glossary import Glossary
from bot.kb.text import STOPWORDS, stem, words

START = 0.18  # similarity a message needs before a flow is started on its own
LEAD = 1.1  # and how far ahead of the runner-up it must be
PLAUSIBLE = 0.14  # worth offering as an alternative
SHORT_LEAD = 1.5  # the lead a one-word message needs
DIFFUSE = 1.25  # three flows this close together: the message is too general to pick one
RISK_LEAD = 1.6  # lead over safeguarding a flow that checks the referral first needs, at risk


@dataclass(frozen=True)
class Route:
    """The router's decision: a flow to start, or choices to offer, or neither.

    flow       the flow to start now, or None
    offer      flows to offer when unsure, likeliest first (safeguarding first when at risk)
    """

    flow: str | None
    confidence: float
    offer: tuple[str, ...] = ()
    risk: bool = False
    small_talk: bool = False
    lookup: bool = False
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def alternatives(self) -> tuple[tuple[str, float], ...]:
        return tuple((f, self.scores.get(f, 0.0)) for f in self.offer if f != self.flow)


def _phrases(items: list[str]) -> list[tuple[str, ...]]:
    return [tuple(stem(w) for w in words(p)) for p in items]


class RoutingData:
    def __init__(
        self,
        risk: list[str],
        small_talk: list[str],
        lookup_openers: list[str],
        case_cues: list[str] = (),  # type: ignore[assignment]
        not_risk: list[str] = (),  # type: ignore[assignment]
        children: list[str] = (),  # type: ignore[assignment]
        not_children: list[str] = (),  # type: ignore[assignment]
    ) -> None:
        self.children = _phrases(list(children))
        self.not_children = [" ".join(words(p)) for p in not_children]
        self.risk = _phrases(risk)
        self.risk_surface = [" ".join(words(p)) for p in risk]
        self.not_risk = [" ".join(words(p)) for p in not_risk]
        self.case_cues = _phrases(list(case_cues))
        self.small_talk = {w for p in small_talk for w in words(p)}
        self.lookup_openers = [" ".join(words(p)) for p in lookup_openers]

    @classmethod
    def load(cls, path: Path) -> RoutingData:
        raw = read_yaml(path, "routing data") or {}
        if not isinstance(raw, dict):
            raise KnowledgeError(f"{path}: routing data must be a mapping of lists of phrases")
        return cls(
            [str(x) for x in raw.get("risk", [])],
            [str(x) for x in raw.get("small_talk", [])],
            [str(x) for x in raw.get("lookup_openers", [])],
            [str(x) for x in raw.get("case_cues", [])],
            [str(x) for x in raw.get("not_risk", [])],
            [str(x) for x in raw.get("children", [])],
            [str(x) for x in raw.get("not_children", [])],
        )


_DOCUMENT_WORDS = frozenset(
    ["mou", "memorandum", "protocol", "agreement", "paragraph", "para", "clause", "annex"]
)


def _contains(stemmed: list[str], phrases: list[tuple[str, ...]]) -> bool:
    return any(
        tuple(stemmed[i : i + len(p)]) == p
        for p in phrases
        if p
        for i in range(len(stemmed) - len(p) + 1)
    )


class Router:
    def __init__(self, flows: dict[str, Flow], glossary: Glossary, data: RoutingData) -> None:
        self.flows = flows
        self.glossary = glossary
        self.data = data
        bags: dict[str, Counter[str]] = {}
        for flow in flows.values():
            bag: Counter[str] = Counter()
            for text in (*flow.triggers, flow.title, flow.description):
                bag.update(set(self._features(text)))
            bags[flow.id] = bag
        df = Counter(t for bag in bags.values() for t in bag)
        n = len(bags)
        self._idf = {t: math.log((n + 1) / (d + 0.5)) + 0.2 for t, d in df.items()}
        self._vectors = {fid: self._weigh(bag) for fid, bag in bags.items()}
        self._vocabulary = sorted(
            {w for f in flows.values() for t in (*f.triggers, f.title) for w in words(t)}
            | glossary.surface_words
        )
        self._known = set(self._vocabulary)
        self._risk_words = sorted({w for p in data.risk_surface for w in p.split() if len(w) >= 6})

    def _features(self, text: str, fix_typos: bool = False) -> list[str]:
        surface = words(text)
        if fix_typos:
            surface = [self._repair(w) for w in surface]
        stemmed = [stem(w) for w in surface]
        content = [t for t in stemmed if t not in STOPWORDS]
        return content + self.glossary.concepts(stemmed)

    def _repair(self, word: str) -> str:
        if word in self._known or len(word) < 5 or word.isdigit() or word in STOPWORDS:
            return word
        match = process.extractOne(word, self._vocabulary, scorer=fuzz.ratio, score_cutoff=84)
        # a misspelling keeps its first letter far more often than not ("nearest" is not
        # "interest")
        return str(match[0]) if match and str(match[0])[0] == word[0] else word

    def _risk_spelling(self, word: str) -> str:
        """The risk word a misspelling stands for ("safegaurding"), else the word itself.

        Separate from the general repair: a misspelling may be common enough to sit among
        the flows' own trigger examples, and a risk word must be caught all the same."""
        if word in self._risk_words or len(word) < 6 or word in STOPWORDS:
            return word
        match = process.extractOne(word, self._risk_words, scorer=fuzz.ratio, score_cutoff=90)
        return str(match[0]) if match and str(match[0])[0] == word[0] else word

    def _weigh(self, bag: Counter[str]) -> dict[str, float]:
        vector = {t: (1 + math.log(c)) * self._idf.get(t, 0.0) for t, c in bag.items()}
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        return {t: v / norm for t, v in vector.items()}

    def about_a_child(self, text: str) -> bool:
        plain = " ".join(words(text))
        for name in self.data.not_children:  # "the Children's Commissioner" is not a child
            plain = plain.replace(name, " ")
        return _contains([stem(w) for w in plain.split()], self.data.children)

    def has_risk(self, text: str) -> bool:
        plain = " ".join(words(text))
        for harmless in self.data.not_risk:  # "stay in touch" is not "touching"
            plain = plain.replace(harmless, " ")
        return _contains([stem(w) for w in plain.split()], self.data.risk)

    def looks_like_lookup(self, text: str) -> bool:
        """A question about what a document says, naming no case in hand."""
        plain = " ".join(words(text))
        asks = any(plain.startswith(o) for o in self.data.lookup_openers) or bool(
            re.search(r"\b(para(graph)?|clause)\s*\d", plain)
        )
        return asks and not _contains([stem(w) for w in words(text)], self.data.case_cues)

    def route(self, text: str) -> Route:
        surface = words(text)
        # a misspelt risk word ("safegaurding") still counts; so does one the repair would miss
        risk = self.has_risk(text) or self.has_risk(
            " ".join(self._risk_spelling(w) for w in surface)
        )
        content = [w for w in surface if w not in STOPWORDS and w not in self.data.small_talk]
        if not content and not risk:
            return Route(None, 0.0, small_talk=True)
        query = self._weigh(Counter(self._features(text, fix_typos=True)))
        scores = {
            fid: round(sum(w * vec.get(t, 0.0) for t, w in query.items()), 4)
            for fid, vec in self._vectors.items()
        }
        ranked = sorted(scores, key=lambda f: -scores[f])
        top, best = ranked[0], scores[ranked[0]]
        runner = scores[ranked[1]] if len(ranked) > 1 else 0.0
        plausible = tuple(f for f in ranked if scores[f] >= PLAUSIBLE)
        names_document = bool(set(surface) & _DOCUMENT_WORDS)
        if self.looks_like_lookup(text) and (not risk or names_document):
            return Route(None, best, plausible[:3], risk, lookup=True, scores=scores)
        # one shared word is not enough to start a flow ("recommend a good book")
        shared = {t for t in query if not t.startswith("@") and self._vectors[top].get(t)}
        content_terms = {t for t in query if not t.startswith("@")}
        enough = best >= START and len(shared) >= min(2, len(content_terms))
        if risk and SAFEGUARDING in self.flows:
            others = [f for f in plausible if f != SAFEGUARDING]
            if (
                self.flows[top].checks_referral_first
                and enough
                and best >= RISK_LEAD * scores.get(SAFEGUARDING, 0.0)
            ):
                # press interest in an abuse case: that flow, which asks first whether the
                # concern has been referred and runs safeguarding if not; safeguarding is offered
                offer = (top, SAFEGUARDING, *[f for f in others if f != top])[:3]
                return Route(top, best, offer, True, scores=scores)
            # a child may be at risk: safeguarding comes first, whatever else the message is about
            offer = (SAFEGUARDING, *others)[:3]
            return Route(SAFEGUARDING, max(scores[SAFEGUARDING], START), offer, True, scores=scores)
        third = scores[ranked[2]] if len(ranked) > 2 else 0.0
        # a bare name ("lgo", "the ombudsman") says little: it must point at one flow clearly
        lead = LEAD if len(content_terms) > 1 else SHORT_LEAD
        clear = (runner < PLAUSIBLE or best >= lead * runner) and best >= DIFFUSE * third
        if enough and clear:
            return Route(top, best, plausible[:3], scores=scores)
        offer = plausible[:3]
        if SAFEGUARDING in self.flows and self.about_a_child(text):
            # unsure, and about a child: ask about a possible risk first
            offer = (SAFEGUARDING, *[f for f in plausible if f != SAFEGUARDING])[:3]
        return Route(None, best, offer, scores=scores)
