"""Lists inside a clause: which items are sub-items, and how a chat keeps them visible.

A clause keeps one list item per line. A sub-item is indented by two spaces per level
(``"  - the person is not known"``): whitespace is all that is added to the source's words,
and the verbatim check ignores whitespace. Nesting is found two ways:

- by the markers: an item ending in ":" followed by items of another kind ("c. ... for the
  purpose of:", then "i.", "ii.", "iii.") opens a sub-list; an item of an outer kind closes it;
- by declaration, where the source marks every item alike (a lone "-"): documents.yaml names
  the parent item and how many of the items after it are its sub-items (``nested_lists``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.kb.model import NestedList

INDENT = "  "  # one level, in a clause's text
CHAT_INDENT = "\u00a0" * 4  # one level, in a chat message: no-break spaces are never collapsed

_BULLET = re.compile(r"^([-–·•▪◦■])\s+")
_ENUMERATOR = re.compile(r"^\(?([a-z]{1,4}|\d{1,2})[.)]\s+", re.IGNORECASE)
_ROMAN = frozenset(
    ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii", "xiii", "xiv", "xv"]
)
_LEADING_SPACES = re.compile(r"^ +", re.MULTILINE)


def _item(line: str) -> tuple[str, str] | None:
    """The bullet and the enumerator ("-", "c") of a list item; None for other lines."""
    text = line.strip()
    bullet = _BULLET.match(text)
    rest = text[bullet.end() :] if bullet else text
    enumerator = _ENUMERATOR.match(rest)
    if enumerator:
        value = enumerator.group(1).lower()
        if value.isdigit() or len(value) == 1 or value in _ROMAN:
            return (bullet.group(1) if bullet else "", value)
    if bullet:
        return bullet.group(1), ""
    return None


def item_text(line: str) -> str:
    """A list item without its bullet and enumerator (the whole line if it is no item)."""
    text = line.strip()
    bullet = _BULLET.match(text)
    rest = text[bullet.end() :] if bullet else text
    enumerator = _ENUMERATOR.match(rest)
    return rest[enumerator.end() :] if enumerator and _item(text) else rest


def _kind(item: tuple[str, str], levels: list[tuple[str, str]], opener: bool) -> str:
    bullet, value = item
    if not value:
        return f"bullet{bullet}"
    if value.isdigit():
        return "number"
    if value in _ROMAN:
        # "i", "v" and "x" go on a lettered list when they are its next letter
        current_kind, last = levels[-1] if levels else ("", "")
        continues = current_kind == "letter" and len(last) == 1 and ord(value) == ord(last) + 1
        if not (len(value) == 1 and continues):
            return "roman"
    return "letter"


def nesting(lines: Sequence[str]) -> list[int]:
    """The depth of every line, found from the list markers alone (0 for lines not in a list)."""
    depths = [0] * len(lines)
    levels: list[tuple[str, str]] = []  # (kind, last value) of each open level, outermost first
    opener = False  # the item before ended with ":"
    for n, line in enumerate(lines):
        item = _item(line)
        if item is None:
            levels, opener = [], False  # a line that is no item ends the list
            continue
        kind = _kind(item, levels, opener)
        kinds = [k for k, _ in levels]
        if not levels:
            levels = [(kind, item[1])]
        elif kind in kinds:
            at = len(kinds) - 1 - kinds[::-1].index(kind)
            levels = [*levels[:at], (kind, item[1])]
        elif opener:
            levels.append((kind, item[1]))
        else:  # another marker at the same level, with nothing to say it is a sub-list
            levels[-1] = (kind, item[1])
        depths[n] = len(levels) - 1
        opener = line.rstrip().endswith(":")
    return depths


def declared_nesting(
    lines: Sequence[str], depths: list[int], rules: Sequence[NestedList]
) -> set[int]:
    """Apply ``rules`` to ``depths`` in place; the indexes of the rules that matched an item.

    Raises ValueError when fewer items than declared follow a parent item.
    """
    used: set[int] = set()
    for number, rule in enumerate(rules):
        pattern = re.compile(rule.parent)
        for n, line in enumerate(lines):
            if _item(line) is None or not pattern.search(item_text(line)):
                continue
            used.add(number)
            children = [i for i in range(n + 1, len(lines)) if _item(lines[i]) is not None]
            children = children[: rule.items]
            if len(children) < rule.items or children != list(range(n + 1, n + 1 + rule.items)):
                raise ValueError(
                    f"nested list rule {rule.parent!r}: fewer than {rule.items} items follow "
                    f"{line.strip()[:60]!r}"
                )
            for i in children:
                depths[i] = max(depths[i], depths[n] + 1)
    return used


def indent(lines: Sequence[str], depths: Sequence[int]) -> list[str]:
    return [INDENT * depth + line.strip() for line, depth in zip(lines, depths, strict=True)]


def for_chat(text: str) -> str:
    """Text whose indented lines keep their indent in a chat client that trims spaces."""
    return _LEADING_SPACES.sub(lambda m: CHAT_INDENT * (len(m.group(0)) // len(INDENT) or 1), text)
