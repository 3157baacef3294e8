"""Check a typed answer against its question: forgiving about form, strict about meaning."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.dialogue.flow import Step, parse_date
from bot.kb.directory import Council, Directory, split_councils

YES = {"yes", "y", "yeah", "yep", "yup", "true", "correct", "right", "ok", "okay", "sure", "aye"}
NO = {"no", "n", "nope", "nah", "false"}
SKIP = {"skip", "pass", "not known", "unknown", "don't know", "dont know", "n/a", "na", "-"}
# What people type when they cannot name the council: fine to skip an optional question with,
# never a council's name
NO_COUNCIL = SKIP | YES | NO | {"none", "no idea", "not sure", "idk", "tbc", "tbd", "?", "??", "x"}
LETTER = re.compile(r"[^\W\d_]")
# seven consonants in a row: a hand run along the keyboard ("asdfghjkl"), not a place name
KEYBOARD_RUN = re.compile(r"[bcdfghjklmnpqrstvwxz]{7,}", re.IGNORECASE)
EMAIL = re.compile(r"[^\s@<>(),;:]+@[^\s@<>(),;:]+\.[^\W\d_]{2,}")
AGE = re.compile(r"(\d{1,3})(?:\s*(?:years?|yrs?)(?:\s+old)?)?", re.IGNORECASE)


@dataclass(frozen=True)
class Checked:
    value: str | None  # the answer as stored, or None when it is not acceptable
    problem: str = ""  # why not, in the user's terms
    note: str = ""  # something the user should know about an accepted answer


# terminal escape sequences (colours, cursor moves, titles) pasted with an answer: taken out
# whole, not just their ESC, or "[31m" would be left in the draft
_ESCAPES = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])"
    r"|\x9b[0-?]*[ -/]*[@-~]"  # the same control sequence introduced by its 8-bit form
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def control_free(text: str) -> str:
    """Text without terminal escape sequences or control characters (line breaks and tabs
    stay), trimmed: what a user typed, safe to store, draft and echo to a terminal."""
    return _CONTROLS.sub("", _ESCAPES.sub("", text)).strip()


def check_answer(
    step: Step, text: str, today: dt.date | None = None, directory: Directory | None = None
) -> Checked:
    text = control_free(text)
    lowered = text.lower().rstrip(".!")
    if step.type == "yesno":
        first = lowered.split()[0] if lowered.split() else ""
        if lowered in YES or first in YES:
            return Checked("yes")
        if lowered in NO or first in NO:
            return Checked("no")
        return Checked(None, "Please answer yes or no.")
    if step.type == "choice":
        choices = step.choices()
        for number, choice in enumerate(choices, start=1):
            if lowered in {choice.value.lower(), choice.label.lower(), str(number)}:
                return Checked(choice.value)
        if lowered:
            match = process.extractOne(
                lowered,
                {c.value: c.label.lower() for c in choices},
                scorer=fuzz.WRatio,
                score_cutoff=88,
            )
            if match:
                return Checked(str(match[2]))
        return Checked(None, "Please choose one of the options (you can type its number).")
    # an optional answer emptied in a form is an answer skipped
    if step.optional and (
        not text or lowered in SKIP or (step.type == "council" and lowered in NO_COUNCIL)
    ):
        return Checked("")
    if not step.optional and lowered in SKIP and step.type == "text" and not _invites_skip(step):
        # "Dear skip," in a letter: a required answer cannot be skipped, so say so
        return Checked(
            None,
            "This one is needed for the draft, so it can't be skipped. If you don't know it "
            "yet, find it out and come back, or type cancel.",
        )
    if step.type == "date":
        today = today or dt.date.today()
        when = parse_date(text, today)
        if when is None:
            return Checked(None, "Please give a date like 23/11/2026, 2026-11-23 or 'today'.")
        if step.validate_.not_future and when > today:
            return Checked(None, "That date is in the future; please give the date it happened.")
        if step.validate_.not_past and when < today:
            return Checked(None, "That date has passed; please give a date from today on.")
        days = step.validate_.within_days
        if days is not None and when < today - dt.timedelta(days=days):
            return Checked(
                None,
                f"That date is more than {_span(days)} ago, which is too long ago for this "
                "question; please check it and give the date again.",
            )
        too_old = _too_old(when, step.validate_.max_age, today)
        if too_old:
            return Checked(None, too_old)
        return Checked(when.isoformat())
    rules = step.validate_
    if len(text) < rules.min_length:
        return Checked(
            None,
            step.reask
            or (
                "That answer is empty."
                if not text
                else f"Please give at least {rules.min_length} characters."
            ),
        )
    if len(text) > rules.max_length:
        return Checked(
            None,
            f"That answer is {len(text):,} characters; please keep it under {rules.max_length:,}"
            " (summarise, and keep the full account in your case record).",
        )
    if rules.pattern and not re.fullmatch(rules.pattern, text):
        return Checked(None, step.reask or "That answer is not in the expected form.")
    if rules.needs_email and not EMAIL.search(text):
        return Checked(None, step.reask or "Please include an email address.")
    if rules.max_age is not None:
        too_old = _age_problem(text, rules.max_age, today or dt.date.today())
        if too_old:
            return Checked(None, too_old)
    if step.type == "council":
        return _council(step, text, directory or Directory())
    return Checked(text)


def _invites_skip(step: Step) -> bool:
    """Whether the question itself says "not known" or "skip" is an answer (the child's name)."""
    asked = f"{step.ask or ''} {step.reask or ''}".lower()
    return "not known" in asked or "skip" in asked


def _span(days: int) -> str:
    if days % 365 == 0:
        years = days // 365
        return "a year" if years == 1 else f"{years} years"
    return f"{days} days"


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _too_old(born: dt.date, max_age: int | None, today: dt.date) -> str:
    if max_age is None or born >= _years_before(today, max_age):
        return ""
    return (
        f"That date of birth would make them older than {max_age}; please check it "
        "(e.g. 14/03/2012)."
    )


def _age_problem(text: str, max_age: int, today: dt.date) -> str:
    """A date of birth or an age typed as free text, checked only when it is one of those."""
    born = parse_date(text, today)
    if born is not None:
        if born > today:
            return (
                "That date of birth is in the future; please check it (for an expected "
                'baby, write "due" before the date).'
            )
        return _too_old(born, max_age, today)
    age = AGE.fullmatch(text)
    if age and int(age.group(1)) > max_age:
        return f"An age of {int(age.group(1))} is not possible here; please check it."
    return ""


def _not_a_council(part: str) -> str:
    """Why a typed answer cannot be a council's name, or "" when it could be one."""
    if part.lower().rstrip(".!") in NO_COUNCIL:
        return (
            "I need the council's name for this question (the draft is addressed to it). "
            "If you don't know it yet, find it out and come back, or type cancel."
        )
    if not LETTER.search(part):
        return (
            f"“{part}” is not a council's name. Please type the name, e.g. “Kent County Council”."
        )
    if KEYBOARD_RUN.search(part):
        return f"“{part}” does not look like a council's name. Please check the spelling."
    return ""


def _council(step: Step, text: str, directory: Directory) -> Checked:
    """A known council is stored by its official name; an unknown one as typed, said plainly."""
    whole = directory.match(text)
    parts = split_councils(text) if step.many and whole.council is None else [text]
    for part in parts:
        problem = _not_a_council(part)
        if problem:
            return Checked(None, problem)
    names: list[str] = []
    found: list[Council] = []
    notes: list[str] = []
    for part in parts:
        match = whole if part == text else directory.match(part)
        pieces = re.split(r"\s+(?:and|&)\s+", part, flags=re.IGNORECASE) if step.many else []
        if match.council is None and len(pieces) > 1:
            each = [directory.match(p).council for p in pieces]
            if all(each):  # "Kent and Leeds": two councils, not one called that
                found += [c for c in each if c]
                names += [c.name for c in each if c]
                continue
        if match.council is not None:
            found.append(match.council)
            names.append(match.council.name)
            continue
        names.append(part)
        note = (
            f"I have no directory entry for “{part}”, so I've kept the name as you typed it. "
            "Drafts will show a placeholder where its contacts would go: look them up before "
            "sending."
        )
        if match.candidates:
            close = " or ".join(c.name for c in match.candidates)
            note += f" Did you mean {close}? If so, type back and give that name."
        notes.append(note)
    names = list(dict.fromkeys(names))
    if found:
        listed = ", ".join(dict.fromkeys(c.name for c in found))
        line = f"Found in the local authority directory: {listed}."
        if any(c.example for c in found):
            line += " (EXAMPLE entries: their contacts are placeholders, not real ones.)"
        notes.insert(0, line)
    return Checked("; ".join(names), note="\n".join(notes))
