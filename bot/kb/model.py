"""The clause knowledge base's vocabulary: documents, clauses, citations and currency notes."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Status = Literal["current", "historical", "check"]
Style = Literal["numbered", "headed"]

DOC_ID = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


class CurrencyNote(BaseModel):
    """A later fact shown beside a clause, never edited into it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str
    source: str
    verified: bool = False
    # clause ids (or id prefixes ending in "/") the note is about; empty = the whole document
    applies_to: tuple[str, ...] = ()
    # the clauses it applies to name people, posts, addresses or numbers of their time: they
    # are cited as historical text even in a current document
    historical: bool = False

    def applies(self, clause_id: str) -> bool:
        if not self.applies_to:
            return True
        return any(
            clause_id == target or (target.endswith("/") and clause_id.startswith(target))
            for target in self.applies_to
        )


class FurnitureRule(BaseModel):
    """Lines of a source that are not protocol text, declared with the reason they are skipped."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: str  # regex matched against the cleaned line
    end: str | None = None  # regex for the last line of the block; "$eof" runs to the end
    lines: int | None = None  # or a fixed count of non-blank lines, starting line included
    reason: str

    @field_validator("start", "end")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None and value != "$eof":
            re.compile(value)
        return value


class ProseBlock(BaseModel):
    """Lines that look like headings but belong to the paragraph above (a flattened table)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: str  # regex matched against the cleaned line
    lines: int = Field(ge=1)  # non-blank lines in the block, the start line included

    @field_validator("start")
    @classmethod
    def _compiles(cls, value: str) -> str:
        re.compile(value)
        return value


class NestedList(BaseModel):
    """A list item whose sub-items the source does not mark (every bullet is a lone "-")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    parent: str  # regex matched against the item's text
    items: int = Field(ge=1)  # how many of the items that follow it are its sub-items

    @field_validator("parent")
    @classmethod
    def _compiles(cls, value: str) -> str:
        re.compile(value)
        return value


class EmptyHeading(BaseModel):
    """A heading that has no clause under it on purpose, declared with the reason."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    heading: str  # regex matched against the heading line
    reason: str

    @field_validator("heading")
    @classmethod
    def _compiles(cls, value: str) -> str:
        re.compile(value)
        return value


class Document(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    file: str
    title: str
    # the name used in citations, e.g. "Ofsted-LGO information sharing protocol (2016)"
    cite_as: str
    short_name: str = ""  # for compact citation lines, e.g. "LGO protocol (2016)"
    parties: tuple[str, ...]
    in_force: dt.date
    review: str
    status: Status
    status_note: str = ""
    style: Style
    aliases: tuple[str, ...] = ()
    furniture: tuple[FurnitureRule, ...] = ()
    prose: tuple[str | ProseBlock, ...] = Field(
        default=(), description="regexes for lines that are prose, not headings"
    )
    nested_lists: tuple[NestedList, ...] = ()
    empty_headings: tuple[EmptyHeading, ...] = ()
    currency_notes: tuple[CurrencyNote, ...] = ()

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not DOC_ID.match(value):
            raise ValueError(f"document id {value!r} must be short lower-case words joined by '-'")
        return value

    def notes_for(self, clause_id: str) -> list[CurrencyNote]:
        return [note for note in self.currency_notes if note.applies(clause_id)]

    def status_of(self, clause_id: str) -> Status:
        """The document's status, or "historical" for a clause a historical note labels."""
        if any(note.historical for note in self.notes_for(clause_id)):
            return "historical"
        return self.status


@dataclass(frozen=True, slots=True)
class Clause:
    """One paragraph of a protocol, quoted exactly as the source has it."""

    id: str
    document: str
    heading: str
    label: str  # "para 17", "Annex 1 para 4", "'Media interest ...' paragraph 1"
    text: str
    first_line: int  # 1-based line numbers in the source file
    last_line: int

    @property
    def local_id(self) -> str:
        return self.id.split("/", 1)[1]


@dataclass(frozen=True, slots=True)
class Skipped:
    """Source lines deliberately left out of the clauses, and why."""

    document: str
    first_line: int
    last_line: int
    reason: str
    excerpt: str


@dataclass(frozen=True, slots=True)
class Citation:
    """What a reply shows for a clause: where it is and what it says."""

    clause_id: str
    citation: str
    text: str
    status: Status
    notes: tuple[CurrencyNote, ...] = ()
    short: str = ""  # compact form for a line of citations, e.g. "LGO protocol (2016) para 17"
