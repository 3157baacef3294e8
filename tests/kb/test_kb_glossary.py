"""The glossary maps everyday words to one concept; typo repair finds the words the clauses use."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.kb import ClauseIndex, Glossary, KnowledgeError
from bot.kb.text import terms
from bot.paths import knowledge_dir


@pytest.fixture(scope="module")
def glossary() -> Glossary:
    return Glossary.load(knowledge_dir() / "glossary.yaml")


SAME_CONCEPT = [
    ["ombudsman", "LGO", "LGSCO", "ombudsmen", "Local Government Ombudsman"],
    ["council", "local authority", "LA", "councils", "local authorities"],
    ["kid", "child", "young person", "children", "kids", "young people"],
    ["advocate", "advocacy", "representation", "help to be heard"],
    ["FOI", "freedom of information", "Freedom of Information Act"],
    ["s47", "section 47", "s.47"],
    ["HMCI", "Chief Inspector", "Her Majesty's Chief Inspector"],
]


@pytest.mark.parametrize("phrases", SAME_CONCEPT, ids=lambda p: p[0])
def test_synonyms_map_to_one_concept(glossary: Glossary, phrases: list[str]) -> None:
    # the longest phrase at the first word names the concept; shorter phrases inside a longer
    # one ("chief inspector" inside "her majesty's chief inspector") may add more
    concepts = {p: glossary.concepts(terms(p)) for p in phrases}
    assert all(concepts.values()), concepts
    assert len({found[0] for found in concepts.values()}) == 1, concepts


def test_different_ideas_are_different_concepts(glossary: Glossary) -> None:
    names = {glossary.concepts(terms(group[0]))[0] for group in SAME_CONCEPT}
    assert len(names) == len(SAME_CONCEPT)


def test_concepts_found_inside_a_sentence(glossary: Glossary) -> None:
    found = glossary.concepts(terms("can a kid complain to the LGSCO about the council"))
    for word in ("child", "ombudsman", "local authority"):
        assert glossary.concepts(terms(word))[0] in found, word


def test_everyday_words_reach_the_concept_the_clause_uses(glossary: Glossary) -> None:
    clause_words = glossary.concepts(terms("Local Government Ombudsman"))
    assert glossary.concepts(terms("LGSCO"))[0] in clause_words
    assert glossary.concepts(terms("kid"))[0] in glossary.concepts(terms("young person"))


def test_glossary_must_be_lists_of_phrases(tmp_path: Path) -> None:
    bad = tmp_path / "glossary.yaml"
    bad.write_text("ombudsman: lgo\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="list of lists"):
        Glossary.load(bad)


# --- the glossary and typo repair at work in the look-up -----------------------------------
def top(index: ClauseIndex, query: str, k: int = 3) -> list[str]:
    result = index.search(query, k=k)
    assert result.useful, query
    return [h.clause.id for h in result.hits]


def test_synonym_queries_reach_the_same_clause(index: ClauseIndex) -> None:
    for query in ("LGSCO website phone number", "ombudsman website phone number"):
        assert "lgo-2016/17" in top(index, query), query
    for query in ("FOI request for documents CQC gave us", "freedom of information CQC"):
        assert "cqc-2011/20" in top(index, query), query
    # the two clauses that name section 47: the council's duty, and Ofsted not being the authority
    section_47 = {
        "la-2023/local-safeguarding-partners/1",
        "la-2023/safeguarding-and-child-protection-concerns/2",
    }
    for query in ("who does section 47 enquiries", "who does s47 enquiries"):
        assert top(index, query)[0] in section_47, query
        assert section_47 <= set(top(index, query, k=3)), query


def test_typo_safeguarding_is_repaired(index: ClauseIndex) -> None:
    result = index.search("safegaurding concerns about a child", k=3)
    assert result.corrections == {"safegaurding": "safeguarding"}
    # either section of the 2023 protocol on child protection concerns answers it
    assert result.hits[0].clause.id.startswith(
        (
            "la-2023/safeguarding-and-child-protection-concerns/",
            "la-2023/child-protection-concerns-",
        )
    )


def test_typo_ombudsmen_finds_the_ombudsman_clauses(index: ClauseIndex) -> None:
    hits = top(index, "ombudsmen decisions shared with ofsted")
    assert all(h.startswith("lgo-2016/") for h in hits), hits


def test_typo_in_a_rarer_word_is_repaired(index: ClauseIndex) -> None:
    result = index.search("embargoed documnets before publicaton", k=3)
    assert result.corrections.get("documnets") == "documents"
    assert result.corrections.get("publicaton") == "publication"
    assert {"cc-2014/18", "cqc-2011/19"} & {h.clause.id for h in result.hits}
