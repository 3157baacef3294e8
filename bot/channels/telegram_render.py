"""Replies as Telegram HTML: escaped text, quoted clauses, keyboards, messages under 4,096.

Pure functions over the neutral :mod:`bot.dialogue.messages` values; no Telegram SDK here, so
the rendering rules can be read and tested on their own. Every piece of text that came from a
user, a flow or a clause goes through :func:`html.escape`; only the tags written in this
module reach Telegram unescaped.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass

from bot.dialogue.messages import Draft, Option, Reply
from bot.kb.lists import for_chat
from bot.kb.model import Citation

__all__ = [
    "MAX_CAPTION",
    "MAX_TEXT",
    "Block",
    "Button",
    "DocumentOut",
    "Outgoing",
    "TextOut",
    "keyboard_rows",
    "render",
    "split_blocks",
    "utf16_len",
]

MAX_TEXT = 4096  # Telegram's limit for one message, in UTF-16 code units
MAX_CAPTION = 1024
MAX_LABEL = 60  # longer button labels are cut by clients anyway
SHORT_LABEL = 14  # labels this short share a row
LONG_LABEL = 40  # options this long are also listed, numbered, in the message
EXPAND_QUOTE = 600  # clause quotes longer than this start collapsed

_STATUS = {
    "historical": "historical text: check the current version before relying on it",
    "check": "currency not confirmed: check before relying on it",
}


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    action: str  # the engine's Option.value; the channel swaps it for a short key
    url: str = ""  # or a link instead


@dataclass(frozen=True, slots=True)
class TextOut:
    html: str
    keyboard: tuple[tuple[Button, ...], ...] = ()


@dataclass(frozen=True, slots=True)
class DocumentOut:
    filename: str
    content: bytes
    caption: str  # HTML


Outgoing = TextOut | DocumentOut


@dataclass(frozen=True, slots=True)
class Block:
    """A paragraph: fixed HTML around plain ``body``; a long body is split, keeping the tags."""

    body: str
    prefix: str = ""
    suffix: str = ""
    head: str = ""  # HTML shown before the first piece only


def _escape(text: str) -> str:
    return html.escape(text, quote=False)  # Telegram needs only <, > and & escaped in text


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# --- splitting ------------------------------------------------------------------------------
def _fits(text: str, budget: int) -> int:
    """The longest prefix of ``text`` whose escaped form fits ``budget`` (binary search)."""
    low, high = 0, min(len(text), budget)  # a character is at least one unit, escaped or not
    while low < high:
        mid = (low + high + 1) // 2
        if utf16_len(_escape(text[:mid])) <= budget:
            low = mid
        else:
            high = mid - 1
    return low


def _split_plain(text: str, budget: int) -> list[str]:
    """Cut at a blank line, else a line end, else a space, else anywhere."""
    pieces: list[str] = []
    rest = text
    while utf16_len(_escape(rest)) > budget:
        limit = max(_fits(rest, budget), 1)
        window = rest[:limit]
        cut = limit
        for separator in ("\n\n", "\n", " "):
            at = window.rfind(separator)
            if at > limit // 3:
                cut = at
                break
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    pieces.append(rest)
    return [piece for piece in pieces if piece.strip()]


def _pieces(block: Block, limit: int) -> list[str]:
    whole = block.head + block.prefix + _escape(block.body) + block.suffix
    if utf16_len(whole) <= limit:
        return [whole]
    frame = utf16_len(block.head + block.prefix + block.suffix)
    parts = _split_plain(block.body, max(limit - frame, 1))
    return [
        (block.head if i == 0 else "") + block.prefix + _escape(part) + block.suffix
        for i, part in enumerate(parts)
    ]


def split_blocks(blocks: Iterable[Block], limit: int = MAX_TEXT) -> list[str]:
    """Pack paragraphs into as few messages as fit, never splitting inside a tag."""
    messages: list[str] = []
    current = ""
    for block in blocks:
        for piece in _pieces(block, limit):
            joined = f"{current}\n\n{piece}" if current else piece
            if utf16_len(joined) <= limit or not current:
                current = joined
            else:
                messages.append(current)
                current = piece
    if current:
        messages.append(current)
    return messages


# --- replies ----------------------------------------------------------------------------
def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]


def _quotes(paragraph: str, citations: tuple[Citation, ...]) -> bool:
    """The engine's plain-text quote of a clause; the rich rendering below replaces it."""
    return any(paragraph.startswith(c.citation) for c in citations)


def _citation_blocks(
    citation: Citation, shown_notes: set[str], collapsed: bool = False
) -> list[Block]:
    status = _STATUS.get(citation.status)
    head = f"<b>{_escape(citation.citation)}</b> [{_escape(citation.clause_id)}]"
    if status:
        head += f"\n<i>{_escape(status)}</i>"
    long = collapsed or len(citation.text) > EXPAND_QUOTE
    tag = "<blockquote expandable>" if long else "<blockquote>"
    # a nested list keeps its indent (a client may trim leading spaces, not no-break spaces)
    blocks = [Block(for_chat(citation.text), tag, "</blockquote>", head=head + "\n")]
    for note in citation.notes:
        if note.text in shown_notes:  # a document-wide note, already shown for this reply
            continue
        shown_notes.add(note.text)
        checked = "" if note.verified else " (not yet verified)"
        blocks.append(Block(f"{note.text} Source: {note.source}{checked}", "<i>Note: ", "</i>"))
    return blocks


def _draft_blocks(draft: Draft) -> list[Block]:
    """The letter (what would be sent) in a copyable block, then the reviewer's notes apart."""
    blocks = [
        Block(draft.title, "<b>", "</b>"),
        Block("The letter, exactly what you would send:", "<i>", "</i>"),
        Block(draft.text.rstrip(), "<pre>", "</pre>"),
    ]
    if draft.notes.strip():
        blocks += [
            Block(
                "Reviewer's notes: for you, not part of the letter. Do not send them.",
                "📝 <b>",
                "</b>",
            ),
            Block(draft.notes.rstrip(), "<blockquote>", "</blockquote>"),
        ]
    blocks.append(
        Block(
            f"The letter alone is attached as {draft.filename}, and the notes as "
            f"{draft.notes_filename}. Check the letter, then copy it into your email; the "
            "bot never sends anything for you."
        )
    )
    return blocks


def _label(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def _numbered(options: tuple[Option, ...]) -> bool:
    """Clients cut long button labels, so long choices are listed in full in the message."""
    return any(len(o.label) > LONG_LABEL for o in options)


def keyboard_rows(
    options: Iterable[Option], navigation: Iterable[Option]
) -> tuple[tuple[Button, ...], ...]:
    """Short options share rows of three, long ones get a row each; navigation is the last row."""
    options = tuple(options)
    if _numbered(options):
        choices = [Button(_label(f"{n}. {o.label}"), o.value) for n, o in enumerate(options, 1)]
    else:
        choices = [Button(_label(o.label), o.value) for o in options]
    per_row = 3 if all(len(b.label) <= SHORT_LABEL for b in choices) else 1
    rows = [tuple(choices[i : i + per_row]) for i in range(0, len(choices), per_row)]
    nav = tuple(Button(_label(o.label), o.value) for o in navigation)
    if nav:
        rows.append(nav)
    return tuple(rows)


def render(reply: Reply, limit: int = MAX_TEXT) -> list[Outgoing]:
    """One reply as messages (the keyboard on the last) and, for a draft, a .txt document."""
    blocks: list[Block] = []
    paragraphs = [p for p in _paragraphs(reply.text) if not _quotes(p, reply.citations)]
    for i, paragraph in enumerate(for_chat(p) for p in paragraphs):
        if reply.kind == "error" and i == 0:
            blocks.append(Block(paragraph, "⚠️ "))
        elif reply.kind == "question" and i == 0:
            blocks.append(Block(paragraph, "<b>", "</b>"))
        else:
            blocks.append(Block(paragraph))
    if _numbered(reply.options):
        listing = "\n".join(f"{n}. {o.label}" for n, o in enumerate(reply.options, 1))
        blocks.append(Block(listing))
    if reply.draft is not None:  # the draft first; its sources were quoted step by step
        blocks.extend(_draft_blocks(reply.draft))
    shown_notes: set[str] = set()
    for citation in reply.citations:
        blocks.extend(_citation_blocks(citation, shown_notes, collapsed=reply.draft is not None))

    keyboard = keyboard_rows(reply.options, reply.navigation)
    texts = split_blocks(blocks, limit)
    if not texts and keyboard:
        texts = ["Choose one:"]
    out: list[Outgoing] = [TextOut(text) for text in texts]
    if keyboard:
        out[-1] = TextOut(texts[-1], keyboard)
    if reply.draft is not None:  # the letter alone in its file, the notes in their own
        draft = reply.draft
        title = draft.title[: MAX_CAPTION // 6]  # escaping grows it 5x at most
        for filename, text, caption in (
            (draft.filename, draft.text, title),
            (draft.notes_filename, draft.notes, f"{title}: reviewer's notes (not to send)"),
        ):
            content = text.replace("\r\n", "\n").encode("utf-8")
            out.append(DocumentOut(filename, content, _escape(caption)))
    return out
