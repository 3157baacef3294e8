"""The terminal chat: the bot's embedded default channel (no accounts, no network)."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from bot.dialogue.engine import Engine
from bot.dialogue.messages import Conversation, Inbound, Option, Reply
from bot.outputs import write_private

PROMPT = "you> "


def conversation(thread: str = "terminal") -> Conversation:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "local"
    return Conversation("console", "local", user, thread)


def reply_json(reply: Reply) -> dict[str, Any]:
    return {
        "text": reply.text,
        "kind": reply.kind,
        "flow": reply.flow,
        "step": reply.step,
        "options": [{"label": o.label, "value": o.value} for o in reply.options],
        "navigation": [o.value for o in reply.navigation],
        "citations": [c.clause_id for c in reply.citations],
        "draft": reply.draft.text if reply.draft else None,  # the letter alone
        "draft_notes": reply.draft.notes if reply.draft else None,
    }


def offered(last: list[Reply]) -> tuple[Option, ...]:
    """The choices on screen: those of the turn's last reply that has any. Earlier ones in
    the same turn (a draft's "Edit the answers" before the closing "Change an answer") are
    not listed: the terminal shows one set of choices a turn, numbered from 1."""
    current = choosing(last)
    return current.options if current else ()


def choosing(replies: list[Reply]) -> Reply | None:
    """The reply of a turn whose options the terminal lists: the last that has any."""
    return next((r for r in reversed(replies) if r.options), None)


def to_inbound(text: str, last: list[Reply], who: Conversation) -> Inbound:
    """A typed number picks that option of the choices on screen, numbered from 1."""
    stripped = text.strip()
    options = offered(last)
    # ASCII digits only: "²" and "①" are digits to str.isdigit, but not numbers int() reads
    if stripped.isascii() and stripped.isdigit() and options and 1 <= int(stripped) <= len(options):
        return Inbound(who, action=options[int(stripped) - 1].value)
    return Inbound(who, text=stripped)


def input_lines(stream: IO[str]) -> Iterator[str | None]:
    """Piped input, one line at a time; None for a line that is not UTF-8 text, so the
    caller can say which line it skipped and still answer every line around it."""
    binary: IO[bytes] | None = getattr(stream, "buffer", None)
    if binary is None:  # already text (a test's StringIO): nothing to decode
        yield from stream
        return
    for raw in binary:
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            yield None


def unreadable(number: int) -> str:
    return f"Line {number} of the input is not UTF-8 text, so it was skipped."


def citation_note(reply: Reply) -> str | None:
    """The short citations shown under a reply (why and look-up replies quote in full)."""
    if not reply.citations or reply.kind in {"why", "lookup"}:
        return None
    return "; ".join(c.short or c.citation for c in reply.citations)


def plain_text(reply: Reply, *, choices: bool = True) -> str:
    """A reply as plain text, with its options numbered from 1, as to_inbound counts them
    (``choices=False``: without them, for a reply whose choices a later one supersedes)."""
    lines = [reply.text]
    note = citation_note(reply)
    if note is not None:
        lines.append(f"  [{note}]")
    for number, option in enumerate(reply.options if choices else (), start=1):
        lines.append(f"  {number}. {option.label}")
    if reply.draft:
        lines += [
            _rule(LETTER_HEAD),
            reply.draft.text.rstrip(),
            _rule(NOTES_HEAD),
            reply.draft.notes.rstrip(),
            _rule(""),
        ]
    return "\n".join(lines)


LETTER_HEAD = "LETTER: what you would send "
NOTES_HEAD = "END OF LETTER. REVIEWER'S NOTES: for you, not to send "


def _rule(head: str) -> str:
    return f"==== {head}".ljust(72, "=") if head else "=" * 72


def notes_path(out: Path) -> Path:
    """Where the reviewer's notes go beside the letters' file: drafts.txt -> drafts.notes.txt."""
    return out.with_name(f"{out.stem}.notes{out.suffix or '.txt'}")


@dataclass(frozen=True, slots=True)
class Saved:
    """What became of a draft written to --out: the line the terminal shows, and for JSON
    output the file it is in, or why it could not be written."""

    message: str
    path: str | None = None
    error: str | None = None


class DraftSaver:
    """Writes the drafts of a run to the --out file, the letters alone, and their reviewer's
    notes to a second file beside it (drafts.txt -> drafts.notes.txt): the first draft
    replaces what was there, each later one (the case note after the referral, a re-draft
    after an edit) goes below it under its title, so no draft of the run is lost.

    Each file is rewritten whole through a private temporary file (0600: it holds case
    details) renamed over it, so a full disk or a crash leaves the file as it was before
    that draft, never a part of it. Unwritable paths are said, not raised."""

    def __init__(self, out: Path | None) -> None:
        self.out = out
        self.notes = notes_path(out) if out else None
        self.saved = 0
        self._letters = ""
        self._notes = ""

    def __call__(self, reply: Reply) -> Saved | None:
        if not (self.out and self.notes and reply.draft):
            return None
        draft = reply.draft
        letters = self._joined(self._letters, draft.title, draft.text)
        notes = self._joined(self._notes, draft.title, draft.notes)
        try:
            write_private(self.out, letters)
            write_private(self.notes, notes)
        except OSError as exc:
            reason = f"{exc.filename or self.out}: {exc.strerror or exc}"
            return Saved(f"(could not write the draft to {reason})", error=reason)
        self._letters, self._notes = letters, notes
        self.saved += 1
        if self.saved == 1:
            message = f"(draft saved to {self.out}; the reviewer's notes to {self.notes})"
        else:
            message = (
                f"(draft added to {self.out} below the earlier one: {self.saved} drafts in the "
                f"file; their notes in {self.notes})"
            )
        return Saved(message, path=str(self.out))

    def _joined(self, before: str, title: str, text: str) -> str:
        text = text.rstrip() + "\n"
        if self.saved == 0:
            return text
        return f"{before}\n{'=' * 72}\n{title}\n{'=' * 72}\n\n{text}"


def run_lines(
    engine: Engine,
    lines: Iterable[str | None],
    out: IO[str],
    *,
    as_json: bool = False,
    save: Callable[[Reply], Saved | None] = lambda r: None,
) -> None:
    """Non-interactive chat: one message per input line, replies as text or JSON lines."""
    who = conversation(thread="stdin")
    last: list[Reply] = []
    for number, line in enumerate(lines):
        if number == 0:
            # an unfinished conversation from an earlier run is named before the first line
            # goes into it
            last = _write(engine.handle(Inbound(who, action="cmd:return")), out, as_json, save)
        if line is None:
            said = unreadable(number + 1)
            out.write(
                json.dumps({"kind": "error", "text": said}) + "\n" if as_json else said + "\n"
            )
            continue
        line = line.rstrip("\n")
        if not line.strip():
            continue
        # a number picks from what is on screen now, nothing older
        last = _write(engine.handle(to_inbound(line, last, who)), out, as_json, save)


def _write(
    replies: list[Reply], out: IO[str], as_json: bool, save: Callable[[Reply], Saved | None]
) -> list[Reply]:
    current = choosing(replies)
    for reply in replies:
        saved = save(reply)
        if as_json:
            shown = reply_json(reply)
            if saved is not None:  # a script reading the JSON learns whether the file holds it
                shown.update({"saved": saved.path} if saved.path else {"save_error": saved.error})
            out.write(json.dumps(shown, ensure_ascii=False) + "\n")
        else:
            out.write(plain_text(reply, choices=reply is current) + "\n")
            if saved:
                out.write(saved.message + "\n")
    out.flush()
    return replies


def run_interactive(engine: Engine, save: Callable[[Reply], Saved | None]) -> None:
    """The friendly terminal chat, drawn with rich."""
    from rich.console import Console
    from rich.markup import escape
    from rich.panel import Panel

    console = Console()
    who = conversation()
    console.print(
        "[bold]protocol-bot[/bold] - tell me what has happened, or type [bold]menu[/bold]. "
        "Type [bold]help[/bold] for commands, [bold]quit[/bold] or Ctrl-D to leave."
    )
    # an unfinished conversation from an earlier run is named; otherwise the menu
    last: list[Reply] = engine.handle(Inbound(who, action="cmd:return")) or engine.handle(
        Inbound(who, action="nav:menu")
    )
    _show(console, last, escape, Panel, save)
    while True:
        try:
            text = console.input(f"[bold cyan]{PROMPT}[/bold cyan]")
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        if text.strip().lower() in {"quit", "exit"}:
            return
        if not text.strip():
            continue
        replies = engine.handle(to_inbound(text, last, who))
        _show(console, replies, escape, Panel, save)
        last = replies


def _show(console: Any, replies: list[Reply], escape: Any, panel: Any, save: Any) -> None:
    current = choosing(replies)
    for reply in replies:
        style = "red" if reply.kind == "error" else "green"
        console.print(f"[{style}]bot>[/{style}] {escape(reply.text)}")
        note = citation_note(reply)
        if note is not None:
            console.print(f"  [dim]{escape(note)} - type why for the full text[/dim]")
        for number, option in enumerate(reply.options if reply is current else (), start=1):
            console.print(f"  [bold]{number}.[/bold] {escape(option.label)}")
        if reply.draft:
            console.print(
                panel(
                    escape(reply.draft.text.rstrip()),
                    title=escape(f"{reply.draft.title}: the letter, what you would send"),
                    border_style="green",
                )
            )
            console.print(
                panel(
                    escape(reply.draft.notes.rstrip()),
                    title="Reviewer's notes: for you, not part of the letter",
                    border_style="yellow",
                )
            )
            saved = save(reply)
            console.print(
                f"[dim]{escape(saved.message)}[/dim]"
                if saved
                else "[dim](run with --out FILE to save drafts to a file)[/dim]"
            )


def is_terminal() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()
