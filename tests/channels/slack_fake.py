"""A fake Slack for the Slack channel tests: a Web API on 127.0.0.1 and payloads as Slack sends them.

``FakeSlackApi`` answers the Web API methods the app calls the way Slack does and records
every call. ``SlackHarness`` wires the real bolt app (``bot.channels.slack.build_app``) to
the real engine and a real ``slack_sdk.WebClient`` pointed at the fake, then plays the part
of Slack: signed HTTP requests, Socket Mode envelopes, and a user clicking the buttons the
app actually posted. Lazy listeners run on a queue the test drains, so nothing sleeps.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from slack_bolt.adapter.socket_mode.internals import run_bolt_app, send_response
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.channels.slack import build_app
from bot.channels.slack_blocks import escape
from bot.config import Settings
from bot.dialogue import open_engine
from bot.dialogue.messages import Conversation

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TEAM = "T0001"
BOT_USER = "UBOT"
BOT_ID = "BBOT"
USER = "U0001"
DM = "D" + USER.removeprefix("U")  # the direct-message channel Slack opens with USER
CHANNEL = "C0PUBLIC"


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    checked: bool = False  # its payload has been validated


class FakeSlackApi:
    """Slack's Web API, response URLs and file upload URLs, on an ephemeral loopback port."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.fail: dict[str, str] = {}  # method -> error code for its next call
        self.http_status: dict[str, int] = {}  # method -> HTTP status for its next call
        self._lock = threading.Lock()
        self._ts = itertools.count(1)
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path = urlsplit(self.path).path
                status, body = api._answer(path, self.headers.get("Content-Type") or "", raw)
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(status)
                kind = "text/plain" if isinstance(body, str) else "application/json"
                self.send_header("Content-Type", f"{kind}; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()

    # --- answering -----------------------------------------------------------------------
    def _answer(self, path: str, content_type: str, raw: bytes) -> tuple[int, Any]:
        if path.startswith("/upload/"):
            self._record("upload", {"file": path.rsplit("/", 1)[-1], "content": raw.decode()})
            return 200, "OK"
        if content_type.startswith("application/json"):
            args = json.loads(raw or b"{}")
        else:
            args = dict(parse_qsl(raw.decode()))
            for key in ("blocks", "view", "files"):
                if isinstance(args.get(key), str):
                    args[key] = json.loads(args[key])
        if path.startswith("/hooks/"):
            self._record("response_url", {"hook": path, **args})
            return 200, "ok"
        method = path.strip("/")
        self._record(method, args)
        status = self.http_status.pop(method, None)
        if status is not None:
            return status, "Internal Server Error"
        error = self.fail.pop(method, None)
        if error:
            return 200, {"ok": False, "error": error}
        return 200, self._result(method, args)

    def _record(self, method: str, args: dict[str, Any]) -> None:
        with self._lock:
            self.calls.append(Call(method, args))

    def _result(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        ts = f"1700000000.{next(self._ts):06d}"
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://fake.slack.test/",
                "team": "Fake team",
                "user": "protocolbot",
                "team_id": TEAM,
                "user_id": BOT_USER,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
            }
        if method == "chat.postMessage":
            message = {"type": "message", "user": BOT_USER, "bot_id": BOT_ID, "ts": ts}
            message.update(text=args.get("text", ""), blocks=args.get("blocks", []))
            return {"ok": True, "channel": args["channel"], "ts": ts, "message": message}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        if method == "chat.update":
            return {"ok": True, "channel": args["channel"], "ts": args["ts"], "text": ""}
        if method in {"views.open", "views.publish", "views.update"}:
            view = dict(args.get("view") or {})
            view.update(id=f"V{next(self._ts):05d}", hash=ts, team_id=TEAM)
            return {"ok": True, "view": view}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(args["users"]).removeprefix("U")}}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts):05d}"
            return {"ok": True, "upload_url": f"{self.url}upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = args.get("files")
            files = json.loads(files) if isinstance(files, str) else files
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}
        if method == "apps.connections.open":  # Socket Mode's first call, with the app token
            return {"ok": True, "url": "wss://127.0.0.1:9/link/?ticket=fake"}
        return {"ok": False, "error": "unknown_method"}

    # --- reading what the app did ----------------------------------------------------------
    def of(self, *methods: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method in methods]

    def posted(self, channel: str | None = None) -> list[Call]:
        return [c for c in self.of("chat.postMessage") if channel in (None, c.args["channel"])]

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()


class QueueExecutor(Executor):
    """Holds bolt's lazy listeners until the test runs them: proves they run after the ack."""

    def __init__(self) -> None:
        self._jobs: deque[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]] = deque()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        self._jobs.append((future, lambda *a: fn(*a, **kwargs), args))
        return future

    @property
    def pending(self) -> int:
        return len(self._jobs)

    def drain(self) -> int:
        done = 0
        while self._jobs:
            future, job, args = self._jobs.popleft()
            future.set_result(job(*args))
            done += 1
        return done


class ErrorLog(logging.Handler):
    """Errors logged by the app or bolt (bolt swallows lazy-listener exceptions into logs)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


# --- Slack's payloads ----------------------------------------------------------------------
_ids = itertools.count(1)


def _next(prefix: str) -> str:
    return f"{prefix}{next(_ids):08d}"


def event_callback(event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM,
        "api_app_id": "A0APP",
        "event": event,
        "type": "event_callback",
        "event_id": event_id or _next("Ev"),
        "event_time": 1700000000,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": TEAM,
                "user_id": BOT_USER,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": "4-eyJldCI6Im1lc3NhZ2UifQ",
    }


def im_message(text: str, user: str = USER, **extra: Any) -> dict[str, Any]:
    ts = f"1700000100.{next(_ids):06d}"
    event = {
        "client_msg_id": _next("msg-"),
        "type": "message",
        "text": text,
        "user": user,
        "ts": ts,
        "team": TEAM,
        "channel": "D" + user.removeprefix("U"),
        "event_ts": ts,
        "channel_type": "im",
    }
    event.update(extra)
    return event


def app_mention(text: str, user: str = USER, channel: str = CHANNEL) -> dict[str, Any]:
    ts = f"1700000200.{next(_ids):06d}"
    return {
        "type": "app_mention",
        "user": user,
        "text": text,
        "ts": ts,
        "team": TEAM,
        "channel": channel,
        "event_ts": ts,
    }


def slash_command(
    command: str, text: str, user: str = USER, channel: str = CHANNEL, team: str = TEAM
) -> dict[str, str]:
    return {
        "token": "legacy-verification-token",
        "team_id": team,
        "team_domain": "fake",
        "channel_id": channel,
        "channel_name": "directmessage" if channel.startswith("D") else "general",
        "user_id": user,
        "user_name": "worker",
        "command": command,
        "text": text,
        "api_app_id": "A0APP",
        "is_enterprise_install": "false",
        "response_url": "",  # filled in by the harness: the fake's /hooks/ path
        "trigger_id": _next("trig."),
    }


def _user(user: str) -> dict[str, Any]:
    """The ``user`` object of an interaction payload."""
    return {"id": user, "username": "worker", "name": "worker", "team_id": TEAM}


def _button_action(button: dict[str, Any], block_id: str, seconds: str) -> dict[str, Any]:
    """One clicked button in a ``block_actions`` payload; ``seconds`` is its action_ts before the dot."""
    return {
        "action_id": button["action_id"],
        "block_id": block_id,
        "text": button["text"],
        "value": button["value"],
        "type": "button",
        "action_ts": f"{seconds}.{next(_ids):06d}",
    }


def block_actions(
    message: dict[str, Any],
    channel: str,
    button: dict[str, Any],
    block_id: str,
    user: str = USER,
    ephemeral: bool = False,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(user),
        "api_app_id": "A0APP",
        "token": "legacy-verification-token",
        "container": {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": channel,
            "is_ephemeral": ephemeral,
        },
        "trigger_id": _next("trig."),
        "team": {"id": TEAM, "domain": "fake"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": "directmessage"},
        "state": {"values": {}},
        "response_url": "",
        "actions": [_button_action(button, block_id, "1700000300")],
    }
    if not ephemeral:
        payload["message"] = message
    return payload


def home_click(button: dict[str, Any], block_id: str, user: str = USER) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": _user(user),
        "api_app_id": "A0APP",
        "token": "legacy-verification-token",
        "container": {"type": "view", "view_id": "V0HOME"},
        "trigger_id": _next("trig."),
        "team": {"id": TEAM, "domain": "fake"},
        "enterprise": None,
        "is_enterprise_install": False,
        "view": {"id": "V0HOME", "type": "home"},
        "actions": [_button_action(button, block_id, "1700000400")],
    }


def view_submission(
    view: dict[str, Any], values: dict[str, str], user: str = USER
) -> dict[str, Any]:
    state = {
        block_id: {"value": {"type": "plain_text_input", "value": value}}
        for block_id, value in values.items()
    }
    submitted = dict(view)
    submitted.update(state={"values": state}, root_view_id=view["id"], app_id="A0APP")
    return {
        "type": "view_submission",
        "team": {"id": TEAM, "domain": "fake"},
        "user": _user(user),
        "api_app_id": "A0APP",
        "token": "legacy-verification-token",
        "trigger_id": _next("trig."),
        "view": submitted,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


# --- checking what the app sent --------------------------------------------------------------
def buttons(blocks: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], str]]:
    for block in blocks:
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            yield element, block.get("block_id", "")
        accessory = block.get("accessory")
        if accessory and accessory.get("type") == "button":
            yield accessory, block.get("block_id", "")


def check_blocks(blocks: list[dict[str, Any]], *, limit: int = 50) -> None:
    """Valid Block Kit by slack_sdk's models and Slack's limits, with nothing dropped."""
    assert 0 < len(blocks) <= limit, f"{len(blocks)} blocks"
    action_ids = [b["action_id"] for b, _ in buttons(blocks)]
    assert len(action_ids) == len(set(action_ids)), "action_ids must be unique in a message"
    for raw in blocks:
        parsed = Block.parse(raw)
        assert parsed is not None, raw
        assert parsed.to_dict() == raw, f"slack_sdk does not read this block as written: {raw}"
        if raw["type"] == "section":
            assert 0 < len(raw["text"]["text"]) <= 3000
        if raw["type"] == "context":
            assert len(raw["elements"]) <= 10
    for button, _ in buttons(blocks):
        assert len(button["text"]["text"]) <= 75 and len(button["value"]) <= 2000


def check_view(view: dict[str, Any]) -> None:
    parsed = View(**view)
    assert parsed.to_dict() == view, "slack_sdk does not read this view as written"
    check_blocks(view["blocks"], limit=100)


def mrkdwn_of(blocks: list[dict[str, Any]]) -> str:
    """All the text a message shows, as Slack receives it (escaped mrkdwn)."""
    parts: list[str] = []
    for block in blocks:
        if block["type"] == "section":
            parts.append(block["text"]["text"])
        elif block["type"] == "context":
            parts += [e["text"] for e in block["elements"]]
        elif block["type"] == "header":
            parts.append(block["text"]["text"])
        elif block["type"] == "rich_text":  # shown as typed: escaped here like the rest
            parts += [
                escape(leaf["text"])
                for element in block["elements"]
                for leaf in element["elements"]
                if leaf["type"] == "text"
            ]
    return "\n".join(parts)


# --- the harness ---------------------------------------------------------------------------
@dataclass
class SlackHarness:
    """One running bot: fake Slack + real bolt app + real engine on a SQLite file."""

    tmp: Path
    settings: dict[str, Any] = field(default_factory=dict)
    api: FakeSlackApi | None = None
    database: Path | None = None

    def __post_init__(self) -> None:
        self.api = self.api or FakeSlackApi()
        self.database = self.database or self.tmp / "sessions.sqlite3"
        self.errors = ErrorLog()
        logging.getLogger("bot.channels").addHandler(self.errors)
        self.start()

    def start(self) -> None:
        """(Re)start the bot process: a new engine and app on the same database file."""
        values = {
            "slack_bot_token": "xoxb-test-token",
            "slack_signing_secret": SECRET,
            "slack_api_url": self.fake.url,
            "database": str(self.database),
        }
        values.update(self.settings)
        self.config = Settings(**values)
        self.engine = open_engine(str(self.database))
        self.client = WebClient(token="xoxb-test-token", base_url=self.fake.url)
        self.executor = QueueExecutor()
        self.app = build_app(
            self.config, self.engine, client=self.client, listener_executor=self.executor
        )

    def restart(self) -> None:
        self.engine.store.close()
        self.start()

    def close(self) -> None:
        logging.getLogger("bot.channels").removeHandler(self.errors)
        self.engine.store.close()
        self.fake.close()

    @property
    def fake(self) -> FakeSlackApi:
        assert self.api is not None
        return self.api

    # --- sending as Slack does -----------------------------------------------------------
    def signed(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        secret: str = SECRET,
        retry: int | None = None,
    ) -> BoltResponse:
        """A request exactly as Slack signs it, dispatched to the app; lazy work waits."""
        ts = str(int(time.time()) if timestamp is None else timestamp)
        headers = {
            "content-type": content_type,
            "x-slack-request-timestamp": ts,
            "x-slack-signature": SignatureVerifier(secret).generate_signature(
                timestamp=ts, body=body
            ),
        }
        if retry is not None:
            headers.update(
                {"x-slack-retry-num": str(retry), "x-slack-retry-reason": "http_timeout"}
            )
        return self.app.dispatch(BoltRequest(body=body, headers=headers))

    def send_event(
        self, event: dict[str, Any], *, event_id: str | None = None, **kw: Any
    ) -> BoltResponse:
        body = json.dumps(event_callback(event, event_id))
        return self.signed(body, "application/json", **kw)

    def send_command(self, command: str, text: str, **kw: Any) -> BoltResponse:
        form = slash_command(command, text, **kw)
        form["response_url"] = f"{self.fake.url}hooks/commands/{form['trigger_id']}"
        return self.signed(urlencode(form), "application/x-www-form-urlencoded")

    def send_interaction(self, payload: dict[str, Any], **kw: Any) -> BoltResponse:
        if "response_url" in payload:
            payload["response_url"] = f"{self.fake.url}hooks/actions/{payload['trigger_id']}"
        body = urlencode({"payload": json.dumps(payload)})
        return self.signed(body, "application/x-www-form-urlencoded", **kw)

    def socket(
        self, payload: dict[str, Any], kind: str, retry: int | None = None
    ) -> SocketModeResponse:
        """The same payload through bolt's Socket Mode path; returns what would go back."""
        envelope = {"type": kind, "envelope_id": _next("env-"), "payload": payload}
        if retry is not None:
            envelope.update(retry_attempt=retry, retry_reason="timeout")
        request = SocketModeRequest.from_dict(envelope)
        assert request is not None
        sent: list[SocketModeResponse] = []

        class Client:  # the part of BaseSocketModeClient that send_response uses
            logger = logging.getLogger("tests.socket")

            def send_socket_mode_response(self, response: SocketModeResponse) -> None:
                sent.append(response)

        send_response(Client(), request, run_bolt_app(self.app, request), time.time())  # type: ignore[arg-type]
        assert len(sent) == 1 and sent[0].envelope_id == request.envelope_id
        return sent[0]

    def drain(self) -> int:
        """Run the work queued after the acks; then check every payload sent since last time."""
        done = self.executor.drain()
        errors, self.errors.records = self.errors.records, []
        assert not errors, [r.getMessage() for r in errors]
        for call in [c for c in self.fake.calls if not c.checked]:
            call.checked = True
            if call.method.startswith("views."):
                check_view(call.args["view"])
            elif "blocks" in call.args:
                check_blocks(call.args["blocks"])
                assert len(call.args["text"]) <= 300  # the notification text stays short
        return done

    # --- acting as the user --------------------------------------------------------------
    def say(self, text: str, user: str = USER) -> None:
        assert self.send_event(im_message(text, user)).status == 200
        self.drain()

    def last_message(self, channel: str, with_value: str | None = None) -> dict[str, Any]:
        """The newest message the app posted in ``channel`` (with a button of that value)."""
        for call in reversed(self.fake.posted(channel)):
            values = [b["value"] for b, _ in buttons(call.args.get("blocks", []))]
            if with_value is None or any(v.startswith(with_value) for v in values):
                message = {"type": "message", "user": BOT_USER, "bot_id": BOT_ID}
                message.update(
                    ts=self._ts_of(call), text=call.args["text"], blocks=call.args["blocks"]
                )
                return message
        raise AssertionError(f"no message in {channel} with a button {with_value!r}")

    def _ts_of(self, call: Call) -> str:
        return f"ts-{self.fake.calls.index(call)}"

    def click(self, value: str, user: str = USER, channel: str | None = None) -> BoltResponse:
        """Press the newest button whose value starts with ``value`` in the user's DM."""
        channel = channel or "D" + user.removeprefix("U")
        message = self.last_message(channel, value)
        for button, block_id in buttons(message["blocks"]):
            if button["value"].startswith(value):
                response = self.send_interaction(
                    block_actions(message, channel, button, block_id, user)
                )
                assert response.status == 200
                self.drain()
                return response
        raise AssertionError(value)

    # --- walking a flow ------------------------------------------------------------------
    def session(self, user: str = USER) -> Any:
        key = Conversation("slack", TEAM, user, "D" + user.removeprefix("U")).key
        return self.engine.store.load(key)[0]

    def step(self, user: str = USER) -> Any:
        session = self.session(user)
        return self.engine.flows[session.flow].step(session.step)

    def answer(self, text: str, *, last_choice: bool = False, user: str = USER) -> None:
        """Answer whatever the user is asked, as a user would: buttons where there are some."""
        session = self.session(user)
        if session.mode == "summary":
            self.click("draft:confirm", user)
            return
        if session.mode == "risk":  # a typed answer suggested a risk: say it is referred
            self.click("risk:referred", user)
            return
        assert session.mode == "asking", session.mode
        step = self.step(user)
        choices = [c.value for c in step.choices()]
        if choices:
            self.click(f"ans:{step.id}:{choices[-1] if last_choice else choices[0]}", user)
        else:
            self.say("today" if step.type == "date" else text, user)

    def run_to_end(self, text: str, *, last_choice: bool = False, user: str = USER) -> int:
        """Answer until the flow is done; returns how many turns it took."""
        for turns in range(1, 200):
            self.answer(text, last_choice=last_choice, user=user)
            session = self.session(user)
            if session is None or session.mode == "done":
                return turns
        raise AssertionError("the flow did not finish in 200 turns")
