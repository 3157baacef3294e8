"""Fixtures for the knowledge-base tests: the real sources parsed once, and throw-away copies."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

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
def kb_check(cli: Callable[..., Result]) -> Callable[..., Result]:
    """Run `protocolbot kb check --knowledge FOLDER [FLAGS]`."""

    def run(knowledge: Path, *flags: str) -> Result:
        return cli(["kb", "check", "--knowledge", str(knowledge), *flags])

    return run
