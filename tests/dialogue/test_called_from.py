"""A branch may depend on the flow that called this one: a called flow need not ask again
what its caller already knows (the safeguarding flow run from the media flow does not ask
about media interest)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from bot.dialogue import FlowError
from bot.dialogue.flow import Step
from bot.dialogue.loading import load_flows
from bot.kb import KnowledgeBase
from bot.paths import knowledge_dir

STEP = Step.model_validate(
    {
        "id": "ask_media",
        "say": "x",
        "plain": True,
        "next": [
            {"if": {"called_from": "media_interest"}, "then": "skip_it"},
            {"if": {"q": "yes"}, "then": "ask_it"},
            {"else": "end"},
        ],
    }
)


def test_a_branch_on_the_calling_flow() -> None:
    assert STEP.next_step({"q": "yes"}, called_from="media_interest") == "skip_it"
    assert STEP.next_step({"q": "yes"}, called_from="lgo_complaint") == "ask_it"
    assert STEP.next_step({"q": "yes"}) == "ask_it"
    assert STEP.next_step({}) == "end"


def test_called_from_is_not_an_answer_even_if_one_is_stored_under_that_name() -> None:
    assert STEP.next_step({"called_from": "media_interest"}) == "end"


def test_no_step_may_be_called_called_from() -> None:
    with pytest.raises(ValidationError, match="called_from"):
        Step.model_validate({"id": "called_from", "ask": "Who?", "next": "end"})


def _flow(condition_flow: str) -> dict[str, object]:
    return {
        "id": "tiny",
        "title": "Tiny flow",
        "description": "A flow for tests.",
        "triggers": ["tiny one", "tiny two", "tiny three"],
        "steps": [
            {
                "id": "q",
                "ask": "Yes or no?",
                "type": "yesno",
                "next": [{"if": {"called_from": condition_flow}, "then": "end"}, {"else": "end"}],
            }
        ],
    }


def _load(tmp_path: Path, flow: dict[str, object]) -> None:
    (tmp_path / "templates").mkdir(exist_ok=True)
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(flow), encoding="utf-8")
    clause_ids = set(KnowledgeBase.load(knowledge_dir()).clauses)
    load_flows(tmp_path, clause_ids=clause_ids, contacts={})


def test_the_loader_accepts_a_known_caller(tmp_path: Path) -> None:
    _load(tmp_path, _flow("tiny"))


def test_the_loader_names_an_unknown_caller(tmp_path: Path) -> None:
    with pytest.raises(FlowError) as error:
        _load(tmp_path, _flow("no_such_flow"))
    assert "tiny.yaml: step 'q': condition on 'called_from' names unknown flow(s)" in str(
        error.value
    )
