"""Human output of a clause look-up: citation, heading, text with matches highlighted."""

from __future__ import annotations

import re
from typing import Any

from bot.kb.text import stem, words


def _highlight(text: str, matched: tuple[str, ...]) -> Any:
    from rich.text import Text

    out = Text(text)
    stems = {stem(w) for w in matched}
    for match in re.finditer(r"[A-Za-z0-9’']+", text):
        token = words(match.group(0))
        if token and stem(token[0]) in stems:
            out.stylize("bold yellow", match.start(), match.end())
    return out


def show_result(index: Any, result: Any, console: Any = None, answer: Any = None) -> None:
    """Print the clauses found; with an ``answer`` that says the documents do not answer the
    question, that statement and the current practice that does come first."""
    from rich.console import Console
    from rich.markup import escape

    console = console or Console(highlight=False)
    for word, fixed in result.corrections.items():
        console.print(f"[dim](read “{escape(word)}” as “{escape(fixed)}”)[/dim]")
    if answer is not None and not answer.answered and answer.shows_anything:
        console.print(escape(answer.heading()))
    if not result.useful:
        if answer is not None and answer.shows_anything:
            return
        console.print(
            f"Nothing in the {len(index.kb.documents)} documents answers that. Try other words "
            "(e.g. 'ombudsman decisions', 'FOI requests CQC'), a reference such as "
            "'lgo 17' or 'cqc-2011/20', or limit to one document with --doc."
        )
        return
    for hit in result.hits:
        clause = hit.clause
        document = index.kb.document_of(clause)
        console.print(
            f"\n[bold]{escape(index.kb.citation_text(clause))}[/bold] [dim]\\[{clause.id}][/dim]"
        )
        console.print(
            f"[dim]{escape(clause.heading)} · in force {document.in_force:%-d %B %Y} · "
            f"status: {document.status_of(clause.id)}[/dim]"
        )
        console.print(_highlight(clause.text, hit.matched))
        if document.status != "current" and document.status_note:
            console.print(f"[magenta]Status: {escape(document.status_note)}[/magenta]")
        for note in document.notes_for(clause.id):
            flag = "" if note.verified else ", not yet verified"
            console.print(
                f"[magenta]Currency note ({escape(note.source)}{flag}): {escape(note.text)}[/magenta]"
            )
