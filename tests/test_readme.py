"""The README shows the flows as diagrams generated from their YAML: they must not drift."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.dialogue import Engine
from bot.dialogue.diagram import mermaid

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.mark.parametrize("flow_id", ["safeguarding_concern", "lgo_complaint", "child_advocacy"])
def test_readme_diagram_matches_the_flow(engine: Engine, flow_id: str) -> None:
    text = README.read_text(encoding="utf-8")
    section = re.search(rf"\(`{flow_id}`\).*?```mermaid\n(.*?)```", text, re.DOTALL)
    assert section, f"README has no diagram for {flow_id}"
    assert section.group(1) == mermaid(engine.flows[flow_id]), (
        f"README diagram for {flow_id} is out of date: regenerate with "
        f"`protocolbot flows --diagram {flow_id}`"
    )


def test_readme_names_two_commands_and_ci_runs_the_test_one() -> None:
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)\n```", text, re.DOTALL)
    assert len(blocks) >= 2
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert blocks[1].strip() in ci
    assert "protocolbot chat" in blocks[0]


def test_readme_lists_every_flow(engine: Engine) -> None:
    text = README.read_text(encoding="utf-8")
    for flow_id in engine.flows:
        assert f"`{flow_id}`" in text, f"README does not list the flow {flow_id}"
