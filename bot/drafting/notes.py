"""The reviewer's notes beside a letter: what to check before sending, and what it rests on.

The letter is exactly what would be sent; everything meant for the person checking it (the
reminder that nothing was sent, the placeholders to fill in, the contacts to verify, the
secure route for case data, the clauses behind it) is here instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from bot.kb.model import Citation

__all__ = ["NOT_SENT", "SECURE_ROUTE", "placeholders", "reviewer_notes"]

NOT_SENT = (
    "This is a draft: protocol-bot has not sent it anywhere. Check every detail of the "
    "letter, then send it yourself."
)
SECURE_ROUTE = (
    "It carries personal data about a case: send it (or file it) only by a secure route "
    "meant for case data (secure email, or the recipient's secure portal or form), never "
    "to a general enquiries line or mailbox."
)
_PLACEHOLDER = re.compile(r"\[[^\[\]\n]{2,300}\]")


def placeholders(letter: str) -> list[str]:
    """The parts of a letter in square brackets, each once, in order."""
    return list(dict.fromkeys(_PLACEHOLDER.findall(letter)))


def _unique(lines: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(line for line in lines if line))


def reviewer_notes(
    letter: str, checks: Sequence[str], sources: Sequence[Citation], *, case_data: bool
) -> str:
    """The notes as text: ``checks`` are the lines the template and its contacts gave."""
    lines = ["Before sending:", f"- {NOT_SENT}"]
    if case_data:
        lines.append(f"- {SECURE_ROUTE}")
    marked = placeholders(letter)
    if marked:
        lines.append("- Fill in or replace every part in square brackets:")
        lines += [f"    {part}" for part in marked]
    lines += [f"- {check}" for check in _unique(checks)]
    lines += ["", "Sources:"]
    lines += [f"- {c.citation} [{c.clause_id}]" for c in sources] or [
        "- none: the draft's own step cites no clause"
    ]
    return "\n".join(lines) + "\n"
