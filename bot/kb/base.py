"""The knowledge base: documents, their clauses, and the citation shown for each."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NamedTuple

from bot.kb.documents import KnowledgeError, load_documents
from bot.kb.model import Citation, Clause, CurrencyNote, Document
from bot.kb.parsing import ParsedDocument, parse_document

INDEX_FILE = "clauses.json"
CLAUSE_IDS_FILE = "clause_ids.txt"
_CLAUSE_IDS_HEADER = """\
# Every clause id the sources parse to, per document, in document order.
# Written by `protocolbot kb build` (with clauses.json); do not edit it by hand. Review its
# diff in the change that caused it: flows, notes and staff cite these ids. `kb check` and
# the tests fail when the sources no longer parse to exactly these ids.
"""


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class KnowledgeBase:
    root: Path
    documents: dict[str, Document]
    clauses: dict[str, Clause]  # in document order

    # --- loading ---------------------------------------------------------------------
    @classmethod
    def load(cls, root: Path) -> KnowledgeBase:
        """Load the reviewed clause index; it is what the bot quotes at run time."""
        documents = {d.id: d for d in load_documents(root / "documents.yaml")}
        index = root / INDEX_FILE
        try:
            rows = json.loads(index.read_text(encoding="utf-8"))["clauses"]
        except (OSError, ValueError, KeyError) as exc:
            raise KnowledgeError(
                f"{index}: cannot read the clause index ({exc}); run `protocolbot kb build`"
            ) from exc
        clauses = {row["id"]: Clause(**row) for row in rows}
        missing = {c.document for c in clauses.values()} - documents.keys()
        if missing:
            raise KnowledgeError(
                f"{index}: clauses of unknown documents {sorted(missing)}; run `protocolbot kb build`"
            )
        return cls(root, documents, clauses)

    # --- questions ---------------------------------------------------------------------
    def clause(self, clause_id: str) -> Clause:
        try:
            return self.clauses[clause_id]
        except KeyError:
            raise KnowledgeError(f"unknown clause id {clause_id!r}") from None

    def document_of(self, clause: Clause) -> Document:
        return self.documents[clause.document]

    def citation_text(self, clause: Clause) -> str:
        return f"{self.document_of(clause).cite_as}, {clause.label}"

    def notes_for(self, clause: Clause) -> list[CurrencyNote]:
        return self.document_of(clause).notes_for(clause.id)

    def cite(self, clause_id: str) -> Citation:
        clause = self.clause(clause_id)
        document = self.document_of(clause)
        return Citation(
            clause_id=clause.id,
            citation=self.citation_text(clause),
            text=clause.text,
            status=document.status_of(clause.id),
            notes=tuple(document.notes_for(clause.id)),
            short=f"{document.short_name or document.cite_as} {clause.label}",
        )


def parse_sources(root: Path) -> list[ParsedDocument]:
    """Parse every source listed in documents.yaml; complain about any that is missing."""
    parsed = []
    for document in load_documents(root / "documents.yaml"):
        path = root / "sources" / document.file
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise KnowledgeError(f"{document.id}: cannot read its source {path}: {exc}") from exc
        try:
            parsed.append(parse_document(document, text))
        except ValueError as exc:
            raise KnowledgeError(f"{document.id}: {exc}") from exc
    return parsed


def write_index(root: Path, parsed: list[ParsedDocument]) -> Path:
    index = root / INDEX_FILE
    payload = {
        "generated_by": "protocolbot kb build",
        "sources": {p.document.id: sha256_of(root / "sources" / p.document.file) for p in parsed},
        "clauses": [asdict(c) for p in parsed for c in p.clauses],
    }
    index.write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    (root / CLAUSE_IDS_FILE).write_text(clause_ids_text(parsed), encoding="utf-8")
    return index


def clause_ids_text(parsed: list[ParsedDocument]) -> str:
    """The clause id list `kb build` writes beside the index: one id a line, per document."""
    parts = [_CLAUSE_IDS_HEADER]
    for p in parsed:
        parts.append(f"\n# {p.document.id} ({len(p.clauses)} clauses, {p.document.file})\n")
        parts.extend(f"{c.id}\n" for c in p.clauses)
    return "".join(parts)


def read_clause_ids(root: Path) -> dict[str, list[str]]:
    """The reviewed clause ids by document, as `kb build` last wrote them."""
    path = root / CLAUSE_IDS_FILE
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeError(f"{path}: cannot read ({exc}); run `protocolbot kb build`") from exc
    ids: dict[str, list[str]] = {}
    for line in lines:
        line = line.strip()
        if line and not line.startswith("#"):
            ids.setdefault(line.split("/", 1)[0], []).append(line)
    return ids


class IndexDiff(NamedTuple):
    """How freshly parsed clauses differ from the rows of a stored index, by clause id."""

    removed: list[str]  # in the index, no longer parsed (sorted)
    changed: list[str]  # in both, with different text (sorted)
    added: list[str]  # parsed, not in the index (in parse order)
    repeated: list[str]  # ids the index lists more than once, once per repeat, in row order


def compare_with_index(
    rows: Iterable[Mapping[str, Any]], parsed: list[ParsedDocument]
) -> IndexDiff:
    """Compare the stored index ``rows`` with ``parsed``; a repeated row's last text counts."""
    old: dict[str, str] = {}
    repeated: list[str] = []
    for row in rows:
        if row["id"] in old:
            repeated.append(row["id"])
        old[row["id"]] = row["text"]
    new = {c.id: c.text for p in parsed for c in p.clauses}
    removed = sorted(old.keys() - new.keys())
    changed = sorted(i for i in old.keys() & new.keys() if old[i] != new[i])
    added = [i for i in new if i not in old]
    return IndexDiff(removed, changed, added, repeated)


def changes_to_index(
    root: Path, parsed: list[ParsedDocument]
) -> tuple[list[str], list[str], list[str]]:
    """Clause ids a rebuild would remove, change and add, compared with the stored index."""
    try:
        stored = json.loads((root / INDEX_FILE).read_text(encoding="utf-8"))["clauses"]
    except (OSError, ValueError, KeyError):
        stored = []
    diff = compare_with_index(stored, parsed)
    return diff.removed, diff.changed, diff.added
