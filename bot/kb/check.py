"""`kb check`: prove the knowledge base quotes its sources faithfully and drops nothing."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.kb.base import (
    CLAUSE_IDS_FILE,
    INDEX_FILE,
    compare_with_index,
    parse_sources,
    read_clause_ids,
    sha256_of,
)
from bot.kb.documents import KnowledgeError
from bot.kb.model import Skipped
from bot.kb.parsing import ParsedDocument, clean

_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "′": "'"})


def normalise(text: str) -> str:
    """Whitespace and quote style are the only differences a quotation may have."""
    return re.sub(r"\s+", " ", text.translate(_QUOTES).replace("\u00a0", " ")).strip()


@dataclass
class CheckReport:
    errors: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    sections: list[str] = field(default_factory=list)  # one line per extra check that ran
    clause_ids: set[str] = field(default_factory=set)  # every clause id parsed, filled once

    @property
    def ok(self) -> bool:
        return not self.errors


Extra = Callable[[CheckReport], None]


def _verbatim(parsed: ParsedDocument, source: list[str], report: CheckReport) -> None:
    for clause in parsed.clauses:
        span = [normalise(x) for x in source[clause.first_line - 1 : clause.last_line]]
        haystack = " ".join(x for x in span if x)
        position = 0
        for line in clause.text.split("\n"):
            # a list item's indent (its nesting) is whitespace, which a quotation may change
            needle = normalise(line.strip().removeprefix("- "))
            found = haystack.find(needle, position)
            if not needle or found < 0:
                report.errors.append(
                    f"{clause.id}: text not found in {parsed.document.file} lines "
                    f"{clause.first_line}-{clause.last_line}: {line[:80]!r}"
                )
                break
            position = found + len(needle)


def _coverage(parsed: ParsedDocument, source: list[str], report: CheckReport) -> None:
    covered: set[int] = {n for n, _ in parsed.headings}
    for clause in parsed.clauses:
        covered.update(range(clause.first_line, clause.last_line + 1))
    for skip in parsed.skipped:
        covered.update(range(skip.first_line, skip.last_line + 1))
    bullet_markers = {"-", "–", "•"}
    for number, raw in enumerate(source, start=1):
        line = clean(raw)
        if line and number not in covered and line not in bullet_markers:
            report.errors.append(
                f"{parsed.document.file}:{number}: line dropped without a reason: {line[:80]!r}"
            )


def _headings_have_clauses(parsed: ParsedDocument, report: CheckReport) -> None:
    """A heading with no clause under it may be a sentence read as a heading (a one-line
    paragraph without a full stop): it fails unless documents.yaml declares why it is bare."""
    declared = parsed.document.empty_headings
    matched: set[int] = set()
    for lineno, heading in parsed.empty_headings:
        reasons = [i for i, d in enumerate(declared) if re.search(d.heading, heading)]
        matched.update(reasons)
        if not reasons:
            report.errors.append(
                f"{parsed.document.file}:{lineno}: heading {heading[:80]!r} has no clause under "
                "it. If it is a sentence (a one-line paragraph without a full stop), declare it "
                "under `prose` in documents.yaml; if it really is a bare heading, declare it "
                "under `empty_headings` with the reason"
            )
    for i, rule in enumerate(declared):
        if i not in matched:
            report.errors.append(
                f"{parsed.document.id}: empty_headings entry {rule.heading!r} matches no "
                "heading without a clause; remove it"
            )


def _clause_ids_listed(root: Path, parsed: list[ParsedDocument], report: CheckReport) -> None:
    """The reviewed id list beside the index names exactly the ids the sources parse to."""
    try:
        listed = read_clause_ids(root)
    except KnowledgeError as exc:
        report.errors.append(str(exc))
        return
    for p in parsed:
        ids = [c.id for c in p.clauses]
        if listed.get(p.document.id, []) != ids:
            report.errors.append(
                f"{CLAUSE_IDS_FILE}: the ids listed for {p.document.id} differ from what "
                f"{p.document.file} parses to; run `protocolbot kb build`"
            )
    for gone in sorted(listed.keys() - {p.document.id for p in parsed}):
        report.errors.append(f"{CLAUSE_IDS_FILE}: lists ids of unknown document {gone!r}")


def _index_matches(root: Path, parsed: list[ParsedDocument], report: CheckReport) -> None:
    index = root / INDEX_FILE
    try:
        stored = json.loads(index.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        report.errors.append(f"{index}: unreadable ({exc}); run `protocolbot kb build`")
        return
    for p in parsed:
        recorded = stored.get("sources", {}).get(p.document.id)
        actual = sha256_of(root / "sources" / p.document.file)
        if recorded != actual:
            report.errors.append(
                f"{p.document.file}: source bytes differ from the reviewed index "
                "(sources must stay as received; if this is a new edition, review it and run "
                "`protocolbot kb build`)"
            )
    diff = compare_with_index(stored.get("clauses", []), parsed)
    for twice in diff.repeated:
        report.errors.append(f"{twice}: clause id used twice in {INDEX_FILE}")
    for gone in diff.removed:
        report.errors.append(
            f"{gone}: in the index but no longer parsed (clause ids must be stable)"
        )
    for new in sorted(diff.added):
        report.errors.append(f"{new}: parsed but not in the index; run `protocolbot kb build`")
    for same in diff.changed:
        report.errors.append(
            f"{same}: index text differs from the source; run `protocolbot kb build`"
        )


def _notes_target_clauses(parsed: list[ParsedDocument], report: CheckReport) -> None:
    ids = report.clause_ids  # filled by check_knowledge before this runs
    for p in parsed:
        for note in p.document.currency_notes:
            for target in note.applies_to:
                hit = (
                    any(i.startswith(target) for i in ids)
                    if target.endswith("/")
                    else target in ids
                )
                if not hit:
                    report.errors.append(
                        f"{p.document.id}: currency note applies to unknown clause {target!r}"
                    )


def _practice_notes_valid(root: Path, report: CheckReport) -> None:
    """The current-practice notes a look-up may show load, and sit beside real clauses."""
    from bot.kb.practice import PRACTICE_FILE, load_practice_notes

    try:
        notes = load_practice_notes(root)
    except KnowledgeError as exc:
        report.errors.append(str(exc))
        return
    for note in notes:
        for clause_id in note.related:
            if clause_id not in report.clause_ids:
                report.errors.append(
                    f"{PRACTICE_FILE}: note {note.text[:40]!r}... is related to unknown "
                    f"clause {clause_id!r}"
                )
    unverified = sum(1 for n in notes if not n.verified)
    report.sections.append(f"current-practice notes: {len(notes)} ({unverified} not yet verified)")


def _topics_name_clauses(root: Path, report: CheckReport) -> None:
    from bot.kb.search import load_topics

    try:
        topics = load_topics(root)
    except KnowledgeError as exc:
        report.errors.append(str(exc))
        return
    for clause_id in sorted(set(topics) - report.clause_ids):
        report.errors.append(f"clause_topics.yaml: phrases for unknown clause {clause_id!r}")


def check_knowledge(
    root: Path, extras: Iterable[Extra] = (), *, against_index: bool = True
) -> CheckReport:
    report = CheckReport()
    try:
        parsed = parse_sources(root)
    except KnowledgeError as exc:
        report.errors.append(str(exc))
        return report
    listed = {p.document.file for p in parsed}
    for path in sorted((root / "sources").glob("*")):
        if path.is_file() and not path.name.startswith(".") and path.name not in listed:
            report.errors.append(f"{path.name}: source has no entry in documents.yaml")
    for p in parsed:
        source = (root / "sources" / p.document.file).read_text(encoding="utf-8").splitlines()
        for clause in p.clauses:
            if clause.id in report.clause_ids:
                report.errors.append(f"{clause.id}: clause id used twice")
            report.clause_ids.add(clause.id)
        if not p.clauses:
            report.errors.append(f"{p.document.id}: no clauses parsed from {p.document.file}")
        _verbatim(p, source, report)
        _coverage(p, source, report)
        _headings_have_clauses(p, report)
        report.skipped.extend(p.skipped)
        report.counts[p.document.id] = len(p.clauses)
    _notes_target_clauses(parsed, report)
    _topics_name_clauses(root, report)
    _practice_notes_valid(root, report)
    if against_index:
        _index_matches(root, parsed, report)
        _clause_ids_listed(root, parsed, report)
    for extra in extras:
        extra(report)
    return report
