"""The synonym glossary: everyday words mapped to the concept a clause uses."""

from __future__ import annotations

from pathlib import Path

from bot.kb.documents import KnowledgeError, read_yaml
from bot.kb.text import terms

CONCEPT_PREFIX = "@"


class Glossary:
    """Finds glossary phrases in a run of stemmed terms and names their concepts."""

    def __init__(self, groups: list[list[str]]) -> None:
        self.groups = groups
        self._phrases: dict[tuple[str, ...], set[str]] = {}
        for group in groups:
            concept = CONCEPT_PREFIX + "_".join(terms(group[0]))
            for phrase in group:
                key = tuple(terms(phrase))
                if key:
                    self._phrases.setdefault(key, set()).add(concept)
        self._longest = max((len(k) for k in self._phrases), default=1)
        self.surface_words = {w for group in groups for p in group for w in p.lower().split()}

    @classmethod
    def load(cls, path: Path) -> Glossary:
        raw = read_yaml(path, "the glossary") or []
        if not isinstance(raw, list) or not all(
            isinstance(g, list) and g and all(isinstance(p, str) for p in g) for g in raw
        ):
            raise KnowledgeError(f"{path}: the glossary must be a list of lists of phrases")
        return cls(raw)

    def concepts(self, stemmed: list[str]) -> list[str]:
        """Concepts named anywhere in the terms, longest phrase first at each position."""
        return [concept for _, _, found in self.spans(stemmed) for concept in found]

    def spans(self, stemmed: list[str]) -> list[tuple[int, int, list[str]]]:
        """(start, length, concepts) of the longest glossary phrase at each position."""
        spans: list[tuple[int, int, list[str]]] = []
        for start in range(len(stemmed)):
            for length in range(min(self._longest, len(stemmed) - start), 0, -1):
                hit = self._phrases.get(tuple(stemmed[start : start + length]))
                if hit:
                    spans.append((start, length, sorted(hit)))
                    break
        return spans
