"""A recording stand-in for the Bot API, update builders, and a harness to drive the channel.

``FakeBotAPI`` replaces the bot's HTTP layer (a ``BaseRequest``), so nothing leaves the
process. It answers every method with valid Bot API JSON, checks HTML the way Telegram does
(known tags only, balanced, ``&`` and ``<`` escaped, at most 4,096 characters after parsing)
and can be told to fail a method with a flood limit or a network error.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.error import TimedOut
from telegram.ext import CallbackContext
from telegram.request import BaseRequest, RequestData

from bot.channels.telegram import TelegramChannel, build_application
from bot.config import Settings
from bot.dialogue.messages import NAVIGATION, Inbound, Option, Reply

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
BOT = {
    "id": 123456789,
    "is_bot": True,
    "first_name": "Protocol bot",
    "username": "protocol_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
ALICE = {"id": 1001, "is_bot": False, "first_name": "Alice", "language_code": "en"}
BOB = {"id": 1002, "is_bot": False, "first_name": "Bob"}
STRANGER = {"id": 6666, "is_bot": False, "first_name": "Mallory", "username": "mallory"}
TEAM = {"id": -1009876543210, "type": "supergroup", "title": "Regulation team"}

TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
    "blockquote", "tg-spoiler", "span", "tg-emoji",
}  # fmt: skip
TAG = re.compile(r"</?[a-z][a-z-]*(?:\s[^<>]*)?>")
BARE_AMPERSAND = re.compile(r"&(?!(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)")


def private_chat(user: dict[str, Any]) -> dict[str, Any]:
    return {"id": user["id"], "type": "private", "first_name": user["first_name"]}


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _TelegramHTML(HTMLParser):
    """Parse like Telegram: unknown or unbalanced tags are errors; the result is plain text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.open: list[str] = []
        self.error = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TAGS:
            self.error = f'Unsupported start tag "{tag}"'
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.error = f'Unmatched end tag "{tag}"'

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_html(source: str) -> str:
    if BARE_AMPERSAND.search(source):
        raise ValueError("Can't parse entities: unescaped &")
    if "<" in TAG.sub("", source):
        raise ValueError("Can't parse entities: unescaped <")
    parser = _TelegramHTML()
    parser.feed(source)
    parser.close()
    if parser.error or parser.open:
        raise ValueError(f"Can't parse entities: {parser.error or 'unclosed tag'}")
    return "".join(parser.text)


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, Any] = field(default_factory=dict)
    url: str = ""
    ok: bool = True

    @property
    def keyboard(self) -> list[list[dict[str, Any]]]:
        markup = self.params.get("reply_markup") or {}
        return list(markup.get("inline_keyboard", []))

    @property
    def labels(self) -> list[str]:
        return [button["text"] for row in self.keyboard for button in row]


class FakeBotAPI(BaseRequest):
    """Records every Bot API call and answers it as Telegram would."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.sent: dict[tuple[int, int], dict[str, Any]] = {}  # (chat, message id) -> message
        self.chats: dict[int, dict[str, Any]] = {TEAM["id"]: TEAM}
        self._failures: dict[str, list[Any]] = {}
        self._ids = itertools.count(500)
        self.rejected: list[tuple[str, str]] = []  # (method, Telegram's complaint)

    # --- test controls ------------------------------------------------------------------
    def fail(self, method: str, *outcomes: Any) -> None:
        """The next calls of ``method`` fail in turn: an int is a RetryAfter of that many seconds,
        "network" a connection error, "timeout" a timeout."""
        self._failures.setdefault(method, []).extend(outcomes)

    def methods(self, since: int = 0) -> list[str]:
        return [c.method for c in self.calls[since:]]

    def of(self, method: str, since: int = 0) -> list[Call]:
        return [c for c in self.calls[since:] if c.method == method]

    def texts(self, since: int = 0) -> list[str]:
        return [parse_html(c.params["text"]) for c in self.of("sendMessage", since) if c.ok]

    # --- BaseRequest --------------------------------------------------------------------
    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        files = (
            dict(request_data.multipart_data)
            if request_data and request_data.contains_files
            else {}
        )
        self.calls.append(Call(name, params, files, url))
        planned = self._failures.get(name)
        if planned:
            outcome = planned.pop(0)
            self.calls[-1].ok = False
            if outcome == "network":
                raise ConnectionError("connection reset by peer")
            if outcome == "timeout":
                raise TimedOut()
            return 429, _json(
                ok=False,
                error_code=429,
                description=f"Too Many Requests: retry after {outcome}",
                parameters={"retry_after": outcome},
            )
        try:
            result = self._answer(name, params, files)
        except ValueError as exc:
            self.calls[-1].ok = False
            self.rejected.append((name, str(exc)))
            return 400, _json(ok=False, error_code=400, description=f"Bad Request: {exc}")
        return 200, _json(ok=True, result=result)

    # --- answers ------------------------------------------------------------------------
    def _answer(self, name: str, params: dict[str, Any], files: dict[str, Any]) -> Any:
        if name == "getMe":
            return BOT
        if name in {"sendMessage", "editMessageText"}:
            text = params["text"]
            plain = parse_html(text) if params.get("parse_mode") == "HTML" else text
            if not plain.strip():
                raise ValueError("message text is empty")
            if utf16(plain) > 4096:
                raise ValueError("message is too long")
            if name == "editMessageText":
                return self._edit(params, text=plain)
            return self._message(params, text=plain)
        if name == "editMessageReplyMarkup":
            return self._edit(params)
        if name == "sendDocument":
            part = files.get("document")
            if part is None:
                raise ValueError("there is no document in the request")
            filename = part[0]
            caption = parse_html(params.get("caption", ""))
            return self._message(
                params,
                caption=caption,
                document={
                    "file_id": f"doc-{filename}",
                    "file_unique_id": f"u-{filename}",
                    "file_name": filename,
                    "mime_type": "text/plain",
                    "file_size": len(part[1]),
                },
            )
        return True  # answerCallbackQuery, setMyCommands, deleteWebhook, sendChatAction ...

    def _message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        chat = self.chats.get(chat_id) or {"id": chat_id, "type": "private", "first_name": "X"}
        message: dict[str, Any] = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": chat,
            "from": BOT,
            **content,
        }
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        self.sent[(chat_id, message["message_id"])] = message
        return message

    def _edit(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if key not in self.sent:
            raise ValueError("message to edit not found")
        message = dict(self.sent[key], **content, edit_date=int(time.time()))
        message.pop("reply_markup", None)
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        self.sent[key] = message
        return message


def _json(**body: Any) -> bytes:
    return json.dumps(body).encode()


# ======================================================================================
# updates, as Telegram sends them
# ======================================================================================
_update_ids = itertools.count(10_000)
_query_ids = itertools.count(1)


def message_update(
    user: dict[str, Any], text: str, chat: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": next(_update_ids),
        "date": int(time.time()),
        "chat": chat or private_chat(user),
        "from": user,
        "text": text,
        **extra,
    }
    if text.startswith("/"):
        command = text.split()[0]
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16(command)}]
    return {"update_id": next(_update_ids), "message": message}


def callback_update(user: dict[str, Any], message: dict[str, Any], data: str) -> dict[str, Any]:
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": str(next(_query_ids)),
            "from": user,
            "chat_instance": "-81234",
            "data": data,
            "message": message,
        },
    }


# ======================================================================================
# the harness
# ======================================================================================
class Harness:
    """One running Application on a fake Bot API; a new Harness on the same files is a restart."""

    def __init__(
        self,
        engine: Any,
        database: Path | str,
        *,
        allowed: Iterable[int] = (ALICE["id"], BOB["id"]),
        allowlist_file: Path | None = None,
        api_url: str = "https://api.telegram.org/bot",
        api: FakeBotAPI | None = None,
        store: Any = None,
    ) -> None:
        self.api = api or FakeBotAPI()  # pass the old one on a restart: Telegram remembers
        self.settings = Settings(
            _env_file=None,
            telegram_bot_token=TOKEN,
            telegram_api_url=api_url,
            telegram_allowed_users=[str(u) for u in allowed],
            telegram_allowlist_file=allowlist_file,
            database=str(database),
        )
        self.engine = engine
        self.app = build_application(self.settings, engine, request=self.api, store=store)
        self.channel: TelegramChannel = self.app.bot_data["channel"]
        self.slept: list[float] = []
        self.channel.sleep = self._sleep
        self.errors: list[BaseException] = []
        self.app.add_error_handler(self._record_error)
        self.loop = asyncio.new_event_loop()
        self.loop.run_until_complete(self.app.initialize())

    async def _sleep(self, seconds: float) -> None:
        self.slept.append(seconds)

    async def _record_error(
        self, update: object, context: CallbackContext[Any, Any, Any, Any]
    ) -> None:
        assert context.error is not None
        self.errors.append(context.error)

    def close(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.run_until_complete(self.app.shutdown())
        self.loop.run_until_complete(self.loop.shutdown_default_executor())
        self.loop.close()

    # --- driving ------------------------------------------------------------------------
    def feed(self, raw: dict[str, Any]) -> list[Call]:
        """Process one update JSON; returns the Bot API calls it caused."""
        mark = len(self.api.calls)
        update = Update.de_json(json.loads(json.dumps(raw)), self.app.bot)
        self.loop.run_until_complete(self.app.process_update(update))
        if self.errors:
            raise self.errors[0]
        assert not self.api.rejected, f"Telegram would reject: {self.api.rejected}"
        return self.api.calls[mark:]

    def say(
        self, text: str, user: dict[str, Any] = ALICE, chat: dict[str, Any] | None = None
    ) -> list[Call]:
        return self.feed(message_update(user, text, chat))

    def last_keyboard(self, chat_id: int = ALICE["id"]) -> dict[str, Any]:
        """The newest message in the chat that has buttons, as Telegram stored it."""
        for (chat, _), message in reversed(self.api.sent.items()):
            if chat == chat_id and message.get("reply_markup"):
                return message
        raise AssertionError(f"no message with buttons in chat {chat_id}")

    def press(
        self,
        label: str,
        user: dict[str, Any] = ALICE,
        message: dict[str, Any] | None = None,
        chat_id: int | None = None,
    ) -> list[Call]:
        message = message or self.last_keyboard(chat_id if chat_id is not None else user["id"])
        return self.feed(callback_update(user, message, button_data(message, label)))


def button_data(message: dict[str, Any], label: str) -> str:
    """The button showing ``label``: exactly, or numbered and cut short as long labels are."""
    for row in message["reply_markup"]["inline_keyboard"]:
        for button in row:
            shown = re.sub(r"^\d+\. ", "", button["text"]).removesuffix("…")
            if button["text"] == label or (shown != button["text"] and label.startswith(shown)):
                return str(button["callback_data"])
    labels = [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]
    raise AssertionError(f"no button {label!r} in {labels}")


# ======================================================================================
# engines
# ======================================================================================
class Recording:
    """Wraps an engine and keeps what went in and came out, so a test knows the current step."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.inbounds: list[Inbound] = []
        self.replies: list[list[Reply]] = []

    @property
    def flows(self) -> dict[str, Any]:
        return dict(self.engine.flows)

    @property
    def store(self) -> Any:
        """The engine's session store, where the channel keeps its button keys."""
        return self.engine.store

    def handle(self, inbound: Inbound) -> list[Reply]:
        replies = list(self.engine.handle(inbound))
        self.inbounds.append(inbound)
        self.replies.append(replies)
        return replies

    def last(self, kind: str | None = None) -> Reply:
        for reply in reversed(self.replies[-1] if self.replies else []):
            if kind is None or reply.kind == kind:
                return reply
        raise AssertionError(f"the last turn had no {kind or ''} reply")


class Scripted:
    """A stand-in engine with the real one's surface: answers from a script, records inbounds."""

    def __init__(self, *replies: Reply) -> None:
        self.script = list(replies)
        self.inbounds: list[Inbound] = []
        self.flows: dict[str, Any] = {}
        self.fail = False

    def handle(self, inbound: Inbound) -> list[Reply]:
        self.inbounds.append(inbound)
        if self.fail:
            raise RuntimeError("the store is on fire")
        if self.script:
            return [self.script.pop(0)]
        return [
            Reply(
                f"You said: {inbound.text or inbound.action}",
                kind="question",
                options=(Option("Yes", "ans:q:yes"), Option("No", "ans:q:no")),
                navigation=NAVIGATION,
            )
        ]


NAV_LABELS = {option.label for option in NAVIGATION}


def walk(
    harness: Harness,
    engine: Recording,
    answers: dict[str, str] | None = None,
    *,
    stop_at: str = "end",
    typed: str = "Ms <b>Jones</b> & Co",
    limit: int = 80,
) -> list[Call]:
    """Answer the current flow to its end (or to a reply of kind ``stop_at``).

    ``answers`` maps step ids to a button label to press or, for typed questions, the text to
    type. Otherwise: yes/no -> "No", a choice -> its first option, a date -> "today", text ->
    ``typed``; summaries are confirmed.
    """
    answers = answers or {}
    calls: list[Call] = []
    for _ in range(limit):
        batch = engine.replies[-1]
        if stop_at == "end" and any(r.step == "end" for r in batch):
            return calls
        if stop_at != "end" and any(r.kind == stop_at for r in batch):
            return calls
        reply = next((r for r in reversed(batch) if r.kind in {"question", "summary"}), None)
        if reply is None:
            raise AssertionError(f"stuck: {[r.text[:80] for r in batch]}")
        if reply.kind == "summary":
            calls += harness.press("Yes, draft it")
            continue
        step = engine.flows[reply.flow].step(reply.step) if reply.flow else None
        wanted = answers.get(reply.step or "")
        labels = [o.label for o in reply.options]
        if step is not None and step.type in {"yesno", "choice"} and labels:
            default = "No" if "No" in labels else labels[0]
            calls += harness.press(wanted or default)
        elif step is not None and step.type == "date":
            calls += harness.say(wanted or "today")
        else:
            calls += harness.say(wanted or typed)
    raise AssertionError("the flow did not finish")
