"""Words as the look-up sees them: lower case, straight quotes, stemmed."""

from __future__ import annotations

import re
from functools import lru_cache

import snowballstemmer

# "5.3" and "cqc-2011" stay whole; "first-tier" and "occ-ofsted" are two words
_WORD = re.compile(r"[a-z0-9]+(?:\.[0-9]+)*(?:-[0-9]+)?")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})
_STEMMER = snowballstemmer.stemmer("english")

# Words that carry no meaning in a staff question about a protocol.
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "from",
        "with",
        "about",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "there",
        "their",
        "them",
        "they",
        "he",
        "she",
        "his",
        "her",
        "him",
        "i",
        "me",
        "my",
        "you",
        "your",
        "our",
        "us",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "do",
        "does",
        "did",
        "done",
        "can",
        "could",
        "should",
        "would",
        "will",
        "shall",
        "may",
        "might",
        "must",
        "if",
        "then",
        "than",
        "so",
        "not",
        "no",
        "yes",
        "any",
        "all",
        "some",
        "each",
        "every",
        "other",
        "such",
        "into",
        "over",
        "under",
        "up",
        "down",
        "out",
        "off",
        "again",
        "only",
        "own",
        "same",
        "too",
        "very",
        "just",
        "also",
        "say",
        "says",
        "said",
        "tell",
        "anything",
        "something",
        "thing",
        "things",
        "get",
        "got",
        "have",
        "has",
        "had",
        "please",
        "let",
        "s",
        "t",
        "whether",
        "either",
        "like",
        "want",
        "wants",
        "know",
        "think",
        "mou",
        "memorandum",
        "protocol",
        "agreement",
        "document",
        "clause",
        "para",
        "paragraph",
        "section",
        "annex",
    ]
)


def words(text: str) -> list[str]:
    """Surface words of a text, lower-cased with straight quotes and possessives dropped."""
    text = text.lower().translate(_QUOTES).replace("'s", "").replace("'", "")
    return _WORD.findall(text)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return str(_STEMMER.stemWord(word))


def terms(text: str) -> list[str]:
    return [stem(w) for w in words(text)]
