"""Fixtures for the knowledge-base tests: the real sources parsed once, and throw-away copies."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

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
