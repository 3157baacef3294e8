"""The neutral values a channel exchanges with the engine. No platform knows more than this.

A channel adapter turns a platform event into an :class:`Inbound`, calls
``Engine.handle(inbound)`` and renders the returned :class:`Reply` values in its own medium.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from bot.kb.model import Citation

__all__ = [
    "NAVIGATION",
    "Conversation",
    "Draft",
    "DraftField",
    "Inbound",
    "Option",
    "Reply",
    "ReplyKind",
]


@dataclass(frozen=True, slots=True)
class Conversation:
    """Who is talking where: the session key.

    channel   "console", "slack" or "telegram"
    workspace Slack team id, Telegram bot id, "local" for the terminal
    user      the platform's user id
    thread    DM channel id, thread timestamp or chat id: one session per thread
    """

    channel: str
    workspace: str
    user: str
    thread: str

    @property
    def key(self) -> str:
        """The four parts joined by "|", each with "%" and "|" percent-encoded, so two
        different conversations never share a key (ids without either read as before)."""
        return "|".join(
            part.replace("%", "%25").replace("|", "%7C")
            for part in (self.channel, self.workspace, self.user, self.thread)
        )


@dataclass(frozen=True, slots=True)
class Inbound:
    """One thing the user did: typed text, or pressed an option (its ``value`` in ``action``).

    ``shared`` is True in a channel or group other people read: the engine then keeps case
    details out of its replies and asks the user to continue privately.
    ``edits`` carries changed answers from a draft-editing form (answer id -> new text).
    """

    conversation: Conversation
    text: str = ""
    action: str | None = None
    shared: bool = False
    edits: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Option:
    """A choice offered to the user. ``value`` is short (<= 40 bytes) and goes back as ``action``."""

    label: str
    value: str


# Navigation every step offers; values are engine commands.
NAVIGATION = (
    Option("Back", "nav:back"),
    Option("Why?", "nav:why"),
    Option("Restart", "nav:restart"),
    Option("Cancel", "nav:cancel"),
)


@dataclass(frozen=True, slots=True)
class DraftField:
    """An answer the draft was rendered from, editable in a form."""

    key: str
    label: str
    value: str
    multiline: bool = False


@dataclass(frozen=True, slots=True)
class Draft:
    """A referral or reply for the user to check, copy and send themselves. Never sent by the bot.

    ``text`` is the letter: exactly what would be sent, with placeholders in square brackets
    where a fact is not known, and nothing meant for the reviewer. ``notes`` are the
    reviewer's: what to check before sending and the clauses it rests on. Every channel
    shows the two apart, and saves them to two files (``filename``, ``notes_filename``).
    """

    title: str
    text: str
    filename: str
    fields: tuple[DraftField, ...] = ()
    notes: str = ""

    @property
    def notes_filename(self) -> str:
        """Beside the letter's file: referral.txt -> referral.notes.txt."""
        stem, dot, suffix = self.filename.rpartition(".")
        return f"{stem}.notes.{suffix}" if dot and stem else f"{self.filename}.notes.txt"


ReplyKind = Literal[
    "question", "guidance", "summary", "draft", "menu", "lookup", "why", "help", "notice", "error"
]


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    kind: ReplyKind = "notice"
    options: tuple[Option, ...] = ()
    navigation: tuple[Option, ...] = ()
    citations: tuple[Citation, ...] = ()
    draft: Draft | None = None
    flow: str | None = None
    step: str | None = None
    meta: dict[str, str] = field(default_factory=dict)
    # the button pressed (the action) was not taken: it belonged to an earlier question, or is
    # no longer valid. A channel must not show the pressed message as answered.
    refused: bool = False
