"""The flow loader refuses to start on anything a user could trip over, naming file and step."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.dialogue import FlowError, load_contacts
from bot.dialogue.loading import load_flows
from bot.kb import KnowledgeBase
from bot.paths import flows_dir, knowledge_dir

GOOD = {
    "id": "tiny",
    "title": "Tiny flow",
    "description": "A flow for tests.",
    "triggers": ["tiny one", "tiny two", "tiny three"],
    "steps": [
        {
            "id": "q",
            "ask": "Yes or no?",
            "type": "yesno",
            "next": [{"if": {"q": "yes"}, "then": "tell"}, {"else": "end"}],
        },
        {"id": "tell", "say": "The LGO website is given.", "cite": ["lgo-2016/17"], "next": "end"},
    ],
}


@pytest.fixture(scope="module")
def clause_ids() -> set[str]:
    return set(KnowledgeBase.load(knowledge_dir()).clauses)


def load_one(tmp_path: Path, flow: dict, clause_ids: set[str], template: str | None = None) -> None:
    (tmp_path / "templates").mkdir(exist_ok=True)
    if template is not None:
        (tmp_path / "templates" / "t.txt.j2").write_text(template, encoding="utf-8")
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(flow), encoding="utf-8")
    load_flows(tmp_path, clause_ids=clause_ids, contacts={"lgo": {"website": "x"}})


def variant(**changes: object) -> dict:
    flow = yaml.safe_load(yaml.safe_dump(GOOD))
    flow.update(changes)
    return flow


def test_the_real_flows_load(clause_ids: set[str]) -> None:
    contacts = load_contacts(knowledge_dir() / "contacts.yaml")
    flows = load_flows(flows_dir(), clause_ids=clause_ids, contacts=contacts)
    assert {"safeguarding_concern", "lgo_complaint", "child_advocacy"} <= set(flows)


def test_a_good_flow_loads(tmp_path: Path, clause_ids: set[str]) -> None:
    load_one(tmp_path, GOOD, clause_ids)


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        (
            [{"id": "q", "say": "x", "cite": ["lgo-2016/99"], "next": "end"}],
            "cites unknown clause 'lgo-2016/99'",
        ),
        ([{"id": "q", "say": "x", "next": "end"}], "guidance must cite at least one clause"),
        (
            [
                {"id": "q", "say": "x", "plain": True, "next": "end"},
                {"id": "lonely", "say": "y", "plain": True, "next": "end"},
            ],
            "'lonely' cannot be reached",
        ),
        ([{"id": "q", "ask": "Name?"}], "dead end"),
        ([{"id": "q", "ask": "Name?", "next": "nowhere"}], "unknown step 'nowhere'"),
        (
            [
                {
                    "id": "q",
                    "ask": "Name?",
                    "next": [{"if": {"colour": "red"}, "then": "end"}, {"else": "end"}],
                }
            ],
            "condition on 'colour', which this flow never asks",
        ),
        (
            [
                {
                    "id": "q",
                    "ask": "Yes?",
                    "type": "yesno",
                    "next": [{"if": {"q": "maybe"}, "then": "end"}, {"else": "end"}],
                }
            ],
            "uses ['maybe']",
        ),
        (
            [
                {
                    "id": "q",
                    "ask": "Yes?",
                    "type": "yesno",
                    "next": [{"if": {"q": "yes"}, "then": "end"}],
                }
            ],
            "must end with an 'else'",
        ),
        (
            [
                {"id": "q", "ask": "Name?", "next": "r"},
                {"id": "r", "say": "x", "plain": True, "next": "q"},
            ],
            "in a loop with no way to finish",
        ),
        (
            [
                {"id": "q", "ask": "Name?", "next": "q2"},
                {"id": "q", "ask": "Again?", "next": "end"},
            ],
            "step 'q' is defined twice",
        ),
        ([{"id": "q", "call": "no_such_flow", "next": "end"}], "unknown flow 'no_such_flow'"),
        (
            [
                {"id": "q", "ask": "Name?", "next": "d"},
                {"id": "d", "draft": "t.txt.j2", "title": "T", "next": "end"},
            ],
            "template uses 'missing_answer'",
        ),
    ],
)
def test_problems_are_named_with_file_and_step(
    tmp_path: Path, clause_ids: set[str], steps: list[dict], message: str
) -> None:
    with pytest.raises(FlowError) as error:
        load_one(
            tmp_path, variant(steps=steps), clause_ids, template="Hi {{ q }} {{ missing_answer }}"
        )
    assert message in str(error.value)
    assert "tiny.yaml" in str(error.value)


def test_duplicate_flow_ids_are_refused(tmp_path: Path, clause_ids: set[str]) -> None:
    load_one(tmp_path, GOOD, clause_ids)
    shutil.copy(tmp_path / "tiny.yaml", tmp_path / "copy.yaml")
    with pytest.raises(FlowError, match="flow id 'tiny' is also used by"):
        load_flows(tmp_path, clause_ids=clause_ids, contacts={})


def test_a_broken_template_is_named(tmp_path: Path, clause_ids: set[str]) -> None:
    steps = [
        {"id": "q", "ask": "Name?", "next": "d"},
        {"id": "d", "draft": "t.txt.j2", "title": "T", "next": "end"},
    ]
    with pytest.raises(FlowError, match=r"t\.txt\.j2"):
        load_one(tmp_path, variant(steps=steps), clause_ids, template="{% if %}")


def test_note_belongs_in_draft_templates_not_in_what_a_step_says(
    tmp_path: Path, clause_ids: set[str]
) -> None:
    steps = [{"id": "s", "say": 'Advice.{{ note("check") }}', "plain": True, "next": "end"}]
    with pytest.raises(FlowError, match=r"tiny\.yaml: step 's': note\(\) records a line"):
        load_one(tmp_path, variant(steps=steps), clause_ids)


def test_kb_check_covers_flows(tmp_path: Path) -> None:
    from bot.dialogue.checks import full_check

    bad = tmp_path / "flows"
    shutil.copytree(flows_dir(), bad)
    text = (bad / "lgo_complaint.yaml").read_text(encoding="utf-8")
    (bad / "lgo_complaint.yaml").write_text(
        text.replace("lgo-2016/17", "lgo-2016/77"), encoding="utf-8"
    )
    report = full_check(knowledge_dir(), bad)
    assert any("lgo-2016/77" in e and "lgo_complaint.yaml" in e for e in report.errors)
    assert full_check(knowledge_dir()).ok


@pytest.mark.parametrize("content", ["risk: [unclosed", "- just\n- a list\n"])
def test_broken_routing_data_is_named_not_a_traceback(tmp_path: Path, content: str) -> None:
    from bot.dialogue.router import RoutingData
    from bot.kb import KnowledgeError

    path = tmp_path / "routing.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"routing\.yaml"):
        RoutingData.load(path)


def test_checking_the_referral_first_needs_an_early_call_of_safeguarding(
    tmp_path: Path, clause_ids: set[str]
) -> None:
    with pytest.raises(FlowError) as error:
        load_one(tmp_path, variant(checks_referral_first=True), clause_ids)
    assert "tiny.yaml: checks_referral_first is set" in str(error.value)
    assert "'safeguarding_concern'" in str(error.value)


def test_the_media_flow_checks_the_referral_first(clause_ids: set[str]) -> None:
    contacts = load_contacts(knowledge_dir() / "contacts.yaml")
    flows = load_flows(flows_dir(), clause_ids=clause_ids, contacts=contacts)
    assert [f for f in flows if flows[f].checks_referral_first] == ["media_interest"]


def test_a_flow_file_that_is_not_utf8_is_named(tmp_path: Path, clause_ids: set[str]) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "tiny.yaml").write_bytes(b"id: tiny\ntitle: \xff\xfe\n")
    with pytest.raises(FlowError, match=r"tiny\.yaml: cannot read"):
        load_flows(tmp_path, clause_ids=clause_ids, contacts={})
