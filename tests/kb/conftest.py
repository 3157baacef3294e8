"""Fixtures for the knowledge-base tests: the real sources parsed once, and throw-away copies."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bot.cli import app
from bot.kb import ClauseIndex, open_index
from bot.kb.base import parse_sources
from bot.kb.parsing import ParsedDocument
from bot.paths import knowledge_dir


@pytest.fixture(scope="session")
def parsed() -> dict[str, ParsedDocument]:
    """Every real document parsed from knowledge/sources/, by document id."""
    return {p.document.id: p for p in parse_sources(knowledge_dir())}


@pytest.fixture(scope="session")
def index() -> ClauseIndex:
    return open_index(knowledge_dir())


@pytest.fixture
def knowledge_copy(tmp_path: Path) -> Path:
    """A private copy of the real knowledge folder a test may edit."""
    copy = tmp_path / "knowledge"
    shutil.copytree(knowledge_dir(), copy)
    return copy


@pytest.fixture
def cli() -> Callable[..., Result]:
    """Run `protocolbot ARGS` in-process, as an administrator would from a shell."""
    runner = CliRunner()

    def run(args: Sequence[str], knowledge: Path | None = None, stdin: str | None = None) -> Result:
        env = {"PROTOCOLBOT_KNOWLEDGE": str(knowledge or knowledge_dir())}
        return runner.invoke(app, list(args), env=env, input=stdin)

    return run
