"""Nested lists inside a clause: found from the markers or declared, shown indented."""

from __future__ import annotations

import pytest

from bot.kb.lists import CHAT_INDENT, declared_nesting, for_chat, indent, nesting
from bot.kb.model import Document, NestedList
from bot.kb.parsing import parse_document


def test_roman_items_after_a_lettered_item_ending_in_a_colon_are_its_sub_items() -> None:
    lines = ["Lead:", "- a. one", "- b. two:", "- i. first", "- ii. second", "- c. three"]
    assert nesting(lines) == [0, 0, 0, 1, 1, 0]


def test_i_after_h_is_the_next_letter_not_a_roman_numeral() -> None:
    letters = [f"({c}) item {c}" for c in "abcdefgh"]
    lines = ["Lead:", *letters[:-1], "(h) item h:", "(i) item i", "(j) item j"]
    assert nesting(lines) == [0] * len(lines)


def test_items_of_another_kind_without_a_colon_stay_at_their_level() -> None:
    assert nesting(["Lead", "- a. one", "- i. other"]) == [0, 0, 0]


def test_a_line_that_is_no_item_ends_the_list() -> None:
    lines = ["Lead:", "- c. meetings for:", "CQC’s priorities:", "- i. first"]
    assert nesting(lines) == [0, 0, 0, 0]


def test_a_declared_parent_nests_the_items_after_it() -> None:
    lines = ["Lead:", "- respond stating that either:", "- not known", "- known", "- provide"]
    depths = nesting(lines)
    used = declared_nesting(lines, depths, [NestedList(parent="either:$", items=2)])
    assert used == {0}
    assert indent(lines, depths) == [
        "Lead:",
        "- respond stating that either:",
        "  - not known",
        "  - known",
        "- provide",
    ]


def test_a_declared_parent_with_too_few_items_after_it_is_an_error() -> None:
    lines = ["Lead:", "- respond stating that either:", "- not known"]
    with pytest.raises(ValueError, match="fewer than 3 items follow"):
        declared_nesting(lines, nesting(lines), [NestedList(parent="either:$", items=3)])


def test_a_nested_list_rule_that_matches_nothing_stops_the_parse() -> None:
    document = Document.model_validate(
        {
            "id": "x-2024",
            "file": "x-2024.txt",
            "title": "X",
            "cite_as": "X (2024)",
            "parties": ["Ofsted"],
            "in_force": "2024-01-01",
            "review": "none",
            "status": "current",
            "style": "headed",
            "nested_lists": [{"parent": "no such item:$", "items": 1}],
        }
    )
    with pytest.raises(ValueError, match="matches no list item"):
        parse_document(document, "X\nPurpose\nA paragraph:\n-\nan item\n")


def test_a_chat_keeps_the_indent_with_no_break_spaces() -> None:
    text = "Lead:\n- respond:\n  - not known\n- provide"
    assert for_chat(text) == f"Lead:\n- respond:\n{CHAT_INDENT}- not known\n- provide"
    assert for_chat("no indent here") == "no indent here"
