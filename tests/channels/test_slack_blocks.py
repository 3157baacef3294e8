"""Block Kit rendering: every payload is valid by slack_sdk's models and within Slack's limits."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from slack_fake import buttons, check_blocks, check_view, mrkdwn_of

from bot.channels import slack_blocks as kit
from bot.dialogue.messages import NAVIGATION, Draft, DraftField, Option, Reply
from bot.kb.model import Citation, CurrencyNote

INJECTION = "<!channel> ask <@U123> & <#C999|general> about <https://evil.example|this>"


def _citation(n: int = 1, text: str = "The council investigates.") -> Citation:
    note = CurrencyNote(text="Renamed LGSCO in 2017 <b>", source="lgo.org.uk", verified=False)
    return Citation(
        f"lgo-2016/para-{n}", f"LGO protocol (2016), para {n}", text, "historical", (note,)
    )


def test_escape_leaves_nothing_slack_would_parse() -> None:
    escaped = kit.escape(INJECTION)
    assert "<" not in escaped and ">" not in escaped
    assert escaped.startswith("&lt;!channel&gt;")
    assert kit.unescape(escaped) == INJECTION


@pytest.mark.parametrize(
    "delivered, typed",
    [
        ("<mailto:a@b.org|a@b.org>", "a@b.org"),
        ("<mailto:a@b.org>", "a@b.org"),
        ("<https://x.org/p?q=1&amp;r=2|x.org/p>", "x.org/p"),
        ("<https://x.org/p?q=1&amp;r=2>", "https://x.org/p?q=1&r=2"),
        ("<@U123|jo>", "@jo"),
        ("<@U123>", "@U123"),
        ("<#C123|general>", "#general"),
        ("<#C123>", "#C123"),
        ("<!here>", "@here"),
        ("<!here|here>", "@here"),
        ("<!channel>", "@channel"),
        ("<!subteam^S123|@duty-team>", "@duty-team"),
        ("<!date^1392734382^{date_pretty}|Feb 18, 2014>", "Feb 18, 2014"),
        ("a &lt; b &amp; c &gt; d", "a < b & c > d"),
        ("&lt;mailto:x&gt;", "<mailto:x>"),  # typed angle brackets stay what was typed
    ],
)
def test_typed_text_reads_slack_markup_back_as_typed(delivered: str, typed: str) -> None:
    assert kit.typed_text(delivered) == typed


def test_a_question_has_text_buttons_and_navigation() -> None:
    reply = Reply(
        "Is a child in immediate danger?",
        kind="question",
        options=(Option("Yes", "ans:danger:yes"), Option("No", "ans:danger:no")),
        navigation=NAVIGATION,
        citations=(_citation(),),
    )
    [message] = kit.render_reply(reply)
    check_blocks(message.blocks)
    values = [e["value"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]]
    assert values == [
        "clause:lgo-2016/para-1",
        "ans:danger:yes",
        "ans:danger:no",
        "nav:back",
        "nav:why",
        "nav:restart",
        "nav:cancel",
    ]
    assert message.blocks[-1]["type"] == "actions"  # navigation last, under the question
    shown = mrkdwn_of(message.blocks)
    assert "*LGO protocol (2016), para 1*" in shown
    assert "historical text: check what replaced it" in shown
    assert "Currency note (not yet verified): Renamed LGSCO in 2017 &lt;b&gt;" in shown


def test_typed_text_is_escaped_everywhere_it_is_echoed() -> None:
    reply = Reply(
        f"You answered: {INJECTION}",
        kind="summary",
        draft=Draft(f"Referral {INJECTION}", f"Concern: {INJECTION}", "referral.txt"),
    )
    [message] = kit.render_reply(reply)
    check_blocks(message.blocks)
    # mrkdwn and the notification text are parsed for mentions and links: no raw < or >
    # is left in them; plain_text (the header) is never parsed, so it shows what was typed
    for parsed in (message.text, mrkdwn_of([b for b in message.blocks if b["type"] != "header"])):
        assert "<" not in parsed and ">" not in parsed
    assert "&lt;!channel&gt; ask &lt;@U123&gt; &amp;" in mrkdwn_of(message.blocks)
    # every mrkdwn object is verbatim: Slack does not auto-link or auto-mention inside it
    for block in message.blocks:
        if block["type"] == "section":
            assert block["text"]["verbatim"] is True


def test_a_long_reply_is_split_within_the_limits() -> None:
    paragraph = "The designated officer must be told within one working day & no later. " * 40
    text = "\n\n".join([paragraph] * 60)  # about 170,000 characters
    reply = Reply(text, kind="guidance", navigation=NAVIGATION, citations=(_citation(),) * 3)
    messages = kit.render_reply(reply)
    assert len(messages) > 1
    for message in messages:
        check_blocks(message.blocks)
        assert len(message.text) <= 300
    assert "nav:" not in json.dumps([m.blocks for m in messages[:-1]])
    assert messages[-1].blocks[-1]["elements"][0]["value"] == "nav:back"
    shown = "".join(b["text"]["text"] for m in messages for b in m.blocks if b["type"] == "section")
    assert shown.split() == kit.escape(text).split()  # nothing lost, nothing cut mid-entity
    assert not re.search(r"&(?!amp;|lt;|gt;)", shown)


def test_a_long_draft_is_copyable_code_blocks_and_flagged_for_a_file() -> None:
    body = "\n".join(f"Line {n}: the child said <it hurts> & cried." for n in range(400))
    draft = Draft(
        "Referral to children's services",
        body,
        "referral.txt",
        (DraftField("concern", "The concern", "it hurts", multiline=True),),
    )
    reply = Reply(
        "Here is the draft.",
        kind="draft",
        draft=draft,
        options=(Option("Edit the answers", "draft:edit"),),
        meta={"draft_sha": "abc123"},
    )
    messages = kit.render_reply(reply)
    assert kit.long_draft(draft)
    code = [
        b["text"]["text"]
        for m in messages
        for b in m.blocks
        if b["type"] == "section" and "```" in b["text"]["text"]
    ]
    assert len(code) > 1 and all(c.startswith("```\n") and c.endswith("\n```") for c in code)
    for message in messages:
        check_blocks(message.blocks)
    assert messages[0].blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Referral to children's services", "emoji": True},
    }
    values = [
        e["value"] for b in messages[-1].blocks if b["type"] == "actions" for e in b["elements"]
    ]
    assert values == ["draft:edit", "form:abc123"]


def test_many_options_use_several_action_blocks() -> None:
    options = tuple(
        Option(f"Council number {n} with a name far too long to fit on a button", f"ans:la:{n}")
        for n in range(60)
    )
    [message] = kit.render_reply(Reply("Which council?", kind="question", options=options))
    check_blocks(message.blocks)
    actions = [b for b in message.blocks if b["type"] == "actions"]
    assert [len(b["elements"]) for b in actions] == [25, 25, 10]


def test_draft_form_is_prefilled_and_reads_back() -> None:
    fields = (
        DraftField("child_name", "Child's name", "A <b>"),
        DraftField("concern", "What happened", "Told me at school", multiline=True),
        DraftField("notes", "Notes", ""),
        DraftField("essay", "Too long", "x" * 3001),
    )
    view = kit.draft_modal(Draft("Referral", "text", "r.txt", fields), {"dm": "D1", "team": "T1"})
    check_view(view)
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert inputs["child_name"]["initial_value"] == "A <b>"  # plain text: shown as typed
    assert inputs["concern"]["multiline"] is True
    assert "initial_value" not in inputs["notes"] and "essay" not in inputs
    assert "Too long" in mrkdwn_of(view["blocks"])
    assert json.loads(view["private_metadata"]) == {"dm": "D1", "team": "T1"}
    state = {
        "values": {
            "child_name": {"value": {"type": "plain_text_input", "value": "B"}},
            "notes": {"value": {"type": "plain_text_input", "value": None}},
        }
    }
    # notes was empty when the form opened and still is: untouched, so left out
    assert kit.read_edits({"state": state, "blocks": view["blocks"]}) == {"child_name": "B"}
    state["values"]["child_name"]["value"]["value"] = None  # emptied by the user
    assert kit.read_edits({"state": state, "blocks": view["blocks"]}) == {"child_name": ""}


def test_clause_modal_and_frozen_message() -> None:
    check_view(kit.clause_modal(_citation(text="word " * 2000)))
    [message] = kit.render_reply(
        Reply(
            "Q?",
            options=(Option("Yes", "ans:q:yes"),),
            navigation=NAVIGATION,
            citations=(_citation(),),
        )
    )
    frozen = kit.frozen_blocks(message.blocks, "Yes <!here>")
    check_blocks(frozen)
    values = [e["value"] for b in frozen if b["type"] == "actions" for e in b["elements"]]
    assert values == ["clause:lgo-2016/para-1"]
    assert frozen[-1]["elements"][0]["text"] == "You chose: *Yes &lt;!here&gt;*"


def test_home_view_lists_flows_and_documents() -> None:
    class Flow:
        id, title, description, triggers = (
            "lgo_complaint",
            "A complaint",
            "To the <LGO>",
            ("ombudsman",),
        )

    class Document:
        title, cite_as, in_force = "LGO protocol", "LGO (2016)", dt.date(2016, 3, 1)
        status, status_note = "historical", "Renamed LGSCO"

    view = kit.home_view([Flow()], [Document()])
    check_view(view)
    shown = mrkdwn_of(view["blocks"])
    assert "To the &lt;LGO&gt;" in shown and "`/protocol ombudsman`" in shown
    assert "In force: 01 March 2016" in shown and "Renamed LGSCO" in shown


@given(st.text(alphabet=st.sampled_from("ab &<>\n"), max_size=400), st.integers(8, 60))
def test_split_text_keeps_everything_and_never_cuts_an_entity(text: str, limit: int) -> None:
    escaped = kit.escape(text)
    pieces = kit.split_text(escaped, limit)
    assert "".join(pieces) == escaped
    assert all(0 < len(p) <= limit for p in pieces)
    for piece in pieces:
        assert kit.escape(kit.unescape(piece)) == piece  # whole entities only


def test_a_draft_shows_the_letter_and_the_reviewers_notes_apart() -> None:
    draft = Draft(
        "Reply to the complainant",
        "Dear Ms Jones,\n\nPhone: 0300 061 0614\n",
        "reply.txt",
        notes="Before sending:\n- Not yet verified: 0300 061 0614 <check>.\n\nSources:\n- [lgo-2016/17]\n",
    )
    [message] = kit.render_reply(Reply("Here is the draft.", kind="draft", draft=draft))
    check_blocks(message.blocks)
    texts = [b["text"]["text"] if "text" in b else b["type"] for b in message.blocks]
    code = next(i for i, t in enumerate(texts) if t.startswith("```"))
    divider = texts.index("divider")
    notes = next(i for i, t in enumerate(texts) if "Sources:" in t)
    assert code < divider < notes
    assert (
        "Reviewer's notes" in texts[divider + 1] and "not part of the letter" in texts[divider + 1]
    )
    assert "Sources:" not in texts[code] and "Not yet verified" not in texts[code]
    assert "```" not in texts[notes]  # the notes are not in a copyable block with the letter
    assert "&lt;check&gt;" in texts[notes]


def test_a_typed_fence_cannot_break_the_letter_and_sources_are_listed_once() -> None:
    letter = "Dear team,\n```\nshe typed three backticks``` and *stars* <here>\nYours"
    notes = "Sources:\n- LA protocol (2023), para 2"
    cited = _citation(3)
    [message] = kit.render_reply(
        Reply(
            "Referral (draft)",
            kind="draft",
            draft=Draft("Referral", letter, "r.txt", notes=notes),
            citations=(cited,),
        )
    )
    check_blocks(message.blocks)
    preformatted = [b for b in message.blocks if b["type"] == "rich_text"]
    assert preformatted, "the letter goes as preformatted rich text"
    shown = preformatted[0]["elements"][0]["elements"][0]["text"]
    assert shown == letter  # exactly as typed: copied out whole
    assert not any(b["type"] == "context" for b in message.blocks)  # no second sources list
    assert mrkdwn_of(message.blocks).count("Sources:") == 1
    values = [button["value"] for button, _ in buttons(message.blocks)]
    assert any(value.startswith("clause:") for value in values)  # each clause still one click away
