"""Map a free-text message to a flow, with a confidence, or admit it is not sure.

Each flow is described by its trigger examples, title and description. A message is
compared with them as TF-IDF vectors of stemmed words plus glossary concepts (so
"ombudsmen", "LGSCO" and "council complaint" meet), with typo repair against the flows'
vocabulary. Words that suggest a child may be at risk always bring the safeguarding flow in.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from rapidfuzz import fuzz, process

from bot.dialogue.flow import Flow
from bot.kb.glossary import Glossary
from bot.kb.text import STOPWORDS, stem, words

SAFEGUARDING = "safeguarding_concern"
CONFIDENT = 0.34  # cosine a message needs to start a flow on its own
MARGIN = 0.08  # and its lead over the runner-up
PLAUSIBLE = 0.16  # worth offering as an alternative


@dataclass(frozen=True)
class Route:
    flow: str | None
    confidence: float
    alternatives: tuple[tuple[str, float], ...] = ()
    risk: bool = False
    small_talk: bool = False
    lookup: bool = False
    scores: dict[str, float] = field(default_factory=dict)


class RoutingData:
    def __init__(self, risk: list[str], small_talk: list[str], lookup_openers: list[str]) -> None:
        self.risk = [tuple(stem(w) for w in words(p)) for p in risk]
        self.small_talk = {" ".join(words(p)) for p in small_talk}
        self.lookup_openers = [" ".join(words(p)) for p in lookup_openers]

    @classmethod
    def load(cls, path: Path) -> RoutingData:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return cls(
            [str(x) for x in raw.get("risk", [])],
            [str(x) for x in raw.get("small_talk", [])],
            [str(x) for x in raw.get("lookup_openers", [])],
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
        match = process.extractOne(word, self._vocabulary, scorer=fuzz.ratio, score_cutoff=80)
        return str(match[0]) if match else word

    def _weigh(self, bag: Counter[str]) -> dict[str, float]:
        vector = {t: (1 + math.log(c)) * self._idf.get(t, 0.0) for t, c in bag.items()}
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        return {t: v / norm for t, v in vector.items()}

    def has_risk(self, text: str) -> bool:
        stemmed = [stem(w) for w in words(text)]
        return any(
            stemmed[i : i + len(p)] == list(p)
            for p in self.data.risk
            for i in range(len(stemmed) - len(p) + 1)
        )

    def looks_like_lookup(self, text: str) -> bool:
        plain = " ".join(words(text))
        return any(plain.startswith(o) for o in self.data.lookup_openers) or bool(
            re.search(r"\b(para(graph)?|clause)\s*\d", plain)
        )

    def route(self, text: str) -> Route:
        plain = " ".join(words(text))
        risk = self.has_risk(text)
        if not plain or (plain in self.data.small_talk and not risk):
            return Route(None, 0.0, small_talk=True)
        query = self._weigh(Counter(self._features(text, fix_typos=True)))
        scores = {
            fid: round(sum(w * vec.get(t, 0.0) for t, w in query.items()), 4)
            for fid, vec in self._vectors.items()
        }
        ranked = sorted(scores.items(), key=lambda kv: -kv[1])
        top, best = ranked[0]
        runner = ranked[1][1] if len(ranked) > 1 else 0.0
        lookup = self.looks_like_lookup(text) and not risk
        alternatives = tuple((f, s) for f, s in ranked[1:] if s >= PLAUSIBLE)[:2]
        if risk and SAFEGUARDING in self.flows:
            if top != SAFEGUARDING:
                alternatives = ((top, best), *[(f, s) for f, s in alternatives if f != SAFEGUARDING])
                alternatives = alternatives[:2]
                return Route(SAFEGUARDING, scores.get(SAFEGUARDING, 0.0), alternatives, True, False, False, scores)
            return Route(SAFEGUARDING, max(best, CONFIDENT), alternatives, True, False, False, scores)
        if lookup:
            return Route(None, best, tuple(r for r in ranked if r[1] >= PLAUSIBLE)[:3], False, False, True, scores)
        if best >= CONFIDENT and best - runner >= MARGIN:
            return Route(top, best, alternatives, False, False, False, scores)
        plausible = tuple((f, s) for f, s in ranked if s >= PLAUSIBLE)[:3]
        return Route(None, best, plausible, False, not plausible, False, scores)
