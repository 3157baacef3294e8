"""Render drafts and guidance text.

The environment is sandboxed and user answers only ever arrive as values, so ``{{ 7*7 }}``
typed into an answer is printed as typed. Missing optional answers read "not known".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from jinja2 import (
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateError,
    meta,
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
    }
)


UNVERIFIED = "[unverified]"
_NOT_SHOWN = frozenset({"name", "source", "verified", "hours"})


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
    text: str
    relied: tuple[str, ...] | None  # the clause ids the template says it rests on, if it says


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
        )
        self.env.filters["date"] = _long_date
        # a step's text is compiled once, not on every turn that shows it
        self._compile: Callable[[str], Template] = lru_cache(maxsize=1024)(self.env.from_string)

    # --- validation --------------------------------------------------------------------
    def variables(self, name: str) -> set[str]:
        """Top-level names a template uses (answers it expects, plus globals)."""
        try:
            source = self.env.loader.get_source(self.env, name)[0]  # type: ignore[union-attr]
            return set(meta.find_undeclared_variables(self.env.parse(source)))
        except (TemplateError, OSError) as exc:
            raise TemplateProblem(f"{self.templates / name}: {exc}") from exc

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
            practice=self.contacts.get("practice", {}),
            local_authority=self.directory.card,
            local_authorities=self.directory.cards,
            called_from="",
        )
        values.update(extra)
        return values

    def render_file(self, name: str, context: Mapping[str, Any]) -> Rendered:
        """A draft template rendered, with the clauses it says it relied on: a template may
        ``{% set relied = [...] %}`` the clause ids its text rests on given the answers
        (the safeguarding case note does), so its Sources list only those."""
        try:
            module = self.env.get_template(name).make_module(vars=dict(context))
            text = str(module).strip() + "\n"
        except (TemplateError, ValueError) as exc:  # ValueError: a global given bad input
            raise TemplateProblem(f"{self.templates / name}: {exc}") from exc
        relied = getattr(module, "relied", None)
        if not isinstance(relied, list | tuple):
            return Rendered(text, None)
        return Rendered(text, tuple(str(r) for r in relied))

    def render_text(self, text: str, context: Mapping[str, Any]) -> str:
        if "{" not in text:
            return text
        try:
            return self._compile(text).render(**context)
        except (TemplateError, ValueError) as exc:
            raise TemplateProblem(str(exc)) from exc
