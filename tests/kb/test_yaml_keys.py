"""Data files refuse a key written twice: YAML would silently keep only the last one."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.kb.documents import KnowledgeError, read_yaml


def test_a_key_written_twice_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "flow.yaml"
    path.write_text("steps:\n  - id: a\n    cite: [x]\n    next: b\n    next: end\n")
    with pytest.raises(KnowledgeError, match=r"(?s)'next' is written twice.*line 5"):
        read_yaml(path, "flow")


def test_the_same_key_in_different_mappings_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "flow.yaml"
    path.write_text("steps:\n  - id: a\n    next: b\n  - id: b\n    next: end\n")
    assert read_yaml(path, "flow") == {
        "steps": [{"id": "a", "next": "b"}, {"id": "b", "next": "end"}]
    }
