"""Telegram rendering on its own: escaping, quoting, keyboards and splitting under 4,096."""

from __future__ import annotations

import html

from hypothesis import given, settings
from hypothesis import strategies as st
from telegram_fakes import parse_html

from bot.channels.telegram_render import (
    MAX_TEXT,
    Block,
    DocumentOut,
    TextOut,
    keyboard_rows,
    render,
    split_blocks,
    utf16_len,
)
from bot.dialogue.messages import NAVIGATION, Draft, Option, Reply
from bot.kb.model import Citation, CurrencyNote

NOTE = CurrencyNote(text="The LGO is now the LGSCO.", source="LGSCO site", verified=False)


def cite(clause_id: str, text: str = "Clause text.", status: str = "current") -> Citation:
    return Citation(clause_id, f"Protocol (2016), {clause_id}", text, status, (NOTE,))  # type: ignore[arg-type]


def test_a_question_is_bold_and_its_options_and_navigation_are_buttons() -> None:
    reply = Reply(
        "Is a child in immediate danger?\n\nAnswer as best you can.",
        kind="question",
        options=(Option("Yes", "ans:d:yes"), Option("No", "ans:d:no")),
        navigation=NAVIGATION,
    )
    [message] = render(reply)
    assert isinstance(message, TextOut)
    assert message.html == "<b>Is a child in immediate danger?</b>\n\nAnswer as best you can."
    assert [[b.label for b in row] for row in message.keyboard] == [
        ["Yes", "No"],
        ["Back", "Why?", "Restart", "Cancel"],
    ]
    assert message.keyboard[0][1].action == "ans:d:no"


def test_long_options_are_listed_in_full_and_numbered_on_their_buttons() -> None:
    long = "A person working in a registered setting (staff, carer, volunteer)"
    reply = Reply(
        "Who?", kind="question", options=(Option(long, "ans:w:staff"), Option("Other", "ans:w:o"))
    )
    [message] = render(reply)
    assert isinstance(message, TextOut)
    assert f"1. {long}\n2. Other" in message.html
    labels = [row[0].label for row in message.keyboard]
    assert labels[0].startswith("1. A person working") and len(labels[0]) <= 60
    assert labels[1] == "2. Other"


def test_citations_are_quoted_with_status_and_each_note_shown_once() -> None:
    reply = Reply(
        "Guidance.\n\nProtocol (2016), para 1 [p/1]\nClause text.",  # the engine's plain quote
        kind="lookup",
        citations=(cite("para 1", status="historical"), cite("para 2", "Second & <last>.")),
    )
    [message] = render(reply)
    assert isinstance(message, TextOut)
    text = message.html
    assert text.startswith("Guidance.\n\n<b>Protocol (2016), para 1</b>")
    assert text.count("Clause text.") == 1  # the plain quote gave way to the rich one
    assert "<i>historical text" in text
    assert "<blockquote>Second &amp; &lt;last&gt;.</blockquote>" in text
    assert text.count("The LGO is now the LGSCO.") == 1
    assert "(not yet verified)" in text


def test_a_long_clause_starts_collapsed() -> None:
    [message] = render(Reply("See:", citations=(cite("para 9", "word " * 200),)))
    assert isinstance(message, TextOut)
    assert "<blockquote expandable>" in message.html


def test_a_draft_is_shown_preformatted_and_attached() -> None:
    draft = Draft("Referral & note", "Dear <team>,\n\nText.\n", "referral.txt", notes="Check.\n")
    out = render(
        Reply("Your draft", kind="draft", draft=draft, options=(Option("Edit", "draft:edit"),))
    )
    assert [type(o) for o in out] == [TextOut, DocumentOut, DocumentOut]
    message, document, notes = out
    assert isinstance(message, TextOut) and isinstance(document, DocumentOut)
    assert isinstance(notes, DocumentOut)
    assert "<pre>Dear &lt;team&gt;,\n\nText.</pre>" in message.html
    assert "<blockquote>Check.</blockquote>" in message.html
    assert message.keyboard  # the buttons stay with the text
    assert (document.filename, document.content) == ("referral.txt", b"Dear <team>,\n\nText.\n")
    assert (notes.filename, notes.content) == ("referral.notes.txt", b"Check.\n")
    assert document.caption == "Referral &amp; note"


def test_a_reply_with_only_buttons_still_has_text() -> None:
    [message] = render(Reply("", options=(Option("Resume", "nav:resume"),)))
    assert isinstance(message, TextOut) and message.html and message.keyboard


def test_keyboard_rows_put_short_options_three_to_a_row() -> None:
    options = [Option(str(n), f"ans:n:{n}") for n in range(5)]
    rows = keyboard_rows(options, ())
    assert [len(r) for r in rows] == [3, 2]


def test_one_huge_paragraph_is_cut_at_lines_then_words() -> None:
    lines = "\n".join(f"line {n} " + "x" * 50 for n in range(200))
    messages = split_blocks([Block(lines, "<pre>", "</pre>")])
    assert len(messages) > 1
    for message in messages:
        assert utf16_len(message) <= MAX_TEXT
        assert message.startswith("<pre>line ") and message.endswith("</pre>")


text_strategy = st.lists(
    st.sampled_from(["a", "b", " ", "<", ">", "&", "\n", "\n\n", '"', "é", "😀", "word "]),
    max_size=4_000,
).map("".join)


@settings(max_examples=60, deadline=None)
@given(body=text_strategy, limit=st.integers(min_value=40, max_value=MAX_TEXT))
def test_splitting_keeps_every_character_and_every_tag_balanced(body: str, limit: int) -> None:
    blocks = [Block(p, "<i>", "</i>") for p in body.split("\n\n") if p.strip()]
    messages = split_blocks(blocks, limit)
    for message in messages:
        assert utf16_len(message) <= limit
        parse_html(message)  # valid Telegram HTML: balanced tags, everything escaped
    kept = "".join(html.unescape(m) for m in messages)
    assert "".join(kept.split()).replace("<i>", "").replace("</i>", "") == "".join(
        "".join(b.body for b in blocks).split()
    )
