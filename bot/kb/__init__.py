"""The clause knowledge base: documents, clauses, look-up. Knows nothing of dialogue or channels."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from bot.kb.base import KnowledgeBase
from bot.kb.documents import KnowledgeError
from bot.kb.glossary import Glossary
from bot.kb.lookup import Answer, look_up
from bot.kb.model import Citation, Clause, CurrencyNote, Document
from bot.kb.search import ClauseIndex, Hit, QueryError, Result, load_topics

__all__ = [
    "Answer",
    "Citation",
    "Clause",
    "ClauseIndex",
    "CurrencyNote",
    "Document",
    "Glossary",
    "Hit",
    "KnowledgeBase",
    "KnowledgeError",
    "QueryError",
    "Result",
    "look_up",
    "open_index",
]


@lru_cache(maxsize=4)
def open_index(root: Path) -> ClauseIndex:
    """The knowledge base at ``root`` with its look-up index, built once per process.

    The built index is also cached on disk (keyed by the knowledge files' bytes), so a
    one-off `protocolbot lookup` answers without rebuilding it.
    """
    from bot.kb.cache import cached

    def build() -> ClauseIndex:
        kb = KnowledgeBase.load(root)
        return ClauseIndex(kb, Glossary.load(root / "glossary.yaml"), load_topics(root))

    return cached(root, build)
