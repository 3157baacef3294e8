"""`kb check`: the contacts flows and drafts name, and where case data may go.

Two rules for flow authors:
- a draft template says whether it carries personal data about a case
  (``{% set case_data = true|false %}``), and one that does is addressed (its To:, Send to:,
  Also to:, Copy: lines and the lines indented under them) to no route (phone, email,
  website, post) of a contact that is not meant for case data: only ``case_data: true``
  contacts, directory roles that take cases, or a named placeholder such as
  "[CQC nominated lead for joint work: look up before sending]". A route named elsewhere in
  the letter, for the reader to use, is not where the letter goes;
- a flow's text (its title, description, what its steps ask and say, their options) and its
  templates never name a phone number, email address or web address that is not in the
  contacts file or the local authority directory: contacts are data, checked and sourced
  there, never typed into a flow.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from bot.dialogue.flow import Flow, Step
from bot.drafting.render import (
    CASE_DATA,
    NOT_ROUTES,
    PRACTICE,
    DraftRenderer,
    TemplateProblem,
    address_lines,
)
from bot.kb.directory import CASE_DATA_ROLES, ROLES, Directory

__all__ = ["check_case_data_routes", "check_contacts_named", "contacts_say_case_data"]

PLACEHOLDER_EXAMPLE = "[CQC nominated lead for joint work: look up before sending]"


# --- case data ----------------------------------------------------------------------------
def contacts_say_case_data(contacts: Mapping[str, Any]) -> list[str]:
    """Every contact in contacts.yaml says whether it may receive case data."""
    problems = []
    for key, entry in contacts.items():
        if key == PRACTICE or not isinstance(entry, Mapping):
            continue
        if not isinstance(entry.get(CASE_DATA), bool):
            problems.append(
                f"contacts.yaml: {key!r} needs 'case_data: true' or 'case_data: false' "
                "(may Ofsted send personal data about a case to it? false for a general "
                "enquiries line or mailbox)"
            )
    return problems


_CONTACT = re.compile(
    r"""contacts\s*(?:\.\s*(\w+)|\[\s*['"](\w+)['"]\s*\])"""
    r"""(?:\s*(?:\.\s*(\w+)|\[\s*['"](\w+)['"]\s*\]))?"""
)
_ROLE = re.compile(r"""\.\s*(\w+)\b(?!\s*\()|\.contact\(\s*['"](\w+)['"]""")


def _routes(source: str, contacts: Mapping[str, Any]) -> list[str]:
    """The routes not meant for case data that a template's address lines name."""
    found: list[str] = []
    lines = source.split("\n")
    for number in address_lines(source):
        line = lines[number]
        for match in _CONTACT.finditer(line):
            key = match.group(1) or match.group(2)
            field = match.group(3) or match.group(4)
            entry = contacts.get(key)
            if key == PRACTICE or not isinstance(entry, Mapping) or entry.get(CASE_DATA) is True:
                continue
            if field is None:  # the whole entry: it may print any of its routes
                found.append(f"contacts.{key}")
            elif field not in NOT_ROUTES:
                found.append(f"contacts.{key}.{field}")
        for match in _ROLE.finditer(line):  # a council card's contact: la.complaints
            role = match.group(1) or match.group(2)
            if role in ROLES and role not in CASE_DATA_ROLES:
                found.append(f"the council's {ROLES[role]} (.{role})")
    return list(dict.fromkeys(found))


def check_case_data_routes(
    flows: Mapping[str, tuple[Flow, str]], renderer: DraftRenderer
) -> list[str]:
    """Each draft step's template says whether it carries case data, and one that does
    names no route that is not meant for case data."""
    problems = []
    for flow, where in flows.values():
        for step in flow.steps:
            if not step.draft:
                continue
            at = f"{where}: step {step.id!r}: template {step.draft}"
            try:
                declared = renderer.case_data(step.draft)
                source = renderer.source(step.draft)
            except TemplateProblem as exc:
                problems.append(f"{at}: {exc}")
                continue
            if declared is None:
                problems.append(
                    f"{at} does not say whether it carries personal data about a case: add "
                    "{% set case_data = true %} (or false: nothing about a case for anyone "
                    "other than the person it is about)"
                )
                continue
            if not declared:
                continue
            for route in _routes(source, renderer.contacts):
                problems.append(
                    f"{at} carries case data but names {route}, which is not a route for "
                    "case data: address a case-data contact (case_data: true) or a named "
                    f"placeholder such as {PLACEHOLDER_EXAMPLE}"
                )
    return problems


# --- contacts named in flow text ------------------------------------------------------------
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_WEB = re.compile(
    r"(?:https?://|www\.)[^\s<>\"'()\[\]{}]+"
    r"|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:gov|org|co|nhs|police|ac|ltd|me|net)\.uk\b[^\s<>\"'()\[\]{}]*"
    r"|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|uk|info|io)\b(?:/[^\s<>\"'()\[\]{}]*)?",
    re.IGNORECASE,
)
# a UK number of 10 or 11 digits, or a short service number where the text says to call it
_PHONE = re.compile(r"(?<![\w/.-])(?:\+44\s?(?:\(0\)\s?)?|0)\d(?:[ -]?\d){8,9}(?![\w/-])")
_SHORT = re.compile(
    r"\b(?:call|phone|ring|dial|on|number|line|text)\s+(999|101|111|112|116\s?\d{3})\b",
    re.IGNORECASE,
)
# made-up details for examples: the reserved example domains and Ofcom's drama ranges
_FICTIONAL_DOMAIN = re.compile(r"(?:^|\.)(?:example(?:\.[a-z]+)?|invalid|test|localhost)$")
_DRAMA = re.compile(r"^(?:01632960|07700900)\d{3}$")


def _digits(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    return "0" + digits[2:] if phone.strip().startswith("+44") else digits


def _host(web: str) -> str:
    web = re.sub(r"^https?://", "", web.lower()).rstrip(".,;:!?")
    return web.split("/", 1)[0].removeprefix("www.")


def _named(text: str) -> Iterator[tuple[str, str, str]]:
    """(kind, as written, normalised) for every contact detail in the text."""
    for found in _EMAIL.findall(text):
        yield "email address", found, found.lower()
    rest = _EMAIL.sub(" ", text)
    for found in _WEB.findall(rest):
        yield "web address", found.rstrip(".,;:!?"), _host(found)
    for found in _PHONE.findall(rest):
        yield "phone number", found, _digits(found)
    for found in _SHORT.findall(rest):
        yield "phone number", found, _digits(found)


def _fictional(kind: str, normal: str) -> bool:
    if kind == "phone number":
        return bool(_DRAMA.match(normal))
    domain = normal.rsplit("@", 1)[-1]
    return bool(_FICTIONAL_DOMAIN.search(domain))


def known_contacts(contacts: Mapping[str, Any], directory: Directory) -> set[str]:
    """Every contact detail the contacts file and the directory hold, normalised."""
    values: list[str] = []
    for entry in contacts.values():
        if isinstance(entry, Mapping):
            values += [str(v) for k, v in entry.items() if k not in NOT_ROUTES]
    for council in directory.councils:
        for contact in council.contacts.values():
            values += [contact.phone, contact.email, contact.website, contact.address]
    known = {normal for value in values for _, _, normal in _named(value)}
    known |= {_digits(v) for v in values if re.fullmatch(r"\+?[\d ()-]{3,}", v.strip())}
    return known


def _step_texts(step: Step) -> Iterator[str]:
    yield from (t for t in (step.ask, step.say, step.reask, step.title) if t)
    yield from (c.label for c in step.options)


def check_contacts_named(
    flows: Mapping[str, tuple[Flow, str]],
    renderer: DraftRenderer,
    directory: Directory,
) -> list[str]:
    """A problem for every contact detail in a flow's text or templates that is not in the
    contacts file or the directory, naming the file and the step."""
    known = known_contacts(renderer.contacts, directory)
    problems: list[str] = []

    def scan(text: str, at: str) -> None:
        for kind, written, normal in _named(text):
            if normal not in known and not _fictional(kind, normal):
                problems.append(
                    f"{at}: names the {kind} {written!r}, which is not in contacts.yaml or "
                    "the local authority directory: add it there (with its source and "
                    "verified: false) and use it from there, e.g. {{ contacts.<key>.phone }}"
                )

    drafted_by: dict[str, list[str]] = {}  # template -> the steps that draft it
    for flow, where in flows.values():
        scan(flow.title, f"{where}: the flow's title")
        scan(flow.description, f"{where}: the flow's description")
        for step in flow.steps:
            for text in _step_texts(step):
                scan(text, f"{where}: step {step.id!r}")
            if step.draft:
                drafted_by.setdefault(step.draft, []).append(f"{where} step {step.id!r}")
    # every template, the ones other templates include as well as the drafts themselves
    names = sorted({*drafted_by, *(p.name for p in renderer.templates.glob("*.j2") if p.is_file())})
    for name in names:
        try:
            source = renderer.source(name)
        except TemplateProblem as exc:
            problems.append(str(exc))
            continue
        source = re.sub(r"\{#.*?#\}", " ", source, flags=re.DOTALL)  # comments say nothing
        steps = drafted_by.get(name)
        scan(source, f"templates/{name}" + (f" (the draft of {', '.join(steps)})" if steps else ""))
    return list(dict.fromkeys(problems))
