"""Clause look-up: BM25 over clause text and headings, widened by the glossary and typo repair.

Why not plain BM25: staff ask in everyday words ("can a journalist get hold of stuff CQC sent
us"), misspell ("safegaurding") and cite by number ("lgo 17"). The glossary maps words to the
concepts a clause uses, rapidfuzz repairs words the clauses never use, a named document
boosts its own clauses, and a direct reference answers first.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz, process

from bot.kb.base import KnowledgeBase
from bot.kb.documents import KnowledgeError, read_yaml
from bot.kb.glossary import CONCEPT_PREFIX, Glossary
from bot.kb.model import Clause
from bot.kb.references import ReferenceParser
from bot.kb.text import STOPWORDS, stem, words

MAX_QUERY_CHARS = 1000
K1, B = 1.2, 0.75
HEADING_WEIGHT = 2.0
TOPIC_WEIGHT = 1.0
CONCEPT_WEIGHT = 1.0
NAMED_DOCUMENT_BOOST = 1.6
HEADING_MATCH = 90  # rapidfuzz ratio for a quoted section heading
MIN_COVERAGE = 0.3  # share of the query's weight a useful answer must match


class QueryError(ValueError):
    """The query cannot be looked up; the message says why in the user's terms."""


@dataclass(frozen=True)
class Hit:
    clause: Clause
    score: float
    matched: tuple[str, ...] = ()  # surface words of the query that matched
    reference: bool = False


@dataclass
class Result:
    query: str
    hits: list[Hit]
    useful: bool
    corrections: dict[str, str] = field(default_factory=dict)
    documents_named: list[str] = field(default_factory=list)


class ClauseIndex:
    def __init__(
        self,
        kb: KnowledgeBase,
        glossary: Glossary,
        topics: dict[str, list[str]] | None = None,
    ) -> None:
        self.kb = kb
        self.glossary = glossary
        self.references = ReferenceParser(list(kb.documents.values()))
        self.clauses = list(kb.clauses.values())
        topics = topics or {}
        self._surface: set[str] = set(glossary.surface_words)
        lengths: list[float] = []
        self._bags: list[dict[str, float]] = []
        for clause in self.clauses:
            bag: dict[str, float] = defaultdict(float)  # term -> weighted frequency
            fields = [(1.0, clause.text), (HEADING_WEIGHT, clause.heading)]
            fields += [(TOPIC_WEIGHT, phrase) for phrase in topics.get(clause.id, ())]
            for weight, text in fields:
                surface = words(text)
                self._surface.update(surface)
                stemmed = [stem(w) for w in surface]
                for term in stemmed:
                    if term not in STOPWORDS:
                        bag[term] += weight
                for concept in glossary.concepts(stemmed):
                    bag[concept] += weight * CONCEPT_WEIGHT
            self._bags.append(bag)
            lengths.append(sum(bag.values()))
        self._avg = sum(lengths) / max(len(lengths), 1)
        n = len(self.clauses)
        frequency: Counter[str] = Counter(t for bag in self._bags for t in bag)
        self._idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in frequency.items()}
        self._max_idf = math.log(1 + (n + 0.5) / 0.5)
        rows: dict[str, tuple[list[int], list[float]]] = defaultdict(lambda: ([], []))
        for i, (bag, length) in enumerate(zip(self._bags, lengths, strict=True)):
            norm = K1 * (1 - B + B * length / self._avg)
            for term, tf in bag.items():
                where, part = rows[term]
                where.append(i)
                part.append(tf * (K1 + 1) / (tf + norm))
        # postings as arrays: scoring a query is a few vectorised adds, even at 10,000 clauses
        self._postings = {
            t: (np.asarray(w, dtype=np.int32), np.asarray(p, dtype=np.float64))
            for t, (w, p) in rows.items()
        }
        self._doc_of = np.asarray([c.document for c in self.clauses])
        self._vocabulary = sorted(w for w in self._surface if len(w) >= 4 and not w.isdigit())
        self._by_id = {c.id: i for i, c in enumerate(self.clauses)}
        self._headings: dict[str, list[int]] = {}  # heading -> its clauses, in order
        for i, clause in enumerate(self.clauses):
            self._headings.setdefault(clause.heading.lower(), []).append(i)
        self._heading_names = list(self._headings)  # the choices a quoted heading is matched in
        self._correct = lru_cache(maxsize=4096)(self._correct_uncached)

    # --- pickling (the on-disk cache): the typo memo is rebuilt, not stored ------------
    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        del state["_correct"]
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._correct = lru_cache(maxsize=4096)(self._correct_uncached)

    # --- what a clause is about (for judging whether it answers a question) -----------
    def idf(self, term: str) -> float:
        """A term's weight; one no clause uses weighs as much as the rarest term."""
        return self._idf.get(term, self._max_idf)

    def knows(self, term: str) -> bool:
        return term in self._idf

    def terms_of(self, clause_id: str) -> frozenset[str]:
        """The terms and concepts the look-up indexed for a clause (text, heading, phrases)."""
        return frozenset(self._bags[self._by_id[clause_id]])

    # --- references by section heading ------------------------------------------------
    def _section_references(self, query: str, document: str | None) -> list[Hit]:
        """A quoted section heading ("LA protocol section 'Who we check ...'") names its
        paragraphs, which matters for documents without paragraph numbers."""
        quoted = re.findall(r"[‘'\"“]([^’'\"”]{6,120})[’'\"”]", query)
        hits: list[Hit] = []
        for text in quoted:
            # each distinct heading is compared once; its paragraphs follow in document order
            matches = process.extract(
                text.lower(),
                self._heading_names,
                scorer=fuzz.ratio,
                score_cutoff=HEADING_MATCH,
                limit=None,
            )
            for i in sorted(i for heading, _, _ in matches for i in self._headings[heading]):
                clause = self.clauses[i]
                if document in (None, clause.document):
                    hits.append(Hit(clause, 1.0, (), True))
        return hits

    # --- query analysis ----------------------------------------------------------------
    def _correct_uncached(self, word: str) -> str | None:
        match = process.extractOne(
            word, self._vocabulary, scorer=fuzz.ratio, score_cutoff=82 if len(word) > 5 else 85
        )
        return str(match[0]) if match else None

    def analyse(
        self, query: str, ignore: list[str] | None = None
    ) -> tuple[dict[str, float], dict[str, str], dict[str, str]]:
        """Weighted query terms, the typo corrections made, and which surface word gave each term.

        Words that only name a document ("the CQC MoU") select it; they are not searched for.
        """
        corrections: dict[str, str] = {}
        surface_of: dict[str, str] = {}
        stemmed: list[str] = []
        naming = self.references.naming_words(ignore or [])
        for word in words(query):
            if word in naming:
                continue
            term = stem(word)
            if (
                word not in self._surface
                and term not in self._idf
                and len(word) >= 4
                and not word.isdigit()
                and word not in STOPWORDS
            ):
                fixed = self._correct(word)
                if fixed:
                    corrections[word] = fixed
                    term = stem(fixed)
            stemmed.append(term)
            surface_of.setdefault(term, word)
        weights: dict[str, float] = {}
        for term in stemmed:
            if term not in STOPWORDS and term in self._idf:
                weights[term] = weights.get(term, 0.0) + 1.0
        for concept in self.glossary.concepts(stemmed):
            if concept in self._idf:
                weights[concept] = weights.get(concept, 0.0) + CONCEPT_WEIGHT
        return weights, corrections, surface_of

    # --- search ------------------------------------------------------------------------
    def search(self, query: str, k: int = 5, document: str | None = None) -> Result:
        query = query.strip()
        if not query:
            raise QueryError("the question is empty: type a few words, e.g. 'FOI requests CQC'")
        if len(query) > MAX_QUERY_CHARS:
            raise QueryError(
                f"the question is {len(query)} characters long; keep it under {MAX_QUERY_CHARS}"
            )
        if document is not None and document not in self.kb.documents:
            known = ", ".join(sorted(self.kb.documents))
            raise QueryError(f"unknown document {document!r}; choose one of: {known}")
        named = self.references.documents_named(query)
        hits: list[Hit] = []
        for ref in self.references.parse(query):
            for doc_id in [ref.document] if ref.document else list(self.kb.documents):
                clause_id = f"{doc_id}/{ref.local_id}"
                wanted = clause_id in self._by_id and document in (None, doc_id)
                if wanted and all(h.clause.id != clause_id for h in hits):
                    hits.append(Hit(self.kb.clauses[clause_id], 1.0, (), True))
        if not hits:
            hits = self._section_references(query, document or (named[0] if named else None))
        weights, corrections, surface_of = self.analyse(query, ignore=named)
        scores = np.zeros(len(self.clauses))
        for term, qweight in weights.items():
            where, part = self._postings[term]
            scores[where] += qweight * self._idf[term] * part
        if document is not None:
            scores[self._doc_of != document] = 0.0
        for doc_id in named:
            scores[self._doc_of == doc_id] *= NAMED_DOCUMENT_BOOST
        total = sum(self._idf[t] * w for t, w in weights.items()) or 1.0
        count = min(len(scores), k + len(hits))
        top = np.argpartition(-scores, count - 1)[:count] if count else np.array([], int)
        order = sorted((int(i) for i in top if scores[i] > 0), key=lambda i: (-scores[i], i))
        best = float(scores[order[0]]) if order else 0.0
        taken = {h.clause.id for h in hits}
        top_coverage = (
            sum(self._idf[t] * w for t, w in weights.items() if t in self._bags[order[0]]) / total
            if order
            else 0.0
        )
        for i in order:
            if len(hits) >= k:
                break
            clause = self.clauses[i]
            if clause.id in taken:
                continue
            bag = self._bags[i]
            matched = {t for t in weights if t in bag and not t.startswith(CONCEPT_PREFIX)}
            shown = tuple(sorted({surface_of.get(t, t) for t in matched}))
            hits.append(Hit(clause, round(float(scores[i]) / (best + 1.0), 4), shown))
        useful = bool(hits) and (hits[0].reference or top_coverage >= MIN_COVERAGE)
        return Result(query, hits[:k], useful, corrections, named)


def load_topics(root: Path) -> dict[str, list[str]]:
    """Everyday phrases for what each clause answers (search aid only, never quoted)."""
    path = root / "clause_topics.yaml"
    if not path.exists():
        return {}
    raw = read_yaml(path, "clause topics") or {}
    if not isinstance(raw, dict):
        raise KnowledgeError(f"{path}: clause topics must map clause ids to lists of phrases")
    return {str(k): [str(p) for p in (v or [])] for k, v in raw.items()}
