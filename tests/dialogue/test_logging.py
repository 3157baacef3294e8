"""Nothing a user types, no answer and no draft reaches the application logs, at any level.

Whole conversations run with every logger at DEBUG, through the paths that do log: a store
that fails, an audit log that fails, a draft template that fails, an engine that crashes
under a channel. The typed marker strings must appear in no record: not in its message, its
arguments, its formatted exception or its stack.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

import pytest
from flow_walk import drafts_with, explore, fresh_conversation, play, valid_text

from bot.dialogue import Engine, Inbound, Reply
from bot.dialogue.store import StoreUnavailable
from bot.drafting.render import TemplateProblem
from bot.logsafe import Withheld, without_message

MARKERS = ("Xanthippe Marker-Olawale", "07700 900123", "x.marker@example.org", "Flat 9 Markerton")
TYPED = f"{MARKERS[0]}, {MARKERS[1]}, {MARKERS[2]}, {MARKERS[3]}"


def _everything_logged(records: list[logging.LogRecord]) -> str:
    formatter = logging.Formatter()
    parts = []
    for record in records:
        parts.append(record.getMessage())
        parts.append(repr(record.args))
        if record.exc_info:
            parts.append(formatter.formatException(record.exc_info))
        if record.exc_text:
            parts.append(record.exc_text)
        if record.stack_info:
            parts.append(record.stack_info)
    return "\n".join(parts)


def assert_no_markers(caplog: pytest.LogCaptureFixture) -> None:
    logged = _everything_logged(caplog.records)
    for marker in MARKERS:
        assert marker not in logged, f"{marker!r} was logged"


def test_whole_conversations_log_no_user_text(
    make_engine: Callable[..., Engine], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    engine = make_engine()
    for flow_id in engine.flows:
        if not any(step.draft for step in engine.flows[flow_id].steps):
            continue
        replies = drafts_with(engine, flow_id, TYPED)
        drafts = "\n".join(r.draft.text for r in replies if r.draft)
        assert MARKERS[0] in drafts  # the markers really went through
    who = fresh_conversation()
    for text in (TYPED, f"? {TYPED}", f"a child told me {TYPED} hit her", "back", "why"):
        engine.handle(Inbound(who, text=text))
    assert_no_markers(caplog)


def test_failure_paths_log_no_user_text(
    make_engine: Callable[..., Engine], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    engine = make_engine()
    who = fresh_conversation()
    engine.handle(Inbound(who, action="flow:child_advocacy"))

    def locked(*_: Any) -> None:
        raise StoreUnavailable("database is locked")

    real_save = engine.store.save
    engine.store.save = locked  # type: ignore[method-assign]
    assert engine.handle(Inbound(who, text=TYPED))[-1].kind == "error"
    engine.store.save = real_save  # type: ignore[method-assign]

    class BrokenAudit:
        def record(self, event: object) -> None:
            raise OSError(f"cannot write {TYPED}")

    engine.audit = BrokenAudit()  # type: ignore[assignment]
    engine.handle(Inbound(who, text=TYPED))

    def broken_template(*_: Any, **__: Any) -> str:
        raise TemplateProblem("child_explanation.txt.j2: 'x' is undefined")

    engine.renderer.render_file = broken_template  # type: ignore[method-assign]
    replies: list[Reply] = []
    for snap in explore(engine, "child_advocacy", lambda s: valid_text(s, TYPED) or valid_text(s)):
        if snap["mode"] == "summary":
            replies, _ = play(engine, snap, action="draft:confirm")
            break
    assert replies and replies[-1].kind == "error"
    assert any(r.levelno >= logging.ERROR for r in caplog.records)
    assert_no_markers(caplog)


def test_a_crash_is_logged_with_its_place_but_not_its_message() -> None:
    def engine_step(text: str) -> None:
        raise ValueError(f"cannot parse {text!r}")

    try:
        try:
            engine_step(TYPED)
        except ValueError as inner:
            raise RuntimeError(f"turn failed on {TYPED}") from inner
    except RuntimeError as exc:
        kind, value, tb = without_message(exc)
    assert kind is Withheld and tb is not None
    shown = logging.Formatter().formatException((kind, value, tb))
    assert "builtins.RuntimeError (message withheld)" in shown
    assert "test_a_crash_is_logged_with_its_place_but_not_its_message" in shown
    for marker in MARKERS:
        assert marker not in shown
    assert sys.exc_info() == (None, None, None)


def test_a_channel_logs_an_engine_crash_without_its_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    slack = pytest.importorskip("bot.channels.slack")

    class Crashing:
        def handle(self, inbound: Inbound) -> list[Reply]:
            raise ValueError(f"cannot route {inbound.text!r}")

    caplog.set_level(logging.DEBUG)
    replies = slack._Adapter(Crashing())._handle(Inbound(fresh_conversation(), text=TYPED))
    assert replies[0].kind == "error"
    [record] = [r for r in caplog.records if r.name == "bot.channels.slack"]
    assert record.exc_info is not None
    shown = logging.Formatter().formatException(record.exc_info)
    assert "builtins.ValueError (message withheld)" in shown
    assert "raise ValueError" in shown  # where it happened is kept
    assert_no_markers(caplog)
