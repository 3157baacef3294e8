"""Render drafts and guidance text.

The environment is sandboxed and user answers only ever arrive as values, so ``{{ 7*7 }}``
typed into an answer is printed as typed. Missing optional answers read "not known".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from jinja2 import (
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    meta,
)
from jinja2.sandbox import ImmutableSandboxedEnvironment

NOT_KNOWN = "not known"
GLOBALS = frozenset({"contacts", "citations", "today", "flow", "not_known", "due_date", "practice"})


class TemplateProblem(ValueError):
    """A template that cannot be used; the message names the file."""


def _due(start: dt.date, days: int) -> dt.date:
    return start + dt.timedelta(days=days)


class DraftRenderer:
    def __init__(self, templates: Path, contacts: Mapping[str, Any]) -> None:
        self.templates = templates
        self.contacts = contacts
        self.env = ImmutableSandboxedEnvironment(
            loader=FileSystemLoader(str(templates)),
            undefined=StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["date"] = lambda d, fmt="%-d %B %Y": d.strftime(fmt)

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
        self, answers: Mapping[str, str], expected: Iterable[str], extra: Mapping[str, Any]
    ) -> dict[str, Any]:
        today = dt.date.today()
        values: dict[str, Any] = {key: NOT_KNOWN for key in expected}
        values.update({k: v for k, v in answers.items() if v.strip()})
        values.update(
            contacts=self.contacts,
            today=today,
            not_known=NOT_KNOWN,
            due_date=_due,
            practice=self.contacts.get("practice", {}),
        )
        values.update(extra)
        return values

    def render_file(self, name: str, context: Mapping[str, Any]) -> str:
        try:
            return self.env.get_template(name).render(**context).strip() + "\n"
        except TemplateError as exc:
            raise TemplateProblem(f"{self.templates / name}: {exc}") from exc

    def render_text(self, text: str, context: Mapping[str, Any]) -> str:
        if "{" not in text:
            return text
        try:
            return self.env.from_string(text).render(**context)
        except TemplateError as exc:
            raise TemplateProblem(str(exc)) from exc
