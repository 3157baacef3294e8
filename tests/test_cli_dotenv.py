"""A knowledge folder named in .env is used by every command, as the settings are."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.paths import knowledge_dir


@pytest.fixture
def broken_knowledge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder whose .env names a copy of the knowledge with an unreadable glossary."""
    copy = tmp_path / "knowledge"
    shutil.copytree(knowledge_dir(), copy)
    (copy / "glossary.yaml").write_text("- [unclosed\n", encoding="utf-8")
    (tmp_path / ".env").write_text(f"PROTOCOLBOT_KNOWLEDGE={copy}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PROTOCOLBOT_NO_CACHE", "1")
    monkeypatch.delenv("PROTOCOLBOT_KNOWLEDGE", raising=False)
    return copy


@pytest.mark.parametrize("args", [["lookup", "lgo 17"], ["kb", "check"]])
def test_the_folder_in_dotenv_is_the_one_read(broken_knowledge: Path, args: list[str]) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code != 0
    assert "glossary" in result.output + result.stderr


def test_the_environment_wins_over_dotenv(broken_knowledge: Path) -> None:
    result = CliRunner().invoke(
        app, ["lookup", "lgo 17"], env={"PROTOCOLBOT_KNOWLEDGE": str(knowledge_dir())}
    )
    assert result.exit_code == 0, result.output
