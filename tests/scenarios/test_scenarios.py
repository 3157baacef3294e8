"""Run the YAML conversations in this folder through the real engine and terminal channel.

A scenario is a list of turns. Each turn is one of
  user: TEXT            typed into the terminal chat (a number picks a numbered option)
  press: LABEL          press the option with this label (typed as its number, as a user would)
  restart_process: true a new engine on the same database, as after a crash or redeploy
  idle_minutes: N       let N minutes pass with no message
followed by `expect:` with any of
  flow, step            of the last reply that has them
  says / not_says       text (case-insensitive) somewhere in / absent from this turn's replies,
                        as the terminal shows them (options numbered)
  says_in_order         texts (case-insensitive) said in this order
  cites                 clause ids among this turn's citations
  kind                  a reply of this kind in this turn
  draft_contains / draft_not_contains   text in / absent from a draft's letter this turn
                        (the letter alone: what would be sent)
  notes_contains / notes_not_contains   text in / absent from a draft's reviewer's notes
  options               labels that must be offered
  no_flow: true         the last reply belongs to no flow
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.channels.console import choosing, conversation, offered, plain_text, to_inbound
from bot.dialogue import Engine, Reply

HERE = Path(__file__).parent
SCENARIOS = sorted(HERE.glob("*.yaml"))


def _cases() -> list[Any]:
    cases = []
    for path in SCENARIOS:
        for scenario in yaml.safe_load(path.read_text(encoding="utf-8")):
            cases.append(pytest.param(scenario, id=f"{path.stem}: {scenario['name']}"))
    return cases


def _check(expect: dict[str, Any], replies: list[Reply], where: str) -> None:
    current = choosing(replies)
    shown = "\n".join(plain_text(r, choices=r is current) for r in replies)
    lowered = shown.lower()
    last = next(
        (r for r in reversed(replies) if r.flow or r.step), replies[-1] if replies else None
    )
    assert replies, f"{where}: no reply at all"
    if "flow" in expect:
        assert last is not None and last.flow == expect["flow"], (
            f"{where}: flow {last and last.flow}\n{shown}"
        )
    if "step" in expect:
        assert last is not None and last.step == expect["step"], (
            f"{where}: step {last and last.step}\n{shown}"
        )
    if expect.get("no_flow"):
        assert replies[-1].flow is None, f"{where}: expected no flow\n{shown}"
    for text in expect.get("says", []):
        assert str(text).lower() in lowered, f"{where}: {text!r} not said in\n{shown}"
    for text in expect.get("not_says", []):
        assert str(text).lower() not in lowered, f"{where}: {text!r} should not be said\n{shown}"
    at = 0
    for text in expect.get("says_in_order", []):
        found = lowered.find(str(text).lower(), at)
        assert found >= 0, f"{where}: {text!r} not said after the text before it in\n{shown}"
        at = found + len(str(text))
    cited = {c.clause_id for r in replies for c in r.citations}
    for clause_id in expect.get("cites", []):
        assert clause_id in cited, f"{where}: {clause_id} not cited (cited: {sorted(cited)})"
    if "kind" in expect:
        assert expect["kind"] in {r.kind for r in replies}, (
            f"{where}: no {expect['kind']} reply\n{shown}"
        )
    drafts = "\n".join(r.draft.text for r in replies if r.draft)
    for text in expect.get("draft_contains", []):
        assert drafts, f"{where}: no draft in\n{shown}"
        assert str(text) in drafts, f"{where}: draft lacks {text!r}\n{drafts}"
    for text in expect.get("draft_not_contains", []):
        assert str(text) not in drafts, f"{where}: draft has {text!r}\n{drafts}"
    notes = "\n".join(r.draft.notes for r in replies if r.draft)
    for text in expect.get("notes_contains", []):
        assert notes, f"{where}: no draft notes in\n{shown}"
        assert str(text) in notes, f"{where}: notes lack {text!r}\n{notes}"
    for text in expect.get("notes_not_contains", []):
        assert str(text) not in notes, f"{where}: notes have {text!r}\n{notes}"
    labels = {o.label for r in replies for o in r.options}
    for label in expect.get("options", []):
        assert label in labels, f"{where}: option {label!r} not offered ({sorted(labels)})"


@pytest.mark.parametrize("scenario", _cases())
def test_scenario(scenario: dict[str, Any], make_engine: Callable[..., Engine], clock: Any) -> None:
    engine = make_engine()
    who = conversation(thread="scenario")
    last: list[Reply] = []
    for number, turn in enumerate(scenario["turns"], start=1):
        where = f"turn {number} {turn!r}"
        if turn.get("restart_process"):
            engine = make_engine()
            continue
        if "idle_minutes" in turn:
            clock.advance(60 * float(turn["idle_minutes"]))
            continue
        if "press" in turn:
            labels = [o.label for o in offered(last)]
            assert turn["press"] in labels, f"{where}: no option {turn['press']!r} in {labels}"
            typed = str(labels.index(turn["press"]) + 1)
        else:
            typed = str(turn["user"])
        replies = engine.handle(to_inbound(typed, last, who))
        last = replies
        _check(turn.get("expect", {}), replies, where)
