"""Piped input that is not all UTF-8 text: every readable line is answered, and the line
that could not be read is named, in `chat`, `lookup -` and `route -` (real processes, as a
shell pipes into them); and numbers that are digits only to Unicode pick no option."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.channels.console import to_inbound
from bot.dialogue import Conversation, Engine, Option, Reply

BAD = b"\xff\xfe hello\n"


def run(args: list[str], stdin: bytes, tmp_path: Path) -> tuple[int, str, str]:
    env = {
        **os.environ,
        "LANG": "en_GB.UTF-8",
        "PROTOCOLBOT_DATABASE": str(tmp_path / "sessions.sqlite3"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, env=env
    )
    return done.returncode, done.stdout.decode("utf-8"), done.stderr.decode("utf-8")


def test_chat_answers_every_readable_line_and_names_the_unreadable_one(tmp_path: Path) -> None:
    code, out, err = run(["chat", "--json"], b"menu\n" + BAD + b"help\n", tmp_path)
    assert code == 0, err
    assert "Traceback" not in err
    replies = [json.loads(line) for line in out.splitlines()]
    kinds = [r["kind"] for r in replies]
    assert (kinds[0] == "menu" and kinds[-1] == "help") or "help" in kinds
    assert {
        "kind": "error",
        "text": "Line 2 of the input is not UTF-8 text, so it was skipped.",
    } in replies


def test_plain_chat_says_which_line_was_skipped(tmp_path: Path) -> None:
    code, out, err = run(["chat"], BAD + b"menu\n", tmp_path)
    assert code == 0, err
    assert "Line 1 of the input is not UTF-8 text, so it was skipped." in out
    assert "Look up a clause" in out  # the menu after it was answered


def test_lookup_and_route_keep_one_output_line_per_input_line(tmp_path: Path) -> None:
    code, out, err = run(["lookup", "-", "--json"], b"lgo 17\n" + BAD + b"cqc foi\n", tmp_path)
    assert code == 0 and "Traceback" not in err, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 3 and rows[0] and rows[2]
    assert rows[1] == [{"error": "Line 2 of the input is not UTF-8 text, so it was skipped."}]
    code, out, err = run(["route", "-", "--json"], BAD + b"a child needs advocacy\n", tmp_path)
    assert code == 0 and "Traceback" not in err, err
    first, second = (json.loads(line) for line in out.splitlines())
    assert first == {"error": "Line 1 of the input is not UTF-8 text, so it was skipped."}
    assert second["flow"] == "child_advocacy"


@pytest.mark.parametrize("typed", ["²", "①", "١", "𝟏", "½"])
def test_a_number_only_unicode_calls_a_digit_is_text_not_an_option(typed: str) -> None:
    who = Conversation("console", "local", "u", "t")
    last = [Reply("Pick one", options=(Option("Yes", "ans:x:yes"), Option("No", "ans:x:no")))]
    inbound = to_inbound(typed, last, who)
    assert inbound.action is None and inbound.text == typed
    assert to_inbound("2", last, who).action == "ans:x:no"


@pytest.mark.parametrize(
    "typed",
    [
        "? ombudsman \x1b]0;PWNED\x07 \x1b[2J",
        "? ombudsman \x9b2J\x1b[31m",
        "lookup ombudsman\x07\x08\x1b]2;PWNED\x1b\\",
    ],
)
def test_escape_sequences_typed_into_a_look_up_are_not_echoed(engine: Engine, typed: str) -> None:
    import io

    from bot.channels.console import run_lines

    out = io.StringIO()
    run_lines(engine, [typed + "\n"], out)
    shown = out.getvalue()
    assert "ombudsman" in shown.lower()
    assert not any(ch in shown for ch in "\x1b\x07\x08\x9b"), repr(shown)
    assert "PWNED" not in shown and "[2J" not in shown and "[31m" not in shown
