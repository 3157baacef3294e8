"""Block Kit rendering of the engine's neutral replies. Plain dicts in, plain dicts out.

No Slack SDK import here: the shapes are checked against ``slack_sdk.models`` in the tests.
Every piece of text that may hold something a user typed goes through :func:`escape`, and
every mrkdwn object is ``verbatim`` so Slack does not turn ``@channel`` or ``#name`` into
live mentions or links.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.dialogue.messages import Draft, Option, Reply
from bot.kb.lists import for_chat
from bot.kb.model import Citation

__all__ = [
    "ACTION_PREFIX",
    "CLAUSE_PREFIX",
    "DRAFT_EDIT_CALLBACK",
    "FORM_PREFIX",
    "SlackMessage",
    "clause_modal",
    "draft_modal",
    "escape",
    "frozen_blocks",
    "home_view",
    "long_draft",
    "read_edits",
    "render_reply",
    "split_text",
    "text_blocks",
    "typed_text",
    "unescape",
]

Block = dict[str, Any]

# Slack's documented limits (https://docs.slack.dev/reference/block-kit/blocks).
MAX_BLOCKS = 50  # per message
MAX_VIEW_BLOCKS = 100  # per modal or Home tab
SECTION_TEXT = 3000
HEADER_TEXT = 150
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
VIEW_TITLE = 24
INPUT_VALUE = 3000
LABEL_TEXT = 2000
METADATA = 3000
FALLBACK_TEXT = 300  # the notification text; the blocks carry the message

ACTION_PREFIX = "pb-"  # every action_id this app renders starts with it
# button values the adapter answers itself, never sent to the engine
CLAUSE_PREFIX = "clause:"  # the clause text in a modal
FORM_PREFIX = "form:"  # the draft's answers in an editable form
DRAFT_EDIT_CALLBACK = "pb-draft-edit"
_FENCE = "```"

_STATUS = {
    "current": "",
    "historical": "historical text: check what replaced it",
    "check": "check this document is still current",
}


@dataclass(frozen=True, slots=True)
class SlackMessage:
    text: str  # notification fallback
    blocks: list[Block]


# --- text ------------------------------------------------------------------------------
def escape(text: str) -> str:
    """Slack's three control characters; what is left cannot ping, link or mention anyone."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """Slack delivers typed text with &, < and > escaped; the engine wants what was typed."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# Slack turns what a user types into markup: links <https://x|x>, e-mail addresses
# <mailto:a@b|a@b>, mentions <@U1|name>, channels <#C1|name>, special mentions <!here>,
# user groups <!subteam^S1|@team> and dates <!date^...|fallback>
_MARKUP = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")


def _as_typed(match: re.Match[str]) -> str:
    target, label = match.group(1), match.group(2)
    if target.startswith(("@", "#")):  # a person or a channel, by name when Slack gives it
        return target[0] + (label.lstrip(target[0]) if label else target[1:])
    if target.startswith("!"):
        if label and (target.startswith("!date") or label.startswith("@")):
            return label
        return "@" + (label or target[1:].split("^")[0])
    if label:  # a link or an e-mail address, as the user wrote it
        return label
    return target.removeprefix("mailto:")


def typed_text(text: str) -> str:
    """What the user typed, from the text Slack delivers: its markup read back into plain
    words (an address, a link, @name, #channel) and &, < and > unescaped. A draft must
    read "a@b.org", not "<mailto:a@b.org|a@b.org>"."""
    return unescape(_MARKUP.sub(_as_typed, text))


def split_text(text: str, limit: int) -> list[str]:
    """Cut escaped text into pieces of at most ``limit`` characters, joined they give it back.

    Cuts fall at a paragraph break, else a line break, else a space, and never inside an
    ``&amp;``-style entity, so no piece shows half an escape.
    """
    if limit < 8:
        raise ValueError("limit too small to split safely")
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = -1
        for separator in ("\n\n", "\n", " "):
            at = window.rfind(separator)
            if at > limit // 2:
                cut = at + len(separator)
                break
        if cut < 0:
            cut = limit
            amp = window.rfind("&", max(0, limit - 5))
            if amp >= 0 and ";" not in window[amp:]:
                cut = amp or limit
        pieces.append(rest[:cut])
        rest = rest[cut:]
    if rest:
        pieces.append(rest)
    return pieces


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _mrkdwn(text: str) -> Block:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _plain(text: str, limit: int) -> Block:
    return {"type": "plain_text", "text": _shorten(text.strip() or "-", limit), "emoji": True}


def text_blocks(escaped: str, *, limit: int = SECTION_TEXT) -> list[Block]:
    return [
        {"type": "section", "text": _mrkdwn(piece)}
        for piece in split_text(escaped, limit)
        if piece.strip()
    ]


def _code_blocks(text: str) -> list[Block]:
    pieces = split_text(escape(text), SECTION_TEXT - 2 * len(_FENCE) - 2)
    return [
        {"type": "section", "text": _mrkdwn(f"{_FENCE}\n{piece.strip(chr(10))}\n{_FENCE}")}
        for piece in pieces
        if piece.strip()
    ]


# --- buttons ---------------------------------------------------------------------------
def _button(label: str, value: str, action_id: str, style: str | None = None) -> Block:
    if len(value) > BUTTON_VALUE:
        raise ValueError(f"button value longer than {BUTTON_VALUE} characters: {value[:40]}...")
    button: Block = {
        "type": "button",
        "text": _plain(label, BUTTON_TEXT),
        "value": value,
        "action_id": action_id,
    }
    if style:
        button["style"] = style
    return button


def _actions(buttons: list[Block]) -> list[Block]:
    return [
        {"type": "actions", "elements": buttons[start : start + ACTIONS_ELEMENTS]}
        for start in range(0, len(buttons), ACTIONS_ELEMENTS)
    ]


def _option_buttons(options: Iterable[Option], kind: str) -> list[Block]:
    return [
        _button(
            option.label,
            option.value,
            f"{ACTION_PREFIX}{kind}-{index}",
            "primary" if option.value == "draft:confirm" else None,
        )
        for index, option in enumerate(options)
    ]


# --- citations -------------------------------------------------------------------------
def _citation_context(citation: Citation) -> Block:
    elements = [_mrkdwn(_shorten(f":bookmark: *{escape(citation.citation)}*", SECTION_TEXT))]
    if _STATUS.get(citation.status):
        elements.append(_mrkdwn(f":warning: {_STATUS[citation.status]}"))
    for note in citation.notes[: CONTEXT_ELEMENTS - len(elements)]:
        checked = "" if note.verified else " (not yet verified)"
        line = f"Currency note{checked}: {escape(note.text)} (source: {escape(note.source)})"
        elements.append(_mrkdwn(_shorten(line, SECTION_TEXT)))
    return {"type": "context", "elements": elements}


def _citation_blocks(
    citations: tuple[Citation, ...], shown: str, *, listed: bool = True
) -> list[Block]:
    """A context line per citation (unless ``listed`` is False), and a button to read each
    clause not already quoted."""
    blocks = [_citation_context(citation) for citation in citations] if listed else []
    buttons = [
        _button(
            f"Read {citation.citation.rsplit(', ', 1)[-1]}",
            f"{CLAUSE_PREFIX}{citation.clause_id}",
            f"{ACTION_PREFIX}cite-{index}",
        )
        for index, citation in enumerate(citations)
        if citation.text not in shown
    ]
    return blocks + _actions(buttons)


# --- replies ---------------------------------------------------------------------------
def long_draft(draft: Draft) -> bool:
    """Long drafts also go as files (the letter, and its notes beside it): easier to copy
    than several code blocks."""
    return len(escape(draft.text)) > SECTION_TEXT - 2 * len(_FENCE) - 2


LETTER_HEAD = "*The letter* - what you would send, exactly as it stands:"
NOTES_HEAD = ":memo: *Reviewer's notes* - for you, not part of the letter; do not send them:"


def _preformatted_blocks(text: str) -> list[Block]:
    """Text shown exactly as typed, ``` and all: rich text is not mrkdwn, so nothing in it
    can close a code block early or be read as markup."""
    return [
        {
            "type": "rich_text",
            "elements": [
                {
                    "type": "rich_text_preformatted",
                    "elements": [{"type": "text", "text": piece.strip(chr(10))}],
                }
            ],
        }
        for piece in split_text(text, SECTION_TEXT)
        if piece.strip()
    ]


def _draft_blocks(draft: Draft) -> list[Block]:
    """The letter in copyable code blocks, then the notes apart under a divider. A letter
    with ``` in it (typed into an answer) would end a code block early: it goes as
    preformatted rich text instead."""
    blocks: list[Block] = [{"type": "section", "text": _mrkdwn(LETTER_HEAD)}]
    blocks += _preformatted_blocks(draft.text) if _FENCE in draft.text else _code_blocks(draft.text)
    if draft.notes.strip():
        blocks += [{"type": "divider"}, {"type": "section", "text": _mrkdwn(NOTES_HEAD)}]
        blocks += text_blocks(escape(draft.notes.strip()))
    return blocks


def _fallback(reply: Reply) -> str:
    first = reply.draft.title if reply.draft else reply.text
    return _shorten(escape(" ".join(first.split())) or "protocol-bot", FALLBACK_TEXT)


def render_reply(reply: Reply) -> list[SlackMessage]:
    """One reply as one message, or several when it would exceed 50 blocks.

    Buttons always travel in the last message, under the text they answer.
    """
    body: list[Block] = []
    if reply.draft is not None:
        body.append({"type": "header", "text": _plain(reply.draft.title, HEADER_TEXT)})
    body += text_blocks(escape(for_chat(reply.text)))  # a nested list keeps its indent
    if reply.draft is not None:
        body += _draft_blocks(reply.draft)
    # a draft's notes list its sources already: only the buttons to read them, no second list
    body += _citation_blocks(reply.citations, reply.text, listed=reply.draft is None)
    buttons = _option_buttons(reply.options, "opt")
    if reply.draft is not None and reply.draft.fields:
        buttons.append(
            _button(
                "Edit in a form",
                f"{FORM_PREFIX}{reply.meta.get('draft_sha', '')}",
                f"{ACTION_PREFIX}form",
            )
        )
    tail = _actions(buttons)
    tail += _actions(_option_buttons(reply.navigation, "nav"))
    if not body and not tail:
        body = text_blocks(escape("(nothing to show)"))
    room = MAX_BLOCKS - len(tail)
    chunks: list[list[Block]] = []
    while len(body) > room:
        take = max(1, min(MAX_BLOCKS, len(body) - 1))  # leave some text above the buttons
        chunks.append(body[:take])
        body = body[take:]
    chunks.append(body + tail)
    text = _fallback(reply)
    return [SlackMessage(text=text, blocks=chunk) for chunk in chunks]


def frozen_blocks(blocks: list[Block], chosen: str) -> list[Block]:
    """The clicked message with its answer buttons replaced by what was chosen.

    Old buttons left live could answer a later question by mistake; clause buttons stay.
    """
    kept: list[Block] = []
    for block in blocks:
        if block.get("type") == "actions" and any(
            not str(element.get("value", "")).startswith(CLAUSE_PREFIX)
            for element in block.get("elements", [])
        ):
            continue
        kept.append(block)
    kept.append({"type": "context", "elements": [_mrkdwn(f"You chose: *{escape(chosen)}*")]})
    return kept[-MAX_BLOCKS:]


# --- views -----------------------------------------------------------------------------
def _modal(title: str, blocks: list[Block], **extra: Any) -> Block:
    view: Block = {
        "type": "modal",
        "title": _plain(title, VIEW_TITLE),
        "close": _plain("Close", VIEW_TITLE),
        "blocks": blocks[:MAX_VIEW_BLOCKS],
    }
    view.update(extra)
    return view


def clause_modal(citation: Citation) -> Block:
    blocks: list[Block] = [{"type": "section", "text": _mrkdwn(f"*{escape(citation.citation)}*")}]
    blocks += text_blocks(escape(for_chat(citation.text)))
    blocks.append(_citation_context(citation))
    return _modal("Clause", blocks)


def draft_modal(draft: Draft, metadata: Mapping[str, str]) -> Block:
    """A form prefilled with the answers the draft was rendered from."""
    blocks: list[Block] = []
    too_long: list[str] = []
    for item in draft.fields:
        if len(item.value) > INPUT_VALUE or len(blocks) >= MAX_VIEW_BLOCKS - 1:
            too_long.append(item.label)
            continue
        element: Block = {
            "type": "plain_text_input",
            "action_id": "value",
            "multiline": item.multiline,
            "max_length": INPUT_VALUE,
        }
        if item.value:
            element["initial_value"] = item.value
        blocks.append(
            {
                "type": "input",
                "block_id": item.key,
                "optional": True,
                "label": _plain(item.label, LABEL_TEXT),
                "element": element,
            }
        )
    if too_long:
        note = "Too long to edit here (go back to change): " + ", ".join(too_long)
        blocks.append({"type": "context", "elements": [_mrkdwn(_shorten(escape(note), 3000))]})
    private = json.dumps(dict(metadata), separators=(",", ":"))
    if len(private) > METADATA:
        raise ValueError("draft form metadata too long")
    return _modal(
        "Edit draft",
        blocks,
        callback_id=DRAFT_EDIT_CALLBACK,
        submit=_plain("Update draft", VIEW_TITLE),
        close=_plain("Cancel", VIEW_TITLE),
        private_metadata=private,
    )


def read_edits(view: Mapping[str, Any]) -> dict[str, str]:
    """The submitted form's values by answer key. Slack sends null for an empty field: one
    that was empty when the form opened and still is was not touched, so it is left out (its
    answer stays as it was); one the user emptied comes back as ''."""
    values = view.get("state", {}).get("values", {})
    shown = {
        block.get("block_id"): (block.get("element") or {}).get("initial_value")
        for block in view.get("blocks", [])
        if isinstance(block, dict) and block.get("type") == "input"
    }
    edits = {}
    for key, entry in values.items():
        if not isinstance(entry, dict):
            continue
        value = entry.get("value", {}).get("value")
        if value is None and not shown.get(key):
            continue  # untouched
        edits[key] = value or ""
    return edits


class FlowInfo(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def triggers(self) -> Sequence[str]: ...


class DocumentInfo(Protocol):
    @property
    def title(self) -> str: ...
    @property
    def cite_as(self) -> str: ...
    @property
    def in_force(self) -> dt.date: ...
    @property
    def status(self) -> str: ...
    @property
    def status_note(self) -> str: ...


def home_view(flows: Sequence[FlowInfo], documents: Sequence[DocumentInfo]) -> Block:
    blocks: list[Block] = [
        {"type": "header", "text": _plain("Protocol bot", HEADER_TEXT)},
        *text_blocks(
            "Walks you through the inter-agency protocols step by step and quotes the clause "
            "behind every step. Start one below, type `/protocol` anywhere, or send me a "
            "direct message. `/clause QUERY` looks a clause up privately.\n"
            "Case details stay in your direct messages with me; drafts are never sent for you."
        ),
        {"type": "divider"},
        {"type": "header", "text": _plain("Protocols", HEADER_TEXT)},
    ]
    for index, flow in enumerate(flows):
        start = f"`/protocol {escape(flow.triggers[0])}`" if flow.triggers else "`/protocol`"
        text = f"*{escape(flow.title)}*\n{escape(flow.description)}\nStart: {start}"
        blocks.append(
            {
                "type": "section",
                "text": _mrkdwn(_shorten(text, SECTION_TEXT)),
                "accessory": _button("Start", f"flow:{flow.id}", f"{ACTION_PREFIX}home-{index}"),
            }
        )
    blocks += [{"type": "divider"}, {"type": "header", "text": _plain("Documents", HEADER_TEXT)}]
    for document in documents:
        status = _STATUS.get(document.status) or "current"
        lines = [
            f"*{escape(document.title)}*",
            f"Cited as: {escape(document.cite_as)}",
            f"In force: {document.in_force:%d %B %Y} · Status: {escape(status)}",
        ]
        if document.status_note:
            lines.append(escape(document.status_note))
        blocks.append({"type": "section", "text": _mrkdwn(_shorten("\n".join(lines), 3000))})
    return {"type": "home", "blocks": blocks[:MAX_VIEW_BLOCKS]}
