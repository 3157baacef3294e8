"""`--out` paths that cannot be written are a clear error (exit 2), never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bot.cli import app

NAME = "A. Inspector, regulatory inspector\n"
# the advocacy flow typed line by line: no risk (2), in care (1), understands (1), explained (1)
# today, consents (1); then the referral's details, easy read "no", staff involved "No" (3),
# extra lines that re-show the summary, and "yes" to draft
ADVOCACY = (
    "a child needs advocacy\n2\n1\n1\n1\ntoday\n1\n"
    + NAME * 4
    + "no\n"
    + NAME * 5
    + "3\n"
    + NAME * 3
    + "yes\n"
)


def chat(*args: str, stdin: str = "") -> Result:
    return CliRunner().invoke(app, ["chat", *args], input=stdin)


@pytest.mark.parametrize(
    "make, says",
    [
        (lambda tmp: tmp, "folder"),
        (lambda tmp: tmp / "missing" / "draft.txt", "does not exist"),
        (lambda tmp: tmp / "missing" / ".." / "draft.txt", "does not exist"),
        (lambda tmp: tmp / ("d" * 300 + ".txt"), "too long"),
        (lambda tmp: tmp / ("d" * 200) / ("e" * 200) / "x.txt", "does not exist"),
        (lambda tmp: Path("\x00bad"), "nul"),
    ],
    ids=["a folder", "a missing folder", "dot-dot through a missing folder", "a long name",
         "a long missing path", "a NUL byte"],
)  # fmt: skip
def test_unusable_out_paths_are_refused_before_the_chat_starts(
    tmp_path: Path, make: object, says: str
) -> None:
    out = make(tmp_path)  # type: ignore[operator]
    result = chat("--out", str(out), "--database", str(tmp_path / "s.sqlite3"))
    assert result.exit_code == 2, result.output
    assert says in result.output.lower()
    assert "error: --out" in result.output or says == "nul"  # click itself refuses a NUL
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_a_read_only_folder_is_refused(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    result = chat("--out", str(locked / "draft.txt"), "--database", str(tmp_path / "s.sqlite3"))
    assert result.exit_code == 2 and "permission denied" in result.output


def test_a_dot_dot_path_that_exists_is_written(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    out = tmp_path / "sub" / ".." / "draft.txt"
    stdin = ADVOCACY
    result = chat("--out", str(out), "--database", str(tmp_path / "s.sqlite3"), stdin=stdin)
    assert result.exit_code == 0, result.output
    assert "draft saved to" in result.output
    assert "REFERRAL TO THE CHILDREN'S COMMISSIONER" in (tmp_path / "draft.txt").read_text()
    assert "has not sent it anywhere" in (tmp_path / "draft.notes.txt").read_text()


def test_every_draft_of_a_run_is_kept_in_the_out_file(tmp_path: Path) -> None:
    out = tmp_path / "drafts.txt"
    out.write_text("an older file's contents\n", encoding="utf-8")
    stdin = ADVOCACY
    result = chat("--out", str(out), "--database", str(tmp_path / "s.sqlite3"), stdin=stdin)
    assert result.exit_code == 0, result.output
    assert "(draft saved to" in result.output and "2 drafts in the file" in result.output
    saved = out.read_text(encoding="utf-8")
    assert "an older file's contents" not in saved  # the run's first draft replaces it
    notes = (tmp_path / "drafts.notes.txt").read_text(encoding="utf-8")
    assert saved.count("From A. Inspector") == 1 and saved.count("REFERRAL TO THE") == 1
    assert "Hello " in saved  # the referral and the child's note
    assert notes.count("has not sent it anywhere") == 2  # the notes of each
    assert "has not sent it anywhere" not in saved


def test_out_writes_the_letter_alone_and_the_reviewers_notes_beside_it(tmp_path: Path) -> None:
    out = tmp_path / "referral.txt"
    result = chat("--out", str(out), "--database", str(tmp_path / "s.sqlite3"), stdin=ADVOCACY)
    assert result.exit_code == 0, result.output
    assert "the reviewer's notes to" in result.output and "referral.notes.txt" in result.output
    letter = out.read_text(encoding="utf-8")
    notes = (tmp_path / "referral.notes.txt").read_text(encoding="utf-8")
    for reviewer_only in ("Sources:", "[cc-2014/", "[unverified]", "DRAFT", "has not sent it"):
        assert reviewer_only not in letter
    # an unverified contact reads in the letter as it would be sent, its check in the notes
    assert "phone their Help at Hand team for free on 0800 528 0731. They answer" in letter
    assert "[cc-2014/22]" in notes and "Sources:" in notes
    assert "Not yet verified by an administrator: Children’s Commissioner – Help at Hand" in notes
    assert "send it (or file it) only by a secure route meant for case data" in notes


def test_chat_json_gives_the_letter_as_draft_and_the_notes_as_draft_notes(tmp_path: Path) -> None:
    import json

    result = chat("--json", "--database", str(tmp_path / "s.sqlite3"), stdin=ADVOCACY)
    assert result.exit_code == 0, result.output
    drafted = [r for r in map(json.loads, result.output.splitlines()) if r["draft"]]
    assert len(drafted) == 2
    for reply in drafted:
        assert "[unverified]" not in reply["draft"] and "Sources:" not in reply["draft"]
        assert "has not sent it anywhere" in reply["draft_notes"]
        assert "Sources:" in reply["draft_notes"]


# --- outputs never overwrite the bot's own files -----------------------------------------
def export(*args: str) -> Result:
    return CliRunner().invoke(app, ["audit", "export", "--since", "2026-01-01", *args])


def a_database_with_history(tmp_path: Path) -> Path:
    db = tmp_path / "s.sqlite3"
    result = chat("--database", str(db), stdin="a child needs advocacy\n")
    assert result.exit_code == 0, result.output
    return db


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm", "-journal"])
def test_no_output_may_be_the_session_database(tmp_path: Path, suffix: str) -> None:
    db = a_database_with_history(tmp_path)
    target = tmp_path / f"s.sqlite3{suffix}"
    for result in (
        export("--out", str(target), "--database", str(db)),
        chat("--out", str(target), "--database", str(db), stdin="menu\n"),
        # the same file by another spelling of its path
        export("--out", str(tmp_path / "." / f"s.sqlite3{suffix}"), "--database", str(db)),
    ):
        assert result.exit_code == 2, result.output
        assert "that is the session database" in result.output
    # still the database, audit trail and all
    assert db.read_bytes().startswith(b"SQLite format 3")
    assert "1 audit event(s)" in export("--database", str(db)).output


def test_the_notes_beside_the_letters_may_not_be_the_session_database(tmp_path: Path) -> None:
    db = tmp_path / "case.notes.txt"
    assert chat("--database", str(db), stdin="a child needs advocacy\n").exit_code == 0
    result = chat("--out", str(tmp_path / "case.txt"), "--database", str(db), stdin="menu\n")
    assert result.exit_code == 2, result.output
    assert "case.notes.txt: that is the session database" in result.output
    assert db.read_bytes().startswith(b"SQLite format 3")


def test_no_output_may_be_a_knowledge_or_flows_file(tmp_path: Path) -> None:
    from bot.paths import flows_dir, knowledge_dir

    db = str(tmp_path / "s.sqlite3")
    for target in (knowledge_dir() / "contacts.yaml", flows_dir() / "lgo_complaint.yaml"):
        before = target.read_bytes()
        for result in (
            export("--out", str(target), "--database", db),
            chat("--out", str(target), "--database", db, stdin="menu\n"),
        ):
            assert result.exit_code == 2, result.output
            assert "inside the bot's data folder" in result.output
        assert target.read_bytes() == before


def test_an_export_is_private_and_whole_or_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = a_database_with_history(tmp_path)
    out = tmp_path / "audit.csv"
    result = export("--out", str(out), "--database", str(db))
    assert result.exit_code == 0, result.output
    assert out.stat().st_mode & 0o777 == 0o600
    whole = out.read_text()
    assert whole.startswith("time_utc") and len(whole.splitlines()) == 2

    import bot.dialogue.audit as audit

    def full_disk(events: object, handle: object) -> int:
        handle.write("time_utc,half a row")  # type: ignore[attr-defined]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(audit, "write_csv", full_disk)
    result = export("--out", str(out), "--database", str(db))
    assert result.exit_code == 1 and "No space left on device" in result.output
    assert out.read_text() == whole  # the earlier export, not half of the new one
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
