"""`protocolbot lookup`: human, JSON, batch and error paths, through the real command."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from typer.testing import Result

Lookup = Callable[..., Result]


@pytest.fixture
def lookup(cli: Callable[..., Result]) -> Lookup:
    """`protocolbot lookup ARGS` on the real knowledge folder."""

    def run(*args: str, stdin: str | None = None) -> Result:
        return cli(["lookup", *args], stdin=stdin)

    return run


def flat(text: str) -> str:
    """The terminal wraps long lines; compare words, not line breaks."""
    return " ".join(text.split())


def rows_of(result: Result) -> list[dict[str, Any]]:
    rows = json.loads(result.stdout)
    assert isinstance(rows, list)
    return rows


def assert_clean_error(result: Result, code: int, *expected: str) -> None:
    assert result.exit_code == code, result.output
    assert result.stderr.startswith("error: ")
    for text in expected:
        assert text in result.stderr
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


# --- human output --------------------------------------------------------------------------
def test_human_output_shows_citation_heading_status_and_currency_note(lookup: Lookup) -> None:
    result = lookup("lgo 17", "-k", "1")
    assert result.exit_code == 0, result.output
    out = flat(result.stdout)
    assert "Ofsted-LGO information sharing protocol (2016), para 17 [lgo-2016/17]" in out
    assert "Information that Ofsted will share with LGO" in out
    assert "in force 1 October 2016" in out
    assert "status: current" in out
    assert "If Ofsted receives any telephone calls, letters or emails from complainants" in out
    assert "Currency note (LGSCO contact pages, not yet verified):" in out
    assert "Local Government and Social Care Ombudsman (LGSCO) since July 2017" in out
    assert "Complainants must normally complete the council’s own complaints procedure" in out


def test_human_output_shows_the_status_note_of_a_historical_document(lookup: Lookup) -> None:
    result = lookup("csci para 10", "-k", "1")
    assert result.exit_code == 0, result.output
    out = flat(result.stdout)
    assert "CSCI-Ofsted MoU (2007), para 10" in out
    assert "status: historical" in out
    assert "CSCI was abolished" in out
    assert "CSCI no longer exists." in out


def test_human_output_says_how_a_typo_was_read(lookup: Lookup) -> None:
    result = lookup("safegaurding concerns", "-k", "1")
    assert result.exit_code == 0, result.output
    assert "(read “safegaurding” as “safeguarding”)" in result.stdout


def test_human_output_shows_k_clauses(lookup: Lookup) -> None:
    result = lookup("ombudsman decisions", "-k", "2")
    assert result.exit_code == 0
    assert result.stdout.count("[lgo-2016/") + result.stdout.count("[la-2023/") >= 1
    assert flat(result.stdout).count(" · in force ") == 2


# --- JSON ----------------------------------------------------------------------------------
def test_json_output_is_an_array_of_clauses(lookup: Lookup) -> None:
    result = lookup("FOI requests CQC", "--json")
    assert result.exit_code == 0, result.output
    rows = rows_of(result)
    assert len(rows) == 3
    for row in rows:
        assert {"id", "citation", "document", "heading", "text", "score"} <= row.keys()
        assert isinstance(row["score"], float)
        assert row["id"].startswith(row["document"] + "/")
    assert rows[0]["id"] == "cqc-2011/20"
    assert rows[0]["citation"] == "CQC-Ofsted MoU (2011), para 20"
    assert rows[0]["heading"] == "Media and publications"
    assert "Freedom of Information Act 2000" in rows[0]["text"]
    assert rows[0]["status"] == "check"
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)


def test_json_quotes_the_clause_verbatim(lookup: Lookup) -> None:
    (row,) = rows_of(lookup("cc-2014/15", "--json", "-k", "1"))
    assert row["text"].endswith(
        "Ofsed will provide information to the Office of the Children’s Commissioner in line "
        "with this legislative power."
    )


@pytest.mark.parametrize("k", ["1", "5", "10"])
def test_k_limits_the_number_of_clauses(lookup: Lookup, k: str) -> None:
    assert len(rows_of(lookup("child protection concerns", "--json", "-k", k))) == int(k)


def test_k_out_of_range_is_a_usage_error(lookup: Lookup) -> None:
    result = lookup("ombudsman", "-k", "0")
    assert result.exit_code == 2
    assert "Traceback" not in result.output


@pytest.mark.parametrize("document", ["lgo-2016", "la-2023", "csci-2007"])
def test_doc_limits_the_clauses_to_one_document(lookup: Lookup, document: str) -> None:
    rows = rows_of(lookup("information sharing", "--json", "-k", "5", "--doc", document))
    assert rows and {r["document"] for r in rows} == {document}


def test_doc_applies_to_references_too(lookup: Lookup) -> None:
    rows = rows_of(lookup("para 22", "--json", "--doc", "cqc-2011"))
    assert rows[0]["id"] == "cqc-2011/22"


# --- batch ---------------------------------------------------------------------------------
def test_batch_writes_one_json_array_per_input_line(lookup: Lookup) -> None:
    queries = ["lgo 17", "FOI requests CQC", "safegaurding concerns", "cqc annex 1 4"]
    result = lookup("-", "--json", "-k", "2", stdin="\n".join(queries) + "\n")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == len(queries)
    answers = [json.loads(line) for line in lines]
    assert all(isinstance(a, list) and len(a) == 2 for a in answers)
    assert [a[0]["id"] for a in answers] == [
        "lgo-2016/17",
        "cqc-2011/20",
        answers[2][0]["id"],
        "cqc-2011/annex1/4",
    ]
    assert answers[2][0]["id"].startswith("la-2023/safeguarding")


def test_batch_keeps_bad_lines_in_place(lookup: Lookup) -> None:
    stdin = "lgo 17\n\n" + "x" * 1001 + "\nxyzzy plugh\ncc mou para 22\n"
    result = lookup("-", "--json", stdin=stdin)
    assert result.exit_code == 0, result.output
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(answers) == 5
    assert answers[0][0]["id"] == "lgo-2016/17"
    assert "empty" in answers[1][0]["error"]
    assert "1001 characters" in answers[2][0]["error"]
    assert answers[3] == []
    assert answers[4][0]["id"] == "cc-2014/22"


def test_batch_honours_doc_and_k(lookup: Lookup) -> None:
    result = lookup(
        "-", "--json", "-k", "4", "--doc", "lgo-2016", stdin="complaints\nshare information\n"
    )
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [len(a) for a in answers] == [4, 4]
    assert {r["document"] for a in answers for r in a} == {"lgo-2016"}


def test_batch_with_no_input_writes_nothing(lookup: Lookup) -> None:
    result = lookup("-", "--json", stdin="")
    assert result.exit_code == 0
    assert result.stdout == ""


# --- nothing useful and errors -------------------------------------------------------------
def test_nothing_useful_says_so_and_suggests_what_to_try(lookup: Lookup) -> None:
    result = lookup("xyzzy plugh frobnicate")
    assert result.exit_code == 1
    out = flat(result.stdout)
    assert "Nothing in the 5 documents answers that." in out
    assert "'lgo 17'" in out and "--doc" in out
    assert "[lgo-2016/" not in out


def test_nothing_useful_in_json_is_an_empty_array_and_exit_1(lookup: Lookup) -> None:
    result = lookup("xyzzy plugh frobnicate", "--json")
    assert result.exit_code == 1
    assert rows_of(result) == []
    assert "no clause answers that question" in result.stderr
    assert "'lgo 17'" in result.stderr


@pytest.mark.parametrize("query", ["", "   ", "\t"])
def test_empty_query_is_a_clear_error(lookup: Lookup, query: str) -> None:
    assert_clean_error(lookup(query), 2, "the question is empty")
    assert_clean_error(lookup(query, "--json"), 2, "the question is empty")


def test_oversized_query_is_a_clear_error(lookup: Lookup) -> None:
    query = "ombudsman " * 100 + "x"
    assert len(query) == 1001
    assert_clean_error(lookup(query), 2, "1001 characters long", "under 1000")
    assert_clean_error(lookup(query, "--json"), 2, "1001 characters long")


def test_query_of_exactly_1000_characters_is_accepted(lookup: Lookup) -> None:
    query = ("ombudsman " * 100)[:999] + "n"
    assert len(query) == 1000
    assert lookup(query, "--json").exit_code in (0, 1)
    assert "error" not in lookup(query, "--json").stderr


@pytest.mark.parametrize("mode", [(), ("--json",)])
def test_unknown_doc_is_a_clear_error(lookup: Lookup, mode: Sequence[str]) -> None:
    assert_clean_error(
        lookup("ombudsman", "--doc", "lgo-2099", *mode),
        2,
        "unknown document 'lgo-2099'",
        "cc-2014, cqc-2011, csci-2007, la-2023, lgo-2016",
    )


def test_unknown_doc_in_batch_mode_fails_before_reading_input(lookup: Lookup) -> None:
    result = lookup("-", "--json", "--doc", "nope", stdin="lgo 17\n")
    assert_clean_error(result, 2, "unknown document 'nope'")
    assert result.stdout == ""


def test_missing_knowledge_folder_is_a_clear_error(
    cli: Callable[..., Result], tmp_path: Any
) -> None:
    result = cli(["lookup", "ombudsman"], knowledge=tmp_path / "nowhere")
    assert_clean_error(result, 2, "cannot read document metadata")
