"""A message as the router's classifier sees it: word and character n-grams.

Training (scikit-learn) and inference (numpy) both call :func:`ngrams`, so the two cannot
read a message differently. The kinds of n-gram used are part of the shipped weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.kb.text import stem, words


@dataclass(frozen=True)
class Features:
    """Which n-grams describe a message.

    word      word n-gram lengths (first, last) over stemmed words, or None
    char      character n-gram lengths within each word, padded by spaces, or None
    """

    word: tuple[int, int] | None = (1, 2)
    char: tuple[int, int] | None = None

    def describe(self) -> str:
        parts = []
        if self.word:
            parts.append(f"word {self.word[0]}-{self.word[1]} grams")
        if self.char:
            parts.append(f"char {self.char[0]}-{self.char[1]} grams")
        return " + ".join(parts)


def _word_grams(stems: Sequence[str], low: int, high: int) -> list[str]:
    grams: list[str] = []
    for n in range(low, high + 1):
        grams.extend(" ".join(stems[i : i + n]) for i in range(len(stems) - n + 1))
    return grams


def _char_grams(surface: Sequence[str], low: int, high: int) -> list[str]:
    grams: list[str] = []
    for word in surface:
        padded = f" {word} "
        for n in range(low, high + 1):
            if len(padded) < n:
                break
            grams.extend("#" + padded[i : i + n] for i in range(len(padded) - n + 1))
    return grams


def ngrams(text: str, features: Features) -> list[str]:
    """Every n-gram of the text, repeated as often as it occurs (word grams bare,
    character grams prefixed with #, so the two never collide)."""
    surface = words(text)
    grams: list[str] = []
    if features.word:
        grams.extend(_word_grams([stem(w) for w in surface], *features.word))
    if features.char:
        grams.extend(_char_grams(surface, *features.char))
    return grams
