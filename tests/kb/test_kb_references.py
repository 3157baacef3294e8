"""Direct references: a clause cited by number answers first, and legislation is not a paragraph."""

from __future__ import annotations

import pytest

from bot.kb import ClauseIndex
from bot.kb.documents import load_documents
from bot.kb.references import Reference, ReferenceParser
from bot.paths import knowledge_dir


@pytest.fixture(scope="module")
def references() -> ReferenceParser:
    return ReferenceParser(load_documents(knowledge_dir() / "documents.yaml"))


@pytest.mark.parametrize(
    ("query", "clause_id"),
    [
        ("lgo 17", "lgo-2016/17"),
        ("LGO 17", "lgo-2016/17"),
        ("CC MoU para 22", "cc-2014/22"),
        ("cqc-2011/20", "cqc-2011/20"),
        ("paragraph 5.3 of the CQC MoU", "cqc-2011/5.3"),
        ("annex 1 para 4 of the cqc mou", "cqc-2011/annex1/4"),
        ("cqc annex 1 4", "cqc-2011/annex1/4"),
        ("csci para 10", "csci-2007/10"),
        ("csci annex para 4", "csci-2007/annex/4"),
        ("ombudsman protocol para 20", "lgo-2016/20"),
        ("what does para 12 of the LGO protocol say", "lgo-2016/12"),
        (
            "la-2023/safeguarding-and-child-protection-concerns/2",
            "la-2023/safeguarding-and-child-protection-concerns/2",
        ),
    ],
)
def test_reference_resolves_first(index: ClauseIndex, query: str, clause_id: str) -> None:
    result = index.search(query, k=3)
    assert result.useful
    assert result.hits[0].clause.id == clause_id
    assert result.hits[0].reference is True
    assert result.hits[0].score == 1.0


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("lgo 17", [Reference("lgo-2016", "17")]),
        ("CC MoU para 22", [Reference("cc-2014", "22")]),
        ("cqc-2011/20", [Reference("cqc-2011", "20")]),
        ("paragraph 5.3 of the CQC MoU", [Reference("cqc-2011", "5.3")]),
        ("annex 1 para 4 of the cqc mou", [Reference("cqc-2011", "annex1/4")]),
        ("csci para 10", [Reference("csci-2007", "10")]),
        ("para 22", [Reference(None, "22")]),
    ],
)
def test_reference_parser(
    references: ReferenceParser, query: str, expected: list[Reference]
) -> None:
    assert references.parse(query) == expected


@pytest.mark.parametrize(
    "query",
    [
        "section 47",
        "s47",
        "s.47 enquiries",
        "section 47 cc mou",
        "la protocol section 47",
        "cc mou section 11",
        "part 6 of the cc mou",
        "article 8 lgo",
        "lgo s.31",
        "lgo 2016",
    ],
)
def test_legislation_and_years_are_not_paragraph_numbers(
    references: ReferenceParser, query: str
) -> None:
    assert references.parse(query) == []


def test_section_47_does_not_resolve_to_a_para_47(index: ClauseIndex) -> None:
    result = index.search("section 47", k=5)
    assert not any(h.reference for h in result.hits)
    assert not any(h.clause.local_id.endswith("47") for h in result.hits)
    # a clause that actually names section 47 of the Children Act 1989 answers instead
    assert result.useful
    assert "section 47" in result.hits[0].clause.text


def test_a_legislative_number_in_a_named_document_is_not_its_paragraph(
    index: ClauseIndex,
) -> None:
    # "Part 6" is the Children and Families Act 2014, not paragraph 6 of the memorandum
    result = index.search("part 6 of the cc mou", k=3)
    assert not any(h.reference for h in result.hits)
    assert "cc-2014/6" not in [h.clause.id for h in result.hits[:1]]


def test_unknown_paragraph_is_not_invented(index: ClauseIndex) -> None:
    result = index.search("lgo 99", k=3)
    assert not any(h.reference for h in result.hits)
    assert all(h.clause.id != "lgo-2016/99" for h in result.hits)


def test_reference_respects_doc_filter(index: ClauseIndex) -> None:
    result = index.search("para 22", k=5, document="cqc-2011")
    assert result.hits[0].clause.id == "cqc-2011/22"
    assert {h.clause.document for h in result.hits} == {"cqc-2011"}


def test_para_without_a_document_matches_every_document(index: ClauseIndex) -> None:
    result = index.search("para 22", k=5)
    refs = [h.clause.id for h in result.hits if h.reference]
    assert set(refs) == {"cc-2014/22", "cqc-2011/22"}


def test_documents_named_by_alias(references: ReferenceParser) -> None:
    assert references.documents_named("what does the Children's Commissioner MoU say") == [
        "cc-2014"
    ]
    assert references.documents_named("the LGSCO protocol") == ["lgo-2016"]
    assert references.documents_named("the CQC MoU") == ["cqc-2011"]


def test_a_quoted_section_heading_names_its_paragraphs(index: ClauseIndex) -> None:
    result = index.search("LA protocol section 'Who we check with local authorities'", k=3)
    assert result.hits[0].reference
    assert result.hits[0].clause.id == "la-2023/who-we-check-with-local-authorities/1"
    media = index.search("what does ‘Media interest in child protection investigations’ say", k=3)
    assert [h.clause.id for h in media.hits[:2]] == [
        "la-2023/media-interest-in-child-protection-investigations/1",
        "la-2023/media-interest-in-child-protection-investigations/2",
    ]
