"""`protocolbot kb check` passes on the real base and fails loudly on every kind of damage."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from bot.kb.base import read_clause_ids
from bot.kb.check import check_knowledge
from bot.kb.model import Document
from bot.kb.parsing import ParsedDocument, parse_document
from bot.paths import knowledge_dir

Cli = Callable[..., Result]


def assert_fails(result: Result, *expected: str) -> None:
    assert result.exit_code == 1, result.output
    assert "FAILED" in result.stderr
    for text in expected:
        assert text in result.stderr, result.stderr
    assert "Traceback" not in result.output


def edit_index(knowledge: Path, change: Callable[[dict[str, object]], None]) -> None:
    path = knowledge / "clauses.json"
    payload = json.loads(path.read_text(encoding="utf-8"))
    change(payload)
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")


def replace_in(path: Path, old: bytes, new: bytes) -> None:
    data = path.read_bytes()
    assert data.count(old) == 1, old
    path.write_bytes(data.replace(old, new))


# --- passing -------------------------------------------------------------------------------
def test_check_passes_on_the_real_knowledge_base(kb_check: Cli) -> None:
    result = kb_check(knowledge_dir())
    assert result.exit_code == 0, result.output
    for document, ids in read_clause_ids(knowledge_dir()).items():
        assert f"{document:12} {len(ids):4} clauses" in result.stdout
    assert "OK: every clause is found verbatim in its source" in result.stdout


def test_check_reports_what_it_skipped_and_why(kb_check: Cli) -> None:
    result = kb_check(knowledge_dir(), "-v")
    assert result.exit_code == 0, result.output
    for reason in (
        "contents list heading",
        "contents list entry (page number)",
        "table rule",
        "logo image placeholders",
        "web page footer",
        "signature block",
    ):
        assert reason in result.stdout
    assert "cc-2014 lines 60-66: signature block" in result.stdout


def test_check_on_a_pristine_copy_passes(kb_check: Cli, knowledge_copy: Path) -> None:
    assert kb_check(knowledge_copy).exit_code == 0


def test_check_knowledge_report_is_clean() -> None:
    report = check_knowledge(knowledge_dir())
    assert report.ok, report.errors
    listed = read_clause_ids(knowledge_dir())
    assert report.counts == {document: len(ids) for document, ids in listed.items()}
    assert all(s.reason for s in report.skipped)


# --- failing -------------------------------------------------------------------------------
def test_tampered_clause_text_fails_naming_the_clause(kb_check: Cli, knowledge_copy: Path) -> None:
    def tamper(payload: dict[str, object]) -> None:
        rows = payload["clauses"]
        assert isinstance(rows, list)
        row = next(r for r in rows if r["id"] == "lgo-2016/17")
        row["text"] = row["text"].replace("the LGO website", "the council website")

    edit_index(knowledge_copy, tamper)
    assert_fails(kb_check(knowledge_copy), "lgo-2016/17: index text differs from the source")


def test_clause_missing_from_the_index_fails(kb_check: Cli, knowledge_copy: Path) -> None:
    def drop(payload: dict[str, object]) -> None:
        rows = payload["clauses"]
        assert isinstance(rows, list)
        payload["clauses"] = [r for r in rows if r["id"] != "cqc-2011/5.3"]

    edit_index(knowledge_copy, drop)
    assert_fails(kb_check(knowledge_copy), "cqc-2011/5.3: parsed but not in the index")


def test_duplicate_clause_id_in_the_index_fails(kb_check: Cli, knowledge_copy: Path) -> None:
    def duplicate(payload: dict[str, object]) -> None:
        rows = payload["clauses"]
        assert isinstance(rows, list)
        rows.append(dict(next(r for r in rows if r["id"] == "cc-2014/22")))

    edit_index(knowledge_copy, duplicate)
    assert_fails(kb_check(knowledge_copy), "cc-2014/22: clause id used twice in clauses.json")


def test_duplicate_paragraph_number_in_a_source_fails_naming_the_clause(
    kb_check: Cli, knowledge_copy: Path
) -> None:
    source = knowledge_copy / "sources" / "cc-2014.txt"
    replace_in(source, b"\n30. The Memorandum", b"\n29. The Memorandum")
    assert_fails(kb_check(knowledge_copy), "cc-2014/29", "occurs twice")


def test_changed_source_byte_fails(kb_check: Cli, knowledge_copy: Path) -> None:
    # someone "fixes" the source's typo: the quotation no longer matches what was reviewed
    replace_in(knowledge_copy / "sources" / "cc-2014.txt", b"Ofsed will", b"Ofsted will")
    assert_fails(
        kb_check(knowledge_copy),
        "cc-2014.txt: source bytes differ from the reviewed index",
        "cc-2014/15: index text differs",
    )


def test_changed_whitespace_byte_still_fails_on_the_source_hash(
    kb_check: Cli, knowledge_copy: Path
) -> None:
    source = knowledge_copy / "sources" / "lgo-2016.txt"
    source.write_bytes(source.read_bytes() + b"\n")
    assert_fails(kb_check(knowledge_copy), "lgo-2016.txt: source bytes differ")


def test_source_without_metadata_fails(kb_check: Cli, knowledge_copy: Path) -> None:
    (knowledge_copy / "sources" / "new-protocol.txt").write_text(
        "A protocol nobody described\n1. Some text.\n", encoding="utf-8"
    )
    assert_fails(
        kb_check(knowledge_copy), "new-protocol.txt: source has no entry in documents.yaml"
    )


def test_source_of_another_extension_without_metadata_fails(
    kb_check: Cli, knowledge_copy: Path
) -> None:
    (knowledge_copy / "sources" / "new-protocol.md").write_text("1. Some text.\n", encoding="utf-8")
    assert_fails(kb_check(knowledge_copy), "new-protocol.md: source has no entry")


def test_metadata_without_source_fails(kb_check: Cli, knowledge_copy: Path) -> None:
    (knowledge_copy / "sources" / "lgo-2016.txt").unlink()
    assert_fails(kb_check(knowledge_copy), "lgo-2016: cannot read its source")


def test_junk_line_in_a_source_is_reported(kb_check: Cli, knowledge_copy: Path) -> None:
    replace_in(
        knowledge_copy / "sources" / "lgo-2016.txt",
        b"\nHow Ofsted will use LGO information\n",
        b"\nPLEASE IGNORE THIS LINE, it was pasted by mistake.\n"
        b"How Ofsted will use LGO information\n",
    )
    assert_fails(
        kb_check(knowledge_copy),
        "lgo-2016.txt: source bytes differ",
        "lgo-2016/14: index text differs from the source",
    )


def test_too_greedy_furniture_rule_is_reported(kb_check: Cli, knowledge_copy: Path) -> None:
    # a signature rule that starts too early swallows para 20 and the closing line
    metadata = knowledge_copy / "documents.yaml"
    replace_in(
        metadata,
        b'    - start: "^\\u25a0 Ofsted"'.decode("unicode_escape").encode("utf-8"),
        b'    - start: "^Working arrangements$"',
    )
    assert_fails(
        kb_check(knowledge_copy),
        "lgo-2016/20: in the index but no longer parsed",
        "lgo-2016/signatories-to-this-protocol/1: in the index but no longer parsed",
    )


def test_furniture_rule_without_its_end_fails(kb_check: Cli, knowledge_copy: Path) -> None:
    replace_in(knowledge_copy / "documents.yaml", b'end: "^Commission$"', b'end: "^No such line$"')
    assert_fails(kb_check(knowledge_copy), "has no line matching its end")


def test_currency_note_on_unknown_clause_fails(kb_check: Cli, knowledge_copy: Path) -> None:
    replace_in(
        knowledge_copy / "documents.yaml",
        b"applies_to: [lgo-2016/17]",
        b"applies_to: [lgo-2016/99]",
    )
    assert_fails(kb_check(knowledge_copy), "currency note applies to unknown clause 'lgo-2016/99'")


def test_dropped_line_is_reported_when_the_parser_misses_it(
    knowledge_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The coverage net: a line no clause, heading or skip accounts for is an error."""

    def lossy(document: Document, text: str) -> ParsedDocument:
        parsed = parse_document(document, text)
        if document.id == "cc-2014":
            parsed.clauses = [c for c in parsed.clauses if c.id != "cc-2014/27"]
        return parsed

    monkeypatch.setattr("bot.kb.base.parse_document", lossy)
    report = check_knowledge(knowledge_copy)
    assert "cc-2014.txt:51: line dropped without a reason: '27. Any disagreement" in "\n".join(
        report.errors
    )


def test_a_sentence_read_as_a_heading_fails_the_check(kb_check: Cli, knowledge_copy: Path) -> None:
    """Without its prose rule, the LGO protocol's closing sentence (no full stop) is taken for
    a heading with no clause under it: the check must say so, not report 'nothing dropped'."""
    replace_in(
        knowledge_copy / "documents.yaml",
        b'  prose:\n    - "^This signed protocol came into effect on"\n',
        b"",
    )
    report = check_knowledge(knowledge_copy, against_index=False)
    errors = "\n".join(report.errors)
    assert (
        "lgo-2016.txt:98: heading 'This signed protocol came into effect on 1 October 2016' "
        "has no clause under it"
    ) in errors
    assert "lgo-2016.txt:96: heading 'Signatories to this protocol' has no clause" in errors
    assert_fails(kb_check(knowledge_copy), "has no clause under it", "declare it under `prose`")


def test_a_declared_bare_heading_passes_and_a_stale_declaration_fails(
    knowledge_copy: Path,
) -> None:
    metadata = knowledge_copy / "documents.yaml"
    replace_in(
        metadata,
        b'  prose:\n    - "^This signed protocol came into effect on"\n',
        b'  empty_headings:\n    - heading: "^Signatories to this protocol$"\n'
        b"      reason: the signatures below it are furniture\n"
        b'    - heading: "^This signed protocol came into effect on"\n'
        b"      reason: a test of the declaration\n",
    )
    errors = check_knowledge(knowledge_copy, against_index=False).errors
    assert not [e for e in errors if "heading" in e], errors
    replace_in(metadata, b'"^Signatories to this protocol$"', b'"^No such heading$"')
    errors = check_knowledge(knowledge_copy, against_index=False).errors
    assert any("heading 'Signatories to this protocol' has no clause" in e for e in errors)
    assert any("empty_headings entry '^No such heading$' matches no heading" in e for e in errors)


def test_a_stale_clause_id_list_fails(kb_check: Cli, knowledge_copy: Path) -> None:
    replace_in(knowledge_copy / "clause_ids.txt", b"\nlgo-2016/17\n", b"\n")
    assert_fails(
        kb_check(knowledge_copy),
        "clause_ids.txt: the ids listed for lgo-2016 differ from what lgo-2016.txt parses to",
    )


def test_a_missing_clause_id_list_fails(kb_check: Cli, knowledge_copy: Path) -> None:
    (knowledge_copy / "clause_ids.txt").unlink()
    assert_fails(kb_check(knowledge_copy), "clause_ids.txt: cannot read")


# --- build ---------------------------------------------------------------------------------
def test_build_refuses_to_change_existing_ids_without_accept_changes(
    cli: Cli, kb_check: Cli, knowledge_copy: Path
) -> None:
    replace_in(
        knowledge_copy / "sources" / "la-2023.txt",
        "We follow our safeguarding policy and guidance in ‘Working together to safeguard "
        "children’.\n".encode(),
        "We follow our safeguarding policy and guidance in ‘Working together to safeguard "
        "children’.\nA new paragraph inserted by a later edition.\n".encode(),
    )
    before = (knowledge_copy / "clauses.json").read_bytes()
    refused = cli(["kb", "build", "--knowledge", str(knowledge_copy)])
    assert refused.exit_code == 1, refused.output
    assert "--accept-changes" in refused.stderr
    assert "~ la-2023/safeguarding-and-child-protection-concerns/2" in refused.stdout
    assert "+ la-2023/safeguarding-and-child-protection-concerns/7" in refused.stdout
    assert (knowledge_copy / "clauses.json").read_bytes() == before
    assert_fails(kb_check(knowledge_copy), "la-2023.txt: source bytes differ")

    accepted = cli(["kb", "build", "--knowledge", str(knowledge_copy), "--accept-changes"])
    assert accepted.exit_code == 0, accepted.output
    assert kb_check(knowledge_copy).exit_code == 0
    # the reviewed id list is rewritten with the index: the new id is in it
    listed = read_clause_ids(knowledge_copy)["la-2023"]
    assert "la-2023/safeguarding-and-child-protection-concerns/7" in listed


def test_build_refuses_to_remove_ids(cli: Cli, knowledge_copy: Path) -> None:
    replace_in(knowledge_copy / "sources" / "cqc-2011.txt", b"\n23. The MOU may", b"\nThe MOU may")
    refused = cli(["kb", "build", "--knowledge", str(knowledge_copy)])
    assert refused.exit_code == 1
    assert "- cqc-2011/23" in refused.stdout
    assert "1 clause id(s) would disappear" in refused.stderr


def test_build_with_no_changes_rewrites_the_same_index(cli: Cli, knowledge_copy: Path) -> None:
    before = (knowledge_copy / "clauses.json").read_bytes()
    ids = (knowledge_copy / "clause_ids.txt").read_bytes()
    result = cli(["kb", "build", "--knowledge", str(knowledge_copy)])
    assert result.exit_code == 0, result.output
    assert (knowledge_copy / "clauses.json").read_bytes() == before
    assert (knowledge_copy / "clause_ids.txt").read_bytes() == ids


@pytest.mark.parametrize("name", ["glossary.yaml", "local_authorities.yaml"])
def test_a_data_file_that_is_not_utf8_fails_clearly(
    kb_check: Cli, knowledge_copy: Path, name: str
) -> None:
    (knowledge_copy / name).write_bytes(b"\xff\xfe not utf-8")
    assert_fails(kb_check(knowledge_copy), name, "cannot read")


def test_a_source_that_is_not_utf8_fails_clearly(kb_check: Cli, knowledge_copy: Path) -> None:
    # an administrator's sixth protocol saved from a Windows editor, say
    (knowledge_copy / "sources" / "lgo-2016.txt").write_bytes("caf\xe9 1. Text.\n".encode("cp1252"))
    assert_fails(kb_check(knowledge_copy), "lgo-2016: cannot read its source")
