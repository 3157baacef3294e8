"""Current practice the documents do not state: the notes and contact routes a look-up can show.

Both are later facts, never protocol text: practice notes (knowledge/practice_notes.yaml),
the currency notes of documents.yaml, and the contact routes of knowledge/contacts.yaml.
Each keeps its source and whether an administrator has verified it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from bot.kb.documents import KnowledgeError, read_yaml

PRACTICE_FILE = "practice_notes.yaml"
CONTACTS_FILE = "contacts.yaml"
# how each field of a contact entry is shown, in this order; other fields follow by name
_FIELDS = {"phone": "phone", "email": "email", "website": "website", "post": "post", "hours": ""}


class PracticeNote(BaseModel):
    """A current-practice fact from the practice notes, shown only with its label and source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str
    source: str
    verified: bool = False
    phrases: tuple[str, ...] = ()  # how staff ask for it: a search aid, never shown
    related: tuple[str, ...] = ()  # clause ids it sits beside


_NOTES = TypeAdapter(list[PracticeNote])


@dataclass(frozen=True, slots=True)
class ContactRoute:
    """One entry of the contacts file, as a line a reply can show."""

    key: str
    name: str
    details: tuple[tuple[str, str], ...]  # (label, value)
    source: str
    verified: bool

    @property
    def text(self) -> str:
        shown = ", ".join(f"{label} {value}".strip() for label, value in self.details)
        return f"{self.name}: {shown}" if shown else self.name


def load_practice_notes(root: Path) -> list[PracticeNote]:
    path = root / PRACTICE_FILE
    if not path.exists():
        return []
    try:
        return _NOTES.validate_python(read_yaml(path, "practice notes") or [])
    except ValidationError as exc:
        raise KnowledgeError(f"{path}: invalid practice notes:\n{exc}") from exc


def load_contact_routes(root: Path) -> list[ContactRoute]:
    """The contacts file's named entries (the `practice` settings are not contact routes)."""
    path = root / CONTACTS_FILE
    if not path.exists():
        return []
    raw = read_yaml(path, "contacts") or {}
    if not isinstance(raw, dict):
        raise KnowledgeError(f"{path}: contacts must be a mapping of name -> details")
    routes = []
    for key, entry in raw.items():
        if not isinstance(entry, dict) or "name" not in entry:
            continue
        known = [(label, str(entry[f])) for f, label in _FIELDS.items() if f in entry]
        other = [
            (f.replace("_", " "), str(v))
            for f, v in entry.items()
            if f not in _FIELDS and f not in {"name", "source", "verified", "case_data"}
        ]
        routes.append(
            ContactRoute(
                key=str(key),
                name=str(entry["name"]),
                details=tuple(known + other),
                source=str(entry.get("source", "")),
                verified=entry.get("verified") is True,
            )
        )
    return routes
