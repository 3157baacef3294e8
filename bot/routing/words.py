"""The word lists the router reads beside its classifier (knowledge/routing.yaml).

Risk words (misspelt or not) say a child may be at risk, whatever the classifier thinks;
look-up openers and case cues tell a question about a document from a case in hand; small
talk gets the menu. Everyday phrases that contain a listed word ("stay in touch" is not
"touching") are taken out before the words are looked for.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz, process

from bot.kb.documents import KnowledgeError, read_yaml
from bot.kb.text import STOPWORDS, stem, terms, words


class Phrases:
    """Stemmed phrases, found in a message by looking up each run of its terms."""

    def __init__(self, items: list[str]) -> None:
        self._set = frozenset(t for t in (tuple(terms(p)) for p in items) if t)
        self._longest = max((len(p) for p in self._set), default=0)

    def __bool__(self) -> bool:
        return bool(self._set)

    def found_in(self, stemmed: list[str]) -> bool:
        return any(
            tuple(stemmed[start : start + length]) in self._set
            for start in range(len(stemmed))
            for length in range(1, min(self._longest, len(stemmed) - start) + 1)
        )


class WordList:
    """Phrases looked for in a message, after taking out the harmless exceptions ("stay in
    touch" is not "touching"); with `respell`, a misspelt long word ("safegaurding") is read
    as the listed word it is closest to.

    Respelling is separate from the router's general typo repair: a misspelling may be common
    enough to sit among the flows' own trigger examples, and must be caught all the same."""

    def __init__(
        self, items: list[str], exceptions: list[str] | None = None, respell: bool = False
    ) -> None:
        self.phrases = Phrases(items)
        self.exceptions = [" ".join(words(p)) for p in exceptions or ()]
        self._long = sorted({w for p in items for w in words(p) if len(w) >= 6})
        self._respell: Callable[[str], str] | None = (
            lru_cache(maxsize=4096)(self._respell_uncached) if respell else None
        )

    def __bool__(self) -> bool:
        return bool(self.phrases)

    def _respell_uncached(self, word: str) -> str:
        if word in self._long or len(word) < 6 or word in STOPWORDS:
            return word
        return nearest(word, self._long, 90)

    def _plain_found(self, plain: str) -> bool:
        for exception in self.exceptions:
            plain = plain.replace(exception, " ")
        return self.phrases.found_in([stem(w) for w in plain.split()])

    def found_in(self, text: str) -> bool:
        surface = words(text)
        if self._plain_found(" ".join(surface)):
            return True
        if self._respell is None:
            return False
        respelt = [self._respell(w) for w in surface]
        return respelt != surface and self._plain_found(" ".join(respelt))


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
        domain: list[str] = (),  # type: ignore[assignment]
        not_domain: list[str] = (),  # type: ignore[assignment]
    ) -> None:
        self.risk = WordList(risk, not_risk, respell=True)
        self.children = WordList(list(children), list(not_children))
        self.domain = WordList(list(domain), list(not_domain), respell=True)
        self.case_cues = Phrases(list(case_cues))
        self.small_talk = {w for p in small_talk for w in words(p)}
        self.lookup_openers = [" ".join(words(p)) for p in lookup_openers]

    def looks_like_lookup(self, text: str) -> bool:
        """A question about what a document says, naming no case in hand."""
        plain = " ".join(words(text))
        asks = any(plain.startswith(o) for o in self.lookup_openers) or bool(
            re.search(r"\b(para(graph)?|clause)\s*\d", plain)
        )
        return asks and not self.case_cues.found_in(terms(text))

    @classmethod
    def load(cls, path: Path) -> RoutingData:
        raw = read_yaml(path, "routing data") or {}
        if not isinstance(raw, dict):
            raise KnowledgeError(f"{path}: routing data must be a mapping of lists of phrases")
        lists = {key: [str(x) for x in raw.get(key, [])] for key in _LISTS}
        return cls(**lists)


_LISTS = (
    "risk",
    "small_talk",
    "lookup_openers",
    "case_cues",
    "not_risk",
    "children",
    "not_children",
    "domain",
    "not_domain",
)

DOCUMENT_WORDS = frozenset(
    ["mou", "memorandum", "protocol", "agreement", "paragraph", "para", "clause", "annex"]
)


def nearest(word: str, choices: list[str], cutoff: int) -> str:
    """The closest of the choices to a misspelt word, or the word itself.

    A misspelling keeps its first letter far more often than not ("nearest" is not
    "interest")."""
    match = process.extractOne(word, choices, scorer=fuzz.ratio, score_cutoff=cutoff)
    return str(match[0]) if match and str(match[0])[0] == word[0] else word
