"""Adding a sixth protocol the way docs/adding-a-protocol.md says: two files, then one command.

The two documents in fixtures/ were written for this test, one of each style the parser
knows: numbered (nested 3.1 numbering, an annex that restarts numbering, lettered sub-items,
a contents list and a signature block declared as furniture) and heading + `-` bullets.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from bot.kb.base import parse_sources, read_clause_ids

FIXTURES = Path(__file__).resolve().parent / "fixtures"
NEW = ("nias-2024", "ivs-2025")

NIAS_IDS = [
    "nias-2024/1",
    "nias-2024/2",
    "nias-2024/3",
    "nias-2024/3.1",
    "nias-2024/3.2",
    "nias-2024/3.3",
    "nias-2024/4",
    "nias-2024/annexa/1",
    "nias-2024/annexa/2",
]
IVS_IDS = [
    "ivs-2025/purpose/1",
    "ivs-2025/matching-a-child-with-an-independent-visitor/1",
    "ivs-2025/matching-a-child-with-an-independent-visitor/2",
    "ivs-2025/matching-a-child-with-an-independent-visitor/3",
    "ivs-2025/ending-a-match/1",
]


def add_protocols(knowledge: Path) -> None:
    """What an administrator does: drop the texts into sources/, append their metadata."""
    metadata = knowledge / "documents.yaml"
    with metadata.open("a", encoding="utf-8") as out:
        for name in NEW:
            shutil.copyfile(FIXTURES / f"{name}.txt", knowledge / "sources" / f"{name}.txt")
            out.write("\n" + (FIXTURES / f"{name}.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def build_result(knowledge_copy: Path, cli: Callable[..., Result]) -> Result:
    """The two protocols added to a copy of the knowledge folder, then `kb build` run on it."""
    add_protocols(knowledge_copy)
    return cli(["kb", "build", "--knowledge", str(knowledge_copy)])


@pytest.fixture
def built(build_result: Result, knowledge_copy: Path) -> Path:
    """That copy, once the build has succeeded."""
    assert build_result.exit_code == 0, build_result.output
    return knowledge_copy


def stored(knowledge: Path) -> dict[str, dict[str, object]]:
    rows = json.loads((knowledge / "clauses.json").read_text(encoding="utf-8"))["clauses"]
    return {row["id"]: row for row in rows}


def test_sources_are_copied_byte_for_byte(built: Path) -> None:
    for name in NEW:
        assert (built / "sources" / f"{name}.txt").read_bytes() == (
            FIXTURES / f"{name}.txt"
        ).read_bytes()


def test_build_lists_the_new_clauses_as_additions_only(build_result: Result) -> None:
    result = build_result
    assert result.exit_code == 0, result.output
    added = [line.split("+ ", 1)[1] for line in result.stdout.splitlines() if "  + " in line]
    assert added == NIAS_IDS + IVS_IDS
    assert "  ~ " not in result.stdout and "  - " not in result.stdout
    assert "nias-2024       9 clauses" in result.stdout
    assert "ivs-2025        5 clauses" in result.stdout
    assert "OK:" in result.stdout


def test_numbered_protocol_clauses(built: Path) -> None:
    rows = stored(built)
    assert [i for i in rows if i.startswith("nias-2024/")] == NIAS_IDS
    assert rows["nias-2024/3.3"]["text"] == (
        "Each party will name a liaison officer who:\n"
        "(a) keeps a log of the concerns passed on;\n"
        "(b) meets the other liaison officer every quarter; and\n"
        "(c) reports lighthouse visits to the annual review meeting."
    )
    assert rows["nias-2024/3.3"]["label"] == "para 3.3"
    assert rows["nias-2024/3.1"]["heading"] == "Working together"
    # the annex restarts numbering in its own namespace; para 1 of the body is untouched
    assert rows["nias-2024/annexa/1"]["label"] == "Annex A para 1"
    # the annex line and its title head the annex's clauses together
    assert rows["nias-2024/annexa/1"]["heading"] == "Annex A - Lighthouse visits"
    assert str(rows["nias-2024/1"]["text"]).startswith("This memorandum sets out how Ofsted")
    every_text = " ".join(str(r["text"]) for i, r in rows.items() if i.startswith("nias-2024/"))
    for furniture in ("Contents", "Signatories", "Signed:", "A. Example", "Memorandum of"):
        assert furniture not in every_text


def test_headed_protocol_clauses(built: Path) -> None:
    rows = stored(built)
    assert [i for i in rows if i.startswith("ivs-2025/")] == IVS_IDS
    assert rows["ivs-2025/matching-a-child-with-an-independent-visitor/2"]["text"] == (
        "The service will check every volunteer befriender before the first visit, including:\n"
        "- an enhanced Disclosure and Barring Service check\n"
        "- two references, one from a person who has known the volunteer for at least three years"
    )
    assert str(rows["ivs-2025/purpose/1"]["text"]).endswith(
        "- it shows how the clauses are searched"
    )
    assert rows["ivs-2025/ending-a-match/1"]["label"] == "‘Ending a match’ paragraph 1"


def test_the_reviewed_id_list_gains_the_new_documents(built: Path, knowledge: Path) -> None:
    """What pins the parser's output is data `kb build` rewrites, so the administrator edits no
    test: the new documents' ids are listed after the existing ones, which are unchanged."""
    before = read_clause_ids(knowledge)
    after = read_clause_ids(built)
    assert after == {**before, "nias-2024": NIAS_IDS, "ivs-2025": IVS_IDS}
    assert {p.document.id: [c.id for c in p.clauses] for p in parse_sources(built)} == after


def test_existing_clauses_are_unchanged(built: Path, knowledge: Path) -> None:
    before = stored(knowledge)
    after = stored(built)
    assert {i: r for i, r in after.items() if i in before} == before


def test_kb_check_passes_and_reports_the_declared_furniture(
    built: Path, kb_check: Callable[..., Result]
) -> None:
    result = kb_check(built, "--verbose")
    assert result.exit_code == 0, result.output
    assert "nias-2024 lines 3-7: contents list (headings with page numbers)" in result.stdout
    assert "nias-2024 lines 28-30: signature block (the named people are not contacts)" in (
        result.stdout
    )
    assert "ivs-2025 lines 1-1: document title" in result.stdout


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("lighthouse visit", "nias-2024/annexa/1"),
        ("how quickly must NIAS tell Ofsted an advocate has raised a concern", "nias-2024/3.1"),
        ("NIAS MoU para 3.3", "nias-2024/3.3"),
        ("annex a para 2 of the nias mou", "nias-2024/annexa/2"),
        ("nias-2024/4", "nias-2024/4"),
        (
            "references and an enhanced DBS check for a volunteer befriender",
            "ivs-2025/matching-a-child-with-an-independent-visitor/2",
        ),
        ("kid wants to stop seeing their befriender", "ivs-2025/ending-a-match/1"),
    ],
)
def test_new_clauses_are_found_by_lookup(
    built: Path, cli: Callable[..., Result], query: str, expected: str
) -> None:
    result = cli(["lookup", query, "--json", "-k", "3"], knowledge=built)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows and rows[0]["id"] == expected, [r["id"] for r in rows]


def test_lookup_shows_the_new_documents_metadata(built: Path, cli: Callable[..., Result]) -> None:
    result = cli(["lookup", "nias-2024/3.1", "--json", "-k", "1"], knowledge=built)
    (row,) = json.loads(result.stdout)
    assert row["citation"] == "Ofsted-NIAS MoU (2024), para 3.1"
    assert row["document"] == "nias-2024"
    assert row["in_force"] == "2024-04-01"
    assert row["currency_notes"][0]["verified"] is False
    human = cli(["lookup", "ivs-2025/ending-a-match/1", "-k", "1"], knowledge=built)
    text = " ".join(human.stdout.split())
    assert (
        "Ofsted-independent visitor services protocol (2025), ‘Ending a match’ paragraph 1" in text
    )
    assert "status: check" in text
    assert "A fictional protocol written for the test suite." in text


def test_lookup_can_be_limited_to_a_new_document(built: Path, cli: Callable[..., Result]) -> None:
    result = cli(
        ["lookup", "children's home concerns", "--json", "--doc", "nias-2024"], knowledge=built
    )
    rows = json.loads(result.stdout)
    assert rows and {r["document"] for r in rows} == {"nias-2024"}


def test_nothing_useful_counts_the_new_documents(built: Path, cli: Callable[..., Result]) -> None:
    result = cli(["lookup", "xyzzy plugh frobnicate"], knowledge=built)
    assert result.exit_code == 1
    assert "Nothing in the 7 documents answers that." in " ".join(result.stdout.split())


def test_rebuilding_gives_the_same_index(built: Path, cli: Callable[..., Result]) -> None:
    before = (built / "clauses.json").read_bytes()
    again = cli(["kb", "build", "--knowledge", str(built)])
    assert again.exit_code == 0, again.output
    assert "  + " not in again.stdout
    assert (built / "clauses.json").read_bytes() == before
