"""The on-disk index cache never serves one knowledge folder's index for another's."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.dialogue import open_flows
from bot.kb import KnowledgeError, open_index
from bot.kb.cache import cache_dir, cached
from bot.paths import knowledge_dir


@pytest.fixture
def two_copies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """Two identical copies of the real knowledge folder, and a cache of this test's own."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("PROTOCOLBOT_NO_CACHE", raising=False)
    first, second = tmp_path / "k1", tmp_path / "k2"
    shutil.copytree(knowledge_dir(), first)
    shutil.copytree(knowledge_dir(), second)
    return first, second


def test_same_contents_in_two_folders_are_cached_apart(two_copies: tuple[Path, Path]) -> None:
    first, second = two_copies
    assert cached(first, lambda: "built for k1") == "built for k1"
    assert cached(first, lambda: "built again") == "built for k1"  # the cache is in use
    assert cached(second, lambda: "built for k2") == "built for k2"


def test_the_second_folder_reads_its_own_files(two_copies: tuple[Path, Path]) -> None:
    first, second = two_copies
    (second / "local_authorities.yaml").write_text("councils: [\n", encoding="utf-8")
    open_flows(open_index(first))  # the first folder is fine, and its index is now cached
    index = open_index(second)
    assert index.kb.root == second
    with pytest.raises(KnowledgeError, match="cannot read"):
        open_flows(index)


def test_a_rebuilt_index_replaces_its_folders_old_one_only(
    two_copies: tuple[Path, Path],
) -> None:
    first, second = two_copies
    cached(first, lambda: "k1 v1")
    cached(second, lambda: "k2 v1")
    (first / "glossary.yaml").write_text(
        (first / "glossary.yaml").read_text(encoding="utf-8") + "\n- [extra, more]\n",
        encoding="utf-8",
    )
    assert cached(first, lambda: "k1 v2") == "k1 v2"  # an edited glossary: built again
    stored = sorted(cache_dir().glob("index-*.pickle"))
    assert len(stored) == 2  # one per folder: k1's old index is gone, k2's is kept
    assert cached(second, lambda: "k2 rebuilt") == "k2 v1"
