"""A clause's nested list keeps its structure in every channel's rendering of a look-up.

The council's reply to a registration check states one of three things, nested under
"respond ... stating that either:"; "provide information in writing" is the council's next
duty, not a fourth kind of reply. Each channel must show that difference.
"""

from __future__ import annotations

import io

from rich.console import Console

from bot.channels import slack_blocks as kit
from bot.channels.console import conversation, plain_text, to_inbound
from bot.channels.lookup_view import show_result
from bot.channels.telegram_render import TextOut, render
from bot.dialogue import Engine, Reply
from bot.kb.lists import CHAT_INDENT

CLAUSE = "la-2023/what-local-authorities-do-for-ofsted/1"
NESTED = "- the person is not known"
OUTER = "- provide information in writing"


def looked_up(engine: Engine) -> Reply:
    who = conversation(thread="nested")
    replies = engine.handle(to_inbound(f"? {CLAUSE}", [], who))
    [reply] = [r for r in replies if r.kind == "lookup"]
    assert CLAUSE in [c.clause_id for c in reply.citations]
    return reply


def line_with(text: str, needle: str) -> str:
    return next(line for line in text.splitlines() if needle in line)


def test_terminal_indents_the_sub_items(engine: Engine) -> None:
    shown = plain_text(looked_up(engine))
    assert line_with(shown, NESTED).startswith(f"  {NESTED}")
    assert line_with(shown, OUTER).startswith(OUTER)


def test_command_line_lookup_indents_the_sub_items(engine: Engine) -> None:
    out = io.StringIO()
    result = engine.index.search(CLAUSE, k=1)
    console = Console(file=out, width=400, color_system=None, highlight=False)
    show_result(engine.index, result, console=console)
    shown = out.getvalue()
    assert line_with(shown, NESTED).startswith(f"  {NESTED}")
    assert line_with(shown, OUTER).startswith(OUTER)


def test_slack_keeps_the_indent_in_mrkdwn(engine: Engine) -> None:
    reply = looked_up(engine)
    shown = "\n".join(
        block["text"]["text"]
        for message in kit.render_reply(reply)
        for block in message.blocks
        if block["type"] == "section"
    )
    assert line_with(shown, NESTED).startswith(f"{CHAT_INDENT}{NESTED}")
    assert line_with(shown, OUTER).startswith(OUTER)
    modal = kit.clause_modal(engine.index.kb.cite(CLAUSE))
    text = "\n".join(b["text"]["text"] for b in modal["blocks"] if b["type"] == "section")
    assert line_with(text, NESTED).startswith(f"{CHAT_INDENT}{NESTED}")


def test_telegram_keeps_the_indent_in_the_quote(engine: Engine) -> None:
    html = "\n".join(m.html for m in render(looked_up(engine)) if isinstance(m, TextOut))
    assert line_with(html, NESTED).startswith(f"{CHAT_INDENT}{NESTED}")
    assert line_with(html, OUTER).startswith(OUTER)
