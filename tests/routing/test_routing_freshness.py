"""`kb check` fails when the router's weights were trained on other flows or sets."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.dialogue.checks import full_check
from bot.paths import bench_dir, flows_dir, knowledge_dir
from bot.routing.freshness import check_weights

RETRAIN = "protocolbot router train"


def test_the_shipped_weights_are_up_to_date() -> None:
    problems, line = check_weights(knowledge_dir(), flows_dir(), bench_dir())
    assert problems == [] and "up to date" in line


def test_a_changed_trigger_example_makes_kb_check_fail_naming_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flows = tmp_path / "flows"
    shutil.copytree(flows_dir(), flows)
    path = flows / "lgo_complaint.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("triggers:\n", "triggers:\n  - parent unhappy with the council\n", 1),
        encoding="utf-8",
    )
    monkeypatch.setattr("bot.dialogue.checks.flows_dir", lambda: flows)  # as if shipped
    report = full_check(knowledge_dir(), flows)
    assert any("other flows or trigger examples" in e and RETRAIN in e for e in report.errors)


def test_another_folder_of_flows_is_named_in_the_summary_without_failing(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    shutil.copytree(flows_dir(), flows)
    (flows / "lgo_complaint.yaml").unlink()
    problems, line = check_weights(knowledge_dir(), flows, bench_dir(), bundled=False)
    assert problems == [] and "trained on other flows" in line


def test_a_changed_labelled_set_makes_the_weights_stale(tmp_path: Path) -> None:
    bench = tmp_path / "bench"
    shutil.copytree(bench_dir() or Path("bench"), bench)
    path = bench / "routing_heldout.yaml"
    path.write_text(
        path.read_text(encoding="utf-8") + "- text: where is the canteen\n  flow: null\n"
        "  kind: offtopic\n",
        encoding="utf-8",
    )
    problems, line = check_weights(knowledge_dir(), flows_dir(), bench)
    assert any("labelled sets" in p and RETRAIN in p for p in problems) and "stale" in line


def test_a_new_test_set_does_not_make_the_weights_stale(tmp_path: Path) -> None:
    bench = tmp_path / "bench"
    shutil.copytree(bench_dir() or Path("bench"), bench)
    (bench / "routing_new_blind.yaml").write_text(
        "# role: test set\n- text: a child is hurt\n  flow: safeguarding_concern\n  kind: short\n",
        encoding="utf-8",
    )
    assert check_weights(knowledge_dir(), flows_dir(), bench)[0] == []


def test_missing_weights_are_reported_with_the_command(tmp_path: Path) -> None:
    knowledge = tmp_path / "knowledge"
    shutil.copytree(knowledge_dir(), knowledge)
    (knowledge / "routing_model.npz").unlink()
    problems, _ = check_weights(knowledge, flows_dir(), bench_dir())
    assert len(problems) == 1 and "missing" in problems[0] and RETRAIN in problems[0]


def test_without_labelled_sets_only_the_flows_are_compared() -> None:
    problems, line = check_weights(knowledge_dir(), flows_dir(), None)
    assert problems == [] and "not compared" in line
