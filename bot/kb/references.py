"""Direct references to a clause: "lgo 17", "CC MoU para 22", "paragraph 5.3 of the CQC MoU"."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.kb.model import Document
from bot.kb.text import words

_FULL_ID = re.compile(
    r"\b([a-z][a-z0-9]*(?:-[a-z0-9]+)*)/((?:annex[a-z0-9]*/)?[a-z0-9.\-]+(?:/\d+)?)\b"
)
_PARA = re.compile(
    r"(?:\bannex\s*(?P<annex>\d+|[a-z])?\W{0,3}\s*)?"
    r"(?:\b(?:para(?:graph)?s?|paras?\.|clause|§|p\.?)\s*)(?P<num>\d{1,3}(?:\.\d{1,3})?)\b",
    re.IGNORECASE,
)
_BARE = re.compile(r"(?:\bannex\s*(?P<annex>\d+|[a-z])?\s+)?\b(?P<num>\d{1,3}(?:\.\d{1,3})?)\b")
# a number right after these words cites legislation ("section 47", "Part 6", "Article 8"), not a paragraph
_LEGISLATION = re.compile(
    r"\b(?:sections?|ss?\.?|parts?|articles?|art\.?|regulations?|regs?\.?|schedules?|sch\.?|chapters?)\s*$"
)


# words in document names that only say which document is meant
_NAMING_ONLY = frozenset(
    [
        "mou",
        "memorandum",
        "protocol",
        "agreement",
        "moU",
        "isp",
        "cqc",
        "lgo",
        "lgsco",
        "csci",
        "cc",
        "occ",
        "la",
        "las",
        "2007",
        "2011",
        "2014",
        "2016",
        "2023",
    ]
)


@dataclass(frozen=True)
class Reference:
    document: str | None
    local_id: str


class ReferenceParser:
    def __init__(self, documents: list[Document]) -> None:
        self.ids = {d.id for d in documents}
        self._aliases: list[tuple[list[str], str]] = []
        for d in documents:
            names = {d.id, d.id.split("-")[0], *d.aliases, d.cite_as}
            for name in names:
                self._aliases.append((words(name), d.id))
        # longest alias first, so "CQC MoU" wins over "CQC"
        self._aliases.sort(key=lambda pair: -len(pair[0]))

    def naming_words(self, document_ids: list[str]) -> set[str]:
        """Words of the aliases of these documents that are not content words elsewhere."""
        names = {w for alias, doc in self._aliases if doc in document_ids for w in alias}
        return {w for w in names if w in _NAMING_ONLY or w in {d for d in document_ids}}

    def documents_named(self, query: str) -> list[str]:
        """Document ids the query names by id, alias or the first word of the id."""
        tokens = words(query)
        named: list[str] = []
        for alias, doc_id in self._aliases:
            n = len(alias)
            found = n and any(tokens[i : i + n] == alias for i in range(len(tokens) - n + 1))
            if found and doc_id not in named:
                named.append(doc_id)
        return named

    def parse(self, query: str) -> list[Reference]:
        """Clause references in the query, most explicit first."""
        text = query.lower().replace("’", "'")
        refs: list[Reference] = []
        for doc, local in _FULL_ID.findall(text):
            if doc in self.ids:
                refs.append(Reference(doc, local))
        if refs:
            return refs
        named = self.documents_named(query)
        marked = list(_PARA.finditer(text))
        bare: list[re.Match[str]] = []
        if not marked and named and len(words(query)) <= 6:
            # "lgo 17", "cqc annex 1 4": a short query naming a document and a number
            bare = [
                m
                for m in _BARE.finditer(text)
                if not re.match(r"(19|20)\d\d$", m["num"])
                and not _LEGISLATION.search(text[: m.start()])
            ]
            if len(bare) > 1:
                # "annex 1 4": the annex number is not the paragraph
                bare = bare[-1:] if re.search(r"\bannex\b", text) else bare
        for match in marked or bare:
            annex = match["annex"]
            if annex is None and re.search(r"\bannex\s*(\d+|[a-z])?\b", text):
                annex_match = re.search(r"\bannex\s*(\d+|[a-z])?\b", text)
                annex = (annex_match.group(1) or "") if annex_match else None
            prefix = "" if annex is None else f"annex{annex}/"
            targets: list[str | None] = [*named] or [None]
            for doc in targets:
                refs.append(Reference(doc, prefix + match["num"]))
        return refs
