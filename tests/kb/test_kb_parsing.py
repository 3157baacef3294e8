"""The parser on every real document: ids as reviewed, the awkward paragraphs kept whole.

The ids are pinned by data, not by this file: `kb build` writes knowledge/clause_ids.txt
beside the index and the change that moves an id shows in its diff. Adding a document
therefore needs no edit here.
"""

from __future__ import annotations

import json

import pytest

from bot.kb import ClauseIndex
from bot.kb.base import INDEX_FILE, parse_sources, read_clause_ids
from bot.kb.documents import load_documents
from bot.kb.model import Clause
from bot.kb.parsing import ParsedDocument
from bot.paths import knowledge_dir

LISTED = read_clause_ids(knowledge_dir())


def expected_ids() -> list[str]:
    return [i for ids in LISTED.values() for i in ids]


def clause(parsed: dict[str, ParsedDocument], clause_id: str) -> Clause:
    document = clause_id.split("/", 1)[0]
    found = [c for c in parsed[document].clauses if c.id == clause_id]
    assert found, f"{clause_id} was not parsed"
    return found[0]


# --- counts and ids ------------------------------------------------------------------------
@pytest.mark.parametrize("document", list(LISTED))
def test_each_document_parses_to_its_listed_ids(
    parsed: dict[str, ParsedDocument], document: str
) -> None:
    assert [c.id for c in parsed[document].clauses] == LISTED[document]


def test_every_document_in_the_metadata_has_listed_ids(parsed: dict[str, ParsedDocument]) -> None:
    documents = [d.id for d in load_documents(knowledge_dir() / "documents.yaml")]
    assert list(parsed) == list(LISTED) == documents


def test_full_ordered_list_of_ids(parsed: dict[str, ParsedDocument]) -> None:
    actual = [c.id for p in parsed.values() for c in p.clauses]
    assert actual == expected_ids()
    assert len(actual) == len(set(actual))


def test_shipped_index_holds_exactly_the_parsed_clauses(
    parsed: dict[str, ParsedDocument],
) -> None:
    stored = json.loads((knowledge_dir() / INDEX_FILE).read_text(encoding="utf-8"))
    assert [row["id"] for row in stored["clauses"]] == expected_ids()
    texts = {c.id: c.text for p in parsed.values() for c in p.clauses}
    assert {row["id"]: row["text"] for row in stored["clauses"]} == texts


def test_parsing_twice_gives_identical_clauses(parsed: dict[str, ParsedDocument]) -> None:
    again = parse_sources(knowledge_dir())
    assert [c for p in again for c in p.clauses] == [c for p in parsed.values() for c in p.clauses]
    assert [s for p in again for s in p.skipped] == [s for p in parsed.values() for s in p.skipped]


def test_clause_line_numbers_point_into_the_source(parsed: dict[str, ParsedDocument]) -> None:
    for p in parsed.values():
        source = (knowledge_dir() / "sources" / p.document.file).read_text(encoding="utf-8")
        total = len(source.splitlines())
        for c in p.clauses:
            assert 1 <= c.first_line <= c.last_line <= total, c.id
            first_words = c.text.split("\n")[0].removeprefix("- ")[:30]
            assert first_words in source.splitlines()[c.first_line - 1], c.id


# --- edge cases, each checked against the source by eye ------------------------------------
def test_cc_15_keeps_its_continuation_line_and_its_typo(parsed: dict[str, ParsedDocument]) -> None:
    c = clause(parsed, "cc-2014/15")
    assert c.text.startswith("The Children and Families Act 2014, Part 6, paragraph 110 2F (1)")
    # the source's own typo "Ofsed" is quoted, not corrected
    assert c.text.endswith(
        "Ofsed will provide information to the Office of the Children’s "
        "Commissioner in line with this legislative power."
    )
    assert (c.first_line, c.last_line) == (29, 30)
    assert clause(parsed, "cc-2014/16").text.startswith("Ofsted will also meet")


def test_cqc_5_3_includes_its_bullets(parsed: dict[str, ParsedDocument]) -> None:
    c = clause(parsed, "cqc-2011/5.3")
    lines = c.text.split("\n")
    assert lines[0].startswith("Focus on results.")
    assert len(lines) == 3
    assert lines[1].startswith("· areas of work which may not be a priority")
    assert lines[2] == (
        "· seeking out areas where, by acting together, we may have greater impact in "
        "promoting quality of care than if we acted alone."
    )
    assert clause(parsed, "cqc-2011/5.4").text.startswith("Pragmatism.")


def test_cqc_annex_restarts_numbering_without_clobbering_the_main_body(
    parsed: dict[str, ParsedDocument],
) -> None:
    main = clause(parsed, "cqc-2011/4")
    annex = clause(parsed, "cqc-2011/annex1/4")
    assert main.text.startswith("This MOU does not override the statutory responsibilities")
    assert main.label == "para 4"
    assert annex.text.startswith("The Care Quality Commission was established under the Health")
    assert annex.label == "Annex 1 para 4"
    # the strategic priorities and their bullets stay with annex paragraph 4
    assert "CQC’s strategic priorities (from January 2011):" in annex.text
    assert "· Ensuring care is centred on people’s needs" in annex.text
    assert [c.id for c in parsed["cqc-2011"].clauses if "/annex1/" in c.id] == [
        f"cqc-2011/annex1/{n}" for n in range(1, 6)
    ]


def test_cqc_annex_1_keeps_its_title_in_every_heading(parsed: dict[str, ParsedDocument]) -> None:
    """'Annex 1' and its title 'Functions of CQC and Ofsted' head the annex's clauses,
    before the sub-heading ('Ofsted', 'CQC') each paragraph sits under."""
    headings = {c.id: c.heading for c in parsed["cqc-2011"].clauses if "/annex1/" in c.id}
    title = "Annex 1 - Functions of CQC and Ofsted"
    assert headings == {
        "cqc-2011/annex1/1": f"{title}: Ofsted",
        "cqc-2011/annex1/2": f"{title}: Ofsted",
        "cqc-2011/annex1/3": f"{title}: Ofsted",
        "cqc-2011/annex1/4": f"{title}: CQC",
        "cqc-2011/annex1/5": f"{title}: CQC",
    }
    # the main body's headings are untouched
    assert clause(parsed, "cqc-2011/25").heading == clause(parsed, "cqc-2011/24").heading
    assert not clause(parsed, "cqc-2011/25").heading.startswith("Annex")


def test_csci_annex_4_keeps_the_officers_with_their_items(
    parsed: dict[str, ParsedDocument], index: ClauseIndex
) -> None:
    """The flattened tables stay in the clause, each under the item it answers, so (a)-(c)
    do not read as the senior managers; the clause is labelled historical."""
    lines = clause(parsed, "csci-2007/annex/4").text.split("\n")
    assert lines == [
        "The senior managers responsible for these arrangements will be:",
        "CSCI:Ofsted",
        "Mike RourkeMichael Hart",
        "Director IRRDirector—Children's Directorate",
        "(a) The organisational contact for these arrangements will be as follows:",
        "CSCI:Ofsted",
        "Nigel ThompsonJean Humphrys",
        "Strategy DirectorateDeputy Director—Children's Directorate",
        "(b) In relation to Information and Reporting, publications:",
        "CSCI:Ofsted",
        "Penny BanksOliver Beerman",
        "Head of Information and ReportingHead of Publications",
        "(c) In relation to Quality, Performance and Methodology issues:",
        "CSCI:Ofsted",
        "Robin WhistlecraftJean Humphrys",
        "Methodology ManagerDeputy Director—Children's Directorate",
    ]
    assert clause(parsed, "csci-2007/4").text.count("\n") == 4  # (a)-(d) of the main body
    cited = index.kb.cite("csci-2007/annex/4")
    assert cited.status == "historical"
    assert any(n.historical and "April 2007" in n.text for n in cited.notes)
    assert not [s for s in parsed["csci-2007"].skipped if "contact table" in s.reason]


def test_lgo_named_points_of_contact_are_clauses_labelled_historical(
    parsed: dict[str, ParsedDocument], index: ClauseIndex
) -> None:
    """The section is an HTML table row in the source: its text is kept, one clause per
    organisation, one line per cell paragraph; the tags are not quoted."""
    ofsted = clause(parsed, "lgo-2016/named-points-of-contact/1")
    lgo = clause(parsed, "lgo-2016/named-points-of-contact/2")
    assert ofsted.text == (
        "Ofsted Paul Armitage Deputy Director, Social Care Operations Ofsted Piccadilly Gate "
        "Store Street Manchester M1 2WD\n"
        "ProtectionOfChildren@ofsted.gov.uk 030 0123 1231"
    )
    assert lgo.text == (
        "Local Government Ombudsman Sharon Chappell Assistant Ombudsman Local Government "
        "Ombudsman PO Box 4771 Coventry CV4 0EH\n"
        "s.chappell@lgo.org.uk 0330 403 4033"
    )
    assert ofsted.heading == lgo.heading == "Named points of contact"
    assert (lgo.first_line, lgo.last_line) == (29, 29)
    for clause_id in (ofsted.id, lgo.id):
        cited = index.kb.cite(clause_id)
        assert cited.status == "historical"
        assert any(n.historical and "2016" in n.text for n in cited.notes)
    # the rest of the protocol stays current
    assert index.kb.cite("lgo-2016/17").status == "current"


def test_lgo_10_spans_the_blank_line(parsed: dict[str, ParsedDocument]) -> None:
    c = clause(parsed, "lgo-2016/10")
    assert c.text.startswith("Section 31 of the Data Protection Act allows")
    assert c.text.endswith("led the LGO to believe Ofsted should be immediately alerted.")
    assert "A decision to\nshare would be made on a case-by-case basis" in c.text
    assert (c.first_line, c.last_line) == (61, 63)


def test_lgo_20_nests_its_roman_sub_items_under_c(parsed: dict[str, ParsedDocument]) -> None:
    lines = clause(parsed, "lgo-2016/20").text.split("\n")
    assert lines[0].startswith("Both the LGO and Ofsted are committed")
    assert [line[:6] for line in lines[1:]] == [
        "- a. L",
        "- b. L",
        "- c. L",
        "  - i.",
        "  - ii",
        "  - ii",
    ]
    assert lines[3].endswith("half-yearly meetings for the purpose of:")
    assert lines[-1] == "  - iii. Individual case liaison where necessary."


def test_la_2023_paragraph_ids_are_section_slug_and_ordinal(
    parsed: dict[str, ParsedDocument],
) -> None:
    c = clause(parsed, "la-2023/safeguarding-and-child-protection-concerns/2")
    assert c.text.startswith(
        "We are not the statutory authority for enquiries into specific child protection "
        "concerns, under section 47 of the Children Act 1989."
    )
    assert c.heading == "Safeguarding and child protection concerns"
    assert c.label == "‘Safeguarding and child protection concerns’ paragraph 2"
    assert clause(parsed, "la-2023/safeguarding-and-child-protection-concerns/1").text == (
        "We follow our safeguarding policy and guidance in ‘Working together to safeguard "
        "children’."
    )


def test_la_2023_bullets_stay_with_their_paragraph(parsed: dict[str, ParsedDocument]) -> None:
    enforcement = clause(parsed, "la-2023/powers-and-duties/4").text.split("\n")
    assert enforcement[0] == (
        "The types of enforcement actions we can take against registered providers or managers "
        "for breaching requirements include:"
    )
    assert enforcement[1:] == [
        "- refusing a registration",
        "- imposing or varying conditions of registration",
        "- serving compliance notices",
        "- suspending a registration",
        "- restricting accommodation",
        "- imposing an urgent condition",
        "- prosecuting for offences contrary to The Care Standards Act 2000, including "
        "unregistered care",
        "- cancelling a registration",
    ]
    # nested bullets ("stating that either:") stay in the same paragraph, one level in
    checks = clause(parsed, "la-2023/what-local-authorities-do-for-ofsted/1").text.split("\n")
    assert len(checks) == 10
    assert (
        checks[4]
        == "- respond to Ofsted within 2 weeks of receiving the request stating that either:"
    )
    assert checks[5:8] == [
        "  - the person is not known",
        "  - information is held that may be relevant to the application, and a summary of that "
        "information",
        "  - the person is known to children’s services, but information cannot be provided "
        "within 2 weeks and details of when the director of children’s services will provide "
        "Ofsted with the information",
    ]
    # what follows is the council's next duty, not a fourth kind of reply
    assert checks[8] == (
        "- provide information in writing so that Ofsted can make a decision about a person’s "
        "suitability"
    )
    # no clause of la-2023 starts with a bullet: every bullet found its paragraph
    assert not [c.id for c in parsed["la-2023"].clauses if c.text.startswith("- ")]


def test_purpose_bullets_do_not_become_headings(parsed: dict[str, ParsedDocument]) -> None:
    headings = [h for _, h in parsed["la-2023"].headings]
    assert "local safeguarding partners" not in headings
    assert "Local safeguarding partners" in headings
    purpose = clause(parsed, "la-2023/purpose/2").text
    assert purpose.endswith("- safeguarding and child protection concerns")


# --- furniture -----------------------------------------------------------------------------
def skipped(parsed: dict[str, ParsedDocument], document: str) -> list[tuple[int, int, str]]:
    return [(s.first_line, s.last_line, s.reason) for s in parsed[document].skipped]


def test_contents_list_is_furniture(parsed: dict[str, ParsedDocument]) -> None:
    lgo = skipped(parsed, "lgo-2016")
    assert (14, 14, "contents list heading") in lgo
    entries = [first for first, _, why in lgo if why == "contents list entry (page number)"]
    assert entries == list(range(16, 26))
    assert not [c for c in parsed["lgo-2016"].clauses if "Named points of contact\t3" in c.text]


def test_table_rule_is_furniture_and_no_html_tag_is_quoted(
    parsed: dict[str, ParsedDocument],
) -> None:
    lgo = skipped(parsed, "lgo-2016")
    assert (30, 30, "table rule") in lgo
    assert not [why for _, _, why in lgo if why.startswith("HTML")]
    assert not [c for p in parsed.values() for c in p.clauses if "<" in c.text or ">" in c.text]


def test_image_placeholder_is_furniture(parsed: dict[str, ParsedDocument]) -> None:
    cqc = skipped(parsed, "cqc-2011")
    assert (2, 3, "logo image placeholders and logo text") in cqc
    assert not [c for p in parsed.values() for c in p.clauses if "[image:" in c.text]


def test_web_page_footer_is_furniture(parsed: dict[str, ParsedDocument]) -> None:
    csci = skipped(parsed, "csci-2007")
    assert (1, 1, "web page header from the Parliament print") in csci
    assert (115, 120, "web page footer and copyright lines from the Parliament print") in csci
    assert not [c for c in parsed["csci-2007"].clauses if "Parliamentary copyright" in c.text]


def test_signature_blocks_are_furniture_and_named_people_are_not_contacts(
    parsed: dict[str, ParsedDocument],
) -> None:
    assert (60, 66, "signature block (the named people are historical, not contacts)") in skipped(
        parsed, "cc-2014"
    )
    assert (69, 81, "signature block (the named people are historical, not contacts)") in skipped(
        parsed, "csci-2007"
    )
    lgo = [why for _, _, why in skipped(parsed, "lgo-2016")]
    assert any(why.startswith("signature fields") for why in lgo)
    texts = " ".join(c.text for p in parsed.values() for c in p.clauses)
    for furniture in (
        "Signed:",
        "Name of SIRO",
        "Christine Gilbert",
        "Amanda Hutchinson",
        "020 7448 9089",
        "0161 618 8524",
    ):
        assert furniture not in texts


def test_every_skip_has_a_reason_and_an_excerpt(parsed: dict[str, ParsedDocument]) -> None:
    for p in parsed.values():
        for s in p.skipped:
            assert s.reason.strip() and s.excerpt.strip(), s
            assert 1 <= s.first_line <= s.last_line


def test_every_source_line_is_a_clause_a_heading_or_furniture(
    parsed: dict[str, ParsedDocument],
) -> None:
    for p in parsed.values():
        covered = {n for n, _ in p.headings}
        for c in p.clauses:
            covered.update(range(c.first_line, c.last_line + 1))
        for s in p.skipped:
            covered.update(range(s.first_line, s.last_line + 1))
        source = (knowledge_dir() / "sources" / p.document.file).read_text(encoding="utf-8")
        for number, line in enumerate(source.splitlines(), start=1):
            if line.strip() and line.strip() not in {"-", "–", "•"}:
                assert number in covered, f"{p.document.file}:{number} {line[:60]!r}"
