"""Turn a protocol's plain text into clauses.

One parser serves every document. It knows three shapes: numbered paragraphs (with nested
numbers such as 5.3 and annexes that restart numbering), and heading-plus-paragraph documents
whose bullets sit on the line after a lone ``-``. Everything that is not a clause is reported
as skipped with a reason, so nothing disappears silently; a heading with no clause under it
is recorded too, so the check can ask for its reason.

A line of HTML from a document's conversion (a table row of ``<p>`` cells) is not furniture:
its tags are dropped and each cell becomes a paragraph, one line per ``<p>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.kb.lists import declared_nesting, indent, nesting
from bot.kb.model import Clause, Document, FurnitureRule, ProseBlock, Skipped

NUMBERED = re.compile(r"^(\d{1,3}(?:\.\d{1,3})*)\.?\s+(?=\S)(.*)$")
ANNEX = re.compile(r"^annex\b\s*([a-z0-9]*)\s*$", re.IGNORECASE)
BULLET = re.compile(r"^(?:[·•▪◦■–\-]|\(?[a-z]{1,4}\)|[a-z]{1,4}\.)\s+\S")
CONTENTS_ENTRY = re.compile(r"^.+\t\s*\d+\s*$")
HEADING_MAX = 120
_SPACE = re.compile(r"\s+")
_TAG = re.compile(r"<[^>]*>")
HTML_LINE = re.compile(r"^<[a-z/][^>]*>", re.IGNORECASE)


def clean(line: str) -> str:
    """Collapse the whitespace of a raw line (tabs, no-break spaces) without touching words."""
    return _SPACE.sub(" ", line.replace("\u00a0", " ")).strip()


def slug(text: str) -> str:
    text = text.lower().replace("’", "").replace("'", "")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def generic_furniture(raw: str, line: str) -> str | None:
    """Furniture any document can have, recognised by its shape."""
    if line.startswith("[image:"):
        return "image placeholder"
    if HTML_LINE.match(line) and not html_cells(raw):
        return "HTML markup with no text, from the document's conversion"
    if re.fullmatch(r"-{2,}(\s+-{2,})*", line):
        return "table rule"
    if line.lower() == "contents":
        return "contents list heading"
    if CONTENTS_ENTRY.match(raw.rstrip("\n")):
        return "contents list entry (page number)"
    if re.fullmatch(r"[.,;·•■]+", line):
        return "stray punctuation from the document's conversion"
    return None


def html_cells(raw: str) -> list[list[str]]:
    """The text of an HTML table row: its cells (split at tabs), each a list of its runs of
    text between tags. Each run is a substring of the source line, so quoting it is verbatim."""
    cells = []
    for cell in raw.split("\t"):
        runs = [clean(run) for run in _TAG.split(cell)]
        if any(runs):
            cells.append([run for run in runs if run])
    return cells


def is_heading(line: str) -> bool:
    return (
        len(line) <= HEADING_MAX
        and not line.endswith((".", ":", ";", ",", "?", "!"))
        and not NUMBERED.match(line)
        and not BULLET.match(line)
        and (line[0].isupper() or line[0].isdigit())
    )


@dataclass
class _Draft:
    local_id: str
    heading: str
    label: str
    lines: list[str]
    first_line: int
    last_line: int


@dataclass
class ParsedDocument:
    document: Document
    clauses: list[Clause] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    headings: list[tuple[int, str]] = field(default_factory=list)
    # headings no clause was found under (a one-line paragraph without a full stop, taken
    # for a heading, leaves one): `kb check` fails on each one documents.yaml does not declare
    empty_headings: list[tuple[int, str]] = field(default_factory=list)


class _Parser:
    def __init__(self, document: Document, text: str) -> None:
        self.doc = document
        self.raw = text.splitlines()
        self.result = ParsedDocument(document)
        self.prose = [re.compile(p) for p in document.prose if isinstance(p, str)]
        self.prose_blocks = [p for p in document.prose if isinstance(p, ProseBlock)]
        self.prose_left = 0  # lines still to come of a prose block
        self.heading = ""  # the section heading clause ids are made from
        self.context = ""  # "Annex 1 - Functions of CQC and Ofsted": shown before the heading
        self.annex_title_next = False  # the heading right after an annex line is its title
        self.context_lines: list[int] = []  # the annex line and its title
        self.heading_line: int | None = None  # the line of a heading below them
        self.used_heading_lines: set[int] = set()
        self.nested_rules_used: set[int] = set()
        self.namespace = ""  # "annex1/" inside Annex 1
        self.namespace_label = ""
        self.current: _Draft | None = None
        self.ordinals: dict[str, int] = {}
        self.title_seen = False
        self.bullet_pending = False

    # --- output -------------------------------------------------------------------------
    def skip(self, first: int, last: int, reason: str) -> None:
        excerpt = " / ".join(clean(x) for x in self.raw[first - 1 : last] if clean(x))
        self.result.skipped.append(Skipped(self.doc.id, first, last, reason, excerpt[:160]))

    def close(self) -> None:
        draft, self.current = self.current, None
        if draft is None:
            return
        depths = nesting(draft.lines)
        self.nested_rules_used |= declared_nesting(draft.lines, depths, self.doc.nested_lists)
        self.result.clauses.append(
            Clause(
                id=f"{self.doc.id}/{draft.local_id}",
                document=self.doc.id,
                heading=draft.heading,
                label=draft.label,
                text="\n".join(indent(draft.lines, depths)),
                first_line=draft.first_line,
                last_line=draft.last_line,
            )
        )

    def start(self, local_id: str, label: str, text: str, lineno: int) -> None:
        self.close()
        taken = {c.id for c in self.result.clauses}
        if f"{self.doc.id}/{local_id}" in taken:
            raise ValueError(
                f"{self.doc.file}:{lineno}: clause id {self.doc.id}/{local_id} occurs twice"
            )
        self.current = _Draft(local_id, self.shown_heading(), label, [text], lineno, lineno)
        self.used_heading_lines.update(self.context_lines)
        if self.heading_line is not None:
            self.used_heading_lines.add(self.heading_line)
        self.annex_title_next = False

    def extend(self, text: str, lineno: int) -> None:
        assert self.current is not None
        self.current.lines.append(text)
        self.current.last_line = lineno

    # --- rules --------------------------------------------------------------------------
    def declared_furniture(self, index: int, line: str) -> tuple[FurnitureRule, int] | None:
        for rule in self.doc.furniture:
            if not re.search(rule.start, line):
                continue
            last = index
            if rule.end == "$eof":
                last = len(self.raw) - 1
            elif rule.end is not None:
                for j in range(index, len(self.raw)):
                    if re.search(rule.end, clean(self.raw[j])):
                        last = j
                        break
                else:
                    raise ValueError(
                        f"{self.doc.file}:{index + 1}: furniture block {rule.reason!r} "
                        f"has no line matching its end {rule.end!r}"
                    )
            elif rule.lines:
                seen = 0
                for j in range(index, len(self.raw)):
                    if clean(self.raw[j]):
                        seen += 1
                        last = j
                    if seen == rule.lines:
                        break
            return rule, last
        return None

    def shown_heading(self) -> str:
        if self.heading_line is None:
            return self.context or self.heading
        return f"{self.context}: {self.heading}" if self.context else self.heading

    def set_heading(self, line: str, lineno: int) -> None:
        annex = ANNEX.match(line)
        if annex:
            self.namespace = f"annex{annex.group(1).lower()}/"
            self.namespace_label = line
            self.context, self.context_lines, self.heading_line = line, [lineno], None
            self.annex_title_next = True
        elif self.annex_title_next:
            self.context = f"{self.context} - {line}"
            self.context_lines.append(lineno)
            self.annex_title_next = False
        else:
            self.heading_line = lineno
        self.heading = line
        self.result.headings.append((lineno, line))

    def html_row(self, raw: str, lineno: int) -> None:
        self.close()
        self.annex_title_next = False
        for cell in html_cells(raw):
            local_id, label = self.paragraph_id()
            self.start(local_id, label, cell[0], lineno)
            for run in cell[1:]:
                self.extend(run, lineno)
            self.close()

    def paragraph_id(self) -> tuple[str, str]:
        section = slug(self.heading) or "preamble"
        if self.namespace and slug(self.heading) == self.namespace.rstrip("/"):
            key = f"{self.namespace}intro"
            count = self.ordinals.get(key, 0) + 1
            self.ordinals[key] = count
            suffix = "" if count == 1 else str(count)
            return key + suffix, f"{self.namespace_label} introduction"
        key = f"{self.namespace}{section}"
        count = self.ordinals.get(key, 0) + 1
        self.ordinals[key] = count
        return f"{key}/{count}", f"‘{self.heading or 'Preamble'}’ paragraph {count}"

    def run(self) -> ParsedDocument:
        i = 0
        while i < len(self.raw):
            raw = self.raw[i]
            line = clean(raw)
            lineno = i + 1
            if not line:
                i += 1
                continue
            declared = self.declared_furniture(i, line)
            if declared:
                rule, last = declared
                # a block inside a paragraph (a flattened table) does not end the paragraph
                self.skip(lineno, last + 1, rule.reason)
                i = last + 1
                continue
            if self.doc.style == "headed" and line in {"-", "–", "•"}:
                self.bullet_pending = True
                i += 1
                continue
            reason = generic_furniture(raw, line)
            if reason:
                self.skip(lineno, lineno, reason)
                i += 1
                continue
            if not self.title_seen:
                self.title_seen = True
                self.skip(lineno, lineno, "document title (recorded in documents.yaml)")
                i += 1
                continue
            if HTML_LINE.match(line):
                self.html_row(raw, lineno)
            else:
                self.line(line, lineno)
            i += 1
        self.close()
        for number, nested in enumerate(self.doc.nested_lists):
            if number not in self.nested_rules_used:
                raise ValueError(f"nested list rule {nested.parent!r} matches no list item")
        self.result.empty_headings = [
            (n, h) for n, h in self.result.headings if n not in self.used_heading_lines
        ]
        return self.result

    def forced_prose(self, line: str) -> bool:
        """A line the metadata says is prose: by a regex, or inside a declared block."""
        if self.prose_left:
            self.prose_left -= 1
            return True
        for block in self.prose_blocks:
            if re.search(block.start, line):
                self.prose_left = block.lines - 1
                return True
        return any(p.search(line) for p in self.prose)

    def line(self, line: str, lineno: int) -> None:
        if self.bullet_pending:
            self.bullet_pending = False
            if self.current is None:
                self.start(*self.paragraph_id_text(line), lineno)
            else:
                self.extend(f"- {line}", lineno)
            return
        numbered = NUMBERED.match(line) if self.doc.style == "numbered" else None
        if numbered:
            number, rest = numbered.groups()
            where = f"{self.namespace_label} para" if self.namespace else "para"
            self.start(f"{self.namespace}{number}", f"{where} {number}", rest, lineno)
            return
        if not self.forced_prose(line) and is_heading(line):
            self.close()
            self.set_heading(line, lineno)
            return
        if self.doc.style == "numbered" and self.current is not None:
            self.extend(line, lineno)
            return
        local_id, label = self.paragraph_id()
        self.start(local_id, label, line, lineno)

    def paragraph_id_text(self, line: str) -> tuple[str, str, str]:
        local_id, label = self.paragraph_id()
        return local_id, label, f"- {line}"


def parse_document(document: Document, text: str) -> ParsedDocument:
    return _Parser(document, text).run()
