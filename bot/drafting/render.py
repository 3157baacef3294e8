"""Render drafts and guidance text.

The environment is sandboxed and user answers only ever arrive as values, so ``{{ 7*7 }}``
typed into an answer is printed as typed. Missing optional answers read "not known".

A draft template renders the letter: exactly what would be sent. What the reviewer must
check goes beside it, never into it: ``{% do note("...") %}`` records a line for the
reviewer's notes, and every contact nobody has verified yet is printed as it would be sent
and listed in the notes. A template says whether it carries personal data about a case
with ``{% set case_data = true %}`` (or ``false``); one that does can be addressed to no
contact that is not meant for case data (a placeholder stands in its place).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, NamedTuple

from jinja2 import (
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateError,
    meta,
    nodes,
)
from jinja2.sandbox import ImmutableSandboxedEnvironment

from bot.kb.directory import Directory

NOT_KNOWN = "not known"
GLOBALS = frozenset(
    {
        "contacts",
        "citations",
        "today",
        "flow",
        "not_known",
        "due_date",
        "practice",
        "local_authority",
        "local_authorities",
        "called_from",  # the flow that called this one, or ""
        "note",
    }
)


UNVERIFIED = "[unverified]"
# a contact's fields that are not a way to reach it; every other field is a route
NOT_ROUTES = frozenset({"name", "source", "verified", "hours", "case_data"})
_NOT_SHOWN = NOT_ROUTES
CASE_DATA = "case_data"  # what a template sets to say whether it carries case details
PRACTICE = "practice"  # the contacts file's local practice settings: not a contact


def _marked(contacts: Mapping[str, Any]) -> dict[str, Any]:
    """Contacts as flows and drafts show them: a detail nobody has checked yet says so."""
    shown: dict[str, Any] = {}
    for key, entry in contacts.items():
        if isinstance(entry, Mapping) and entry.get("verified") is False:
            shown[key] = {
                field: f"{value} {UNVERIFIED}"
                if isinstance(value, str) and field not in _NOT_SHOWN
                else value
                for field, value in entry.items()
            }
        else:
            shown[key] = entry
    return shown


# the lines of a letter that say where it goes: a To:, Send to:, Also to:, Copy: or Cc: line
# and the indented lines right under it. A letter carrying case data may be addressed only to
# a route meant for case data; a route named elsewhere in it (Ofsted's own enquiries line for
# the reader's questions, say) is not where the letter goes.
_ADDRESS = re.compile(r"^\s*(?:to|send to|also to|copy|cc|bcc|fao|for the attention of)\s*:", re.I)
_STATEMENT = re.compile(r"^\s*\{%.*%\}\s*$")  # a template line that prints nothing


def address_lines(text: str) -> list[int]:
    """The numbers (from 0) of the lines that address a letter, or its template."""
    found: list[int] = []
    inside = False
    for number, line in enumerate(text.split("\n")):
        if _ADDRESS.match(line):
            inside = True
            found.append(number)
        elif inside and _STATEMENT.match(line):
            continue
        elif inside and line[:1] in {" ", "\t"} and line.strip():
            found.append(number)
        else:
            inside = False
    return found


class _LetterContact(Mapping[str, Any]):
    """One contact as a letter prints it: every detail as it would be sent. Each route read
    from an entry nobody has verified is remembered for the reviewer's notes."""

    def __init__(self, entry: Mapping[str, Any], read: list[str]) -> None:
        self._entry = entry
        self._read = read

    def __getitem__(self, field: str) -> Any:
        value = self._entry[field]
        if field in NOT_ROUTES or not isinstance(value, str):
            return value
        if self._entry.get("verified") is False and f"{field} {value}" not in self._read:
            self._read.append(f"{field} {value}")
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._entry)

    def __len__(self) -> int:
        return len(self._entry)


def _unverified(contacts: Mapping[str, Any], read: Mapping[str, list[str]]) -> list[str]:
    """A line for the notes per unverified contact a letter used, with where to check it."""
    lines = []
    for key, details in read.items():
        if details:
            entry = contacts[key]
            lines.append(
                f"Not yet verified by an administrator: {entry.get('name', key)} - "
                f"{', '.join(details)}. Check against {entry.get('source', 'its source')}."
            )
    return lines


class TemplateProblem(ValueError):
    """A template that cannot be used; the message names the file."""


def _due(start: dt.date | str, days: int) -> dt.date:
    # answers to date questions are stored as ISO text
    when = dt.date.fromisoformat(start) if isinstance(start, str) else start
    return when + dt.timedelta(days=days)


def _long_date(value: dt.date | str, fmt: str = "%-d %B %Y") -> str:
    """23 November 2026; date answers arrive as ISO text, and anything else as it is."""
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value).strftime(fmt)
        except ValueError:
            return value  # "not known"
    return value.strftime(fmt)


class Rendered(NamedTuple):
    text: str  # the letter
    relied: tuple[str, ...] | None  # the clause ids the template says it rests on, if it says
    notes: tuple[str, ...] = ()  # for the reviewer: what to check before sending
    case_data: bool = False  # the template says it carries personal data about a case


class DraftRenderer:
    def __init__(
        self, templates: Path, contacts: Mapping[str, Any], directory: Directory | None = None
    ) -> None:
        self.templates = templates
        self.contacts = contacts
        self.shown_contacts = _marked(contacts)
        self.directory = directory if directory is not None else Directory()
        self.env = ImmutableSandboxedEnvironment(
            loader=FileSystemLoader(str(templates)),
            undefined=StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            extensions=["jinja2.ext.do"],
        )
        self.env.filters["date"] = _long_date
        # a step's text is compiled once, not on every turn that shows it
        self._compile: Callable[[str], Template] = lru_cache(maxsize=1024)(self.env.from_string)
        self._case_data: dict[str, bool | None] = {}

    # --- validation --------------------------------------------------------------------
    def source(self, name: str) -> str:
        """A template's text as written."""
        try:
            return self.env.loader.get_source(self.env, name)[0]  # type: ignore[union-attr]
        except (TemplateError, OSError) as exc:
            raise TemplateProblem(f"{self.templates / name}: {exc}") from exc

    def variables(self, name: str) -> set[str]:
        """Top-level names a template uses (answers it expects, plus globals)."""
        source = self.source(name)
        try:
            return set(meta.find_undeclared_variables(self.env.parse(source)))
        except TemplateError as exc:
            raise TemplateProblem(f"{self.templates / name}: {exc}") from exc

    def case_data(self, name: str) -> bool | None:
        """What the template says about carrying personal data about a case: its top-level
        ``{% set case_data = true|false %}``, or None when it does not say."""
        if name not in self._case_data:
            source = self.source(name)
            try:
                body = self.env.parse(source).body
            except TemplateError as exc:
                raise TemplateProblem(f"{self.templates / name}: {exc}") from exc
            said = None
            for node in body:
                if (
                    isinstance(node, nodes.Assign)
                    and isinstance(node.target, nodes.Name)
                    and node.target.name == CASE_DATA
                    and isinstance(node.node, nodes.Const)
                    and isinstance(node.node.value, bool)
                ):
                    said = node.node.value
            self._case_data[name] = said
        return self._case_data[name]

    def string_variables(self, text: str) -> set[str]:
        try:
            return set(meta.find_undeclared_variables(self.env.parse(text)))
        except TemplateError as exc:
            raise TemplateProblem(str(exc)) from exc

    # --- rendering ---------------------------------------------------------------------
    def context(
        self,
        answers: Mapping[str, str],
        expected: Iterable[str],
        extra: Mapping[str, Any],
        today: dt.date | None = None,
    ) -> dict[str, Any]:
        today = today or dt.date.today()
        values: dict[str, Any] = {key: NOT_KNOWN for key in expected}
        values.update({k: v for k, v in answers.items() if v.strip()})
        values.update(
            contacts=self.shown_contacts,
            today=today,
            not_known=NOT_KNOWN,
            due_date=_due,
            practice=self.contacts.get(PRACTICE, {}),
            local_authority=self.directory.card,
            local_authorities=self.directory.cards,
            called_from="",
        )
        values.update(extra)
        return values

    def render_file(self, name: str, context: Mapping[str, Any]) -> Rendered:
        """A draft template rendered as a letter, with the reviewer's notes it gave and the
        clauses it says it relied on: a template may ``{% set relied = [...] %}`` the clause
        ids its text rests on given the answers (the safeguarding case note does), so its
        Sources list only those."""
        case_data = self.case_data(name) is True
        notes: list[str] = []
        read: dict[str, list[str]] = {}

        def note(text: Any) -> str:
            line = " ".join(str(text).split())
            if line and line not in notes:
                notes.append(line)
            return ""

        letter = dict(context)
        letter.update(
            contacts={
                key: _LetterContact(entry, read.setdefault(key, []))
                if isinstance(entry, Mapping) and key != PRACTICE
                else entry
                for key, entry in self.contacts.items()
            },
            local_authority=partial(self.directory.card, notes=notes, case_data=case_data),
            local_authorities=partial(self.directory.cards, notes=notes, case_data=case_data),
            note=note,
        )
        try:
            module = self.env.get_template(name).make_module(vars=letter)
            text = str(module).strip() + "\n"
        except (TemplateError, ValueError) as exc:  # ValueError: a global given bad input
            raise TemplateProblem(f"{self.templates / name}: {exc}") from exc
        if case_data:
            text = self._case_data_addressed(text, note)
        notes += _unverified(self.contacts, read)
        relied = getattr(module, "relied", None)
        if isinstance(relied, list | tuple):
            return Rendered(text, tuple(str(r) for r in relied), tuple(notes), case_data)
        return Rendered(text, None, tuple(notes), case_data)

    def _case_data_addressed(self, text: str, note: Callable[[str], str]) -> str:
        """A letter carrying case data, with every route not meant for case data in its
        address lines replaced by a placeholder (kb check refuses such a template; this holds
        if one is used anyway)."""
        lines = text.split("\n")
        for number in address_lines(text):
            for key, entry in self.contacts.items():
                if key == PRACTICE or not isinstance(entry, Mapping) or entry.get(CASE_DATA):
                    continue
                name = entry.get("name", key)
                for field, value in entry.items():
                    route = str(value).strip()
                    if field in NOT_ROUTES or len(route) < 3 or route not in lines[number]:
                        continue
                    lines[number] = lines[number].replace(
                        route, f"[{name}: not a route for case data - find the secure route]"
                    )
                    note(
                        f"{name}'s {field} is not a route for case data, so the letter is "
                        "addressed to a placeholder: find the secure route for it."
                    )
        return "\n".join(lines)

    def render_text(self, text: str, context: Mapping[str, Any]) -> str:
        if "{" not in text:
            return text
        try:
            return self._compile(text).render(**context)
        except (TemplateError, ValueError) as exc:
            raise TemplateProblem(str(exc)) from exc
