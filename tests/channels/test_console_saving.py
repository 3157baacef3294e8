"""`chat --out`: drafts are written private and whole, and `--json` says where, or why not."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

import bot.channels.console as console
from bot.channels.console import DraftSaver, _write
from bot.dialogue import Draft, Reply


def drafted(title: str, letter: str, notes: str) -> Reply:
    return Reply(f"{title} (draft)", kind="draft", draft=Draft(title, letter, "x.txt", notes=notes))


def test_drafts_are_private_and_every_draft_of_the_run_is_kept(tmp_path: Path) -> None:
    out = tmp_path / "drafts.txt"
    out.write_text("an older file")
    save = DraftSaver(out)
    first = save(drafted("Referral", "Dear team,\nthe referral", "Check the council."))
    second = save(drafted("Case note", "CASE NOTE", "Keep on file."))
    assert first is not None and first.path == str(out) and "draft saved to" in first.message
    assert second is not None and "2 drafts in the file" in second.message
    for path in (out, tmp_path / "drafts.notes.txt"):
        assert path.stat().st_mode & 0o777 == 0o600
    letters = out.read_text()
    assert letters.startswith("Dear team,\nthe referral\n") and "CASE NOTE" in letters
    assert "an older file" not in letters
    assert "Check the council." in (tmp_path / "drafts.notes.txt").read_text()


def test_a_full_disk_leaves_the_earlier_drafts_whole_and_json_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "drafts.txt"
    save = DraftSaver(out)
    buffer = io.StringIO()
    _write([drafted("Referral", "LETTER ONE", "notes one")], buffer, True, save)
    first = json.loads(buffer.getvalue())
    assert first["saved"] == str(out) and "save_error" not in first
    whole = out.read_text()

    def full_disk(path: Path, text: str) -> None:
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(console, "write_private", full_disk)
    buffer = io.StringIO()
    _write([drafted("Case note", "LETTER TWO", "notes two")], buffer, True, save)
    second = json.loads(buffer.getvalue())
    assert "saved" not in second
    assert "No space left on device" in second["save_error"]
    assert out.read_text() == whole  # the file as it was, not part of the new draft
    monkeypatch.undo()
    third = save(drafted("Case note", "LETTER TWO", "notes two"))
    assert third is not None and third.path  # space again: the run's drafts all written
    assert out.read_text().startswith("LETTER ONE") and "LETTER TWO" in out.read_text()


def test_replies_without_a_draft_carry_no_save_fields(tmp_path: Path) -> None:
    buffer = io.StringIO()
    _write([Reply("hello", kind="notice")], buffer, True, DraftSaver(tmp_path / "d.txt"))
    assert set(json.loads(buffer.getvalue())) >= {"text", "kind"}
    assert "saved" not in json.loads(buffer.getvalue())
