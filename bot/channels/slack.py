"""The Slack channel: Slack events in, neutral ``Inbound`` values to the engine, Block Kit out.

Every listener acknowledges at once and does the engine work in a lazy listener after the
ack, so Slack's 3-second limit never depends on the engine. Case details stay in the user's
direct message with the bot: whatever starts in a channel continues there, and the channel
only sees a neutral note. No protocol logic lives here.

slack_bolt and slack_sdk are imported inside the functions that need them, so the package
works without the ``slack`` extra.
"""

from __future__ import annotations

import json
import logging
import re
import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from bot.channels import slack_blocks as kit
from bot.dialogue.messages import Conversation, Inbound, Reply
from bot.logsafe import without_message

if TYPE_CHECKING:
    from bot.config import Settings

__all__ = [
    "SlackService",
    "build_app",
    "check_settings",
    "make_http_server",
    "open_service",
    "serve",
]

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
MAX_BODY = 1 << 20  # Slack payloads are far smaller; refuse anything bigger unread

CHANNEL_NOTE = "I've sent you a direct message so we can continue privately."
DENIED = "Sorry, protocol-bot is not enabled for you here."
FAILED = (
    "Sorry, something went wrong on my side and that message was not processed. "
    "Your earlier answers are kept: please try again."
)


class _Engine(Protocol):
    """The engine surface this channel uses (``bot.dialogue.engine.Engine``)."""

    @property
    def flows(self) -> Mapping[str, Any]: ...
    @property
    def index(self) -> Any: ...
    @property
    def store(self) -> Any: ...
    def handle(self, inbound: Inbound) -> list[Reply]: ...


# --- settings --------------------------------------------------------------------------
def _shown(secret: str) -> str:
    return repr(secret[:5] + "...") if len(secret) > 5 else "a very short value"


def check_settings(settings: Settings, *, http: bool = False) -> str:
    """Which transport to run, "socket" or "http"; a ValueError says what to fix."""
    token = (settings.slack_bot_token or "").strip()
    if not token:
        raise ValueError(
            "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-...) from your "
            "Slack app's 'OAuth & Permissions' page"
        )
    if not token.startswith("xoxb-"):
        raise ValueError(
            f"SLACK_BOT_TOKEN must be a bot token starting with 'xoxb-' (it starts with "
            f"{_shown(token)}); user (xoxp-) and app (xapp-) tokens do not work here"
        )
    url = urlsplit(settings.slack_api_url)
    local = url.hostname in ("127.0.0.1", "localhost", "::1")
    if url.scheme != "https" and not (url.scheme == "http" and local):
        raise ValueError(
            f"SLACK_API_URL must be an https:// URL such as https://slack.com/api/ "
            f"(GovSlack: https://slack-gov.com/api/), not {settings.slack_api_url!r}"
        )
    app_token = (settings.slack_app_token or "").strip()
    if not http and app_token:
        if not app_token.startswith("xapp-"):
            raise ValueError(
                f"SLACK_APP_TOKEN must be an app-level token starting with 'xapp-' (it starts "
                f"with {_shown(app_token)}); create one with the connections:write scope under "
                "'Basic Information > App-Level Tokens'"
            )
        return "socket"
    if not (settings.slack_signing_secret or "").strip():
        raise ValueError(
            "SLACK_SIGNING_SECRET is not set: HTTP mode verifies every request with it "
            "('Basic Information > App Credentials'). Or set SLACK_APP_TOKEN (xapp-...) to use "
            "Socket Mode, which needs no public URL"
        )
    return "http"


def _api_url(settings: Settings) -> str:
    url = settings.slack_api_url
    return url if url.endswith("/") else url + "/"


# --- the app ---------------------------------------------------------------------------
def build_app(
    settings: Settings,
    engine: _Engine,
    *,
    client: Any = None,
    listener_executor: Executor | None = None,
) -> Any:
    """A bolt ``App`` wired to the engine. ``client``: a ``slack_sdk.WebClient`` to use."""
    from slack_bolt import App
    from slack_bolt.error import BoltError
    from slack_sdk import WebClient

    if client is None:
        from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

        client = WebClient(token=settings.slack_bot_token, base_url=_api_url(settings))
        # replies are posted after the ack, so waiting out a 429's Retry-After costs nothing
        client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    from slack_sdk.errors import SlackApiError, SlackClientError

    bolt_log = logging.getLogger("bot.channels.slack.bolt")
    bolt_log.addFilter(_not_the_token_warning)
    try:  # bolt checks the token with auth.test here, once
        app = App(
            name="protocolbot",
            logger=bolt_log,
            client=client,
            signing_secret=settings.slack_signing_secret or "",
            # the ack functions are trivial and the work is lazy: answer as soon as acked
            process_before_response=True,
            listener_executor=listener_executor,
        )
    except BoltError as exc:
        if isinstance(exc.__context__, SlackApiError):  # what Slack said, said plainly
            raise _token_problem(exc.__context__, client, "SLACK_BOT_TOKEN") from None
        raise ValueError(f"the Slack app could not be set up: {exc}") from None
    except (SlackClientError, OSError) as exc:
        raise _token_problem(exc, client, "SLACK_BOT_TOKEN") from None
    adapter = _Adapter(engine)

    def allow(body: dict[str, Any], context: Any, client: Any, next: Callable[[], None]) -> Any:
        def own_dm() -> bool:
            event = body.get("event") or {}
            if event.get("channel_type") == "im" or event.get("type") == "app_home_opened":
                return True  # Slack sends these only from the bot's own DM with the user
            return adapter.is_own_dm(
                client, _team(context, body), context.user_id, context.channel_id
            )

        if _allowed(settings, context, own_dm):
            return next()
        from slack_bolt import BoltResponse

        log.info("denied a request from team=%s user=%s", context.team_id, context.user_id)
        return BoltResponse(status=200, body=DENIED if "command" in body else "")

    def ack_now(ack: Callable[..., None]) -> None:
        ack()

    app.use(allow)
    app.event("message")(ack=ack_now, lazy=[adapter.on_message])
    app.event("app_mention")(ack=ack_now, lazy=[adapter.on_mention])
    app.event("app_home_opened")(ack=ack_now, lazy=[adapter.on_home])
    app.command("/protocol")(ack=ack_now, lazy=[adapter.on_protocol])
    app.command("/clause")(ack=ack_now, lazy=[adapter.on_clause])
    app.action(re.compile("^" + re.escape(kit.ACTION_PREFIX)))(
        ack=ack_now, lazy=[adapter.on_action]
    )
    app.view(kit.DRAFT_EDIT_CALLBACK)(ack=ack_now, lazy=[adapter.on_draft_edited])
    return app


# a token Slack refuses, as opposed to a Slack that could not answer
_REFUSED = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}


def _token_problem(exc: Exception, client: Any, name: str) -> ValueError:
    """One clear line for a failed token check: Slack refused the token, Slack answered with
    an error (its HTTP status), or the API could not be reached."""
    from slack_sdk.errors import SlackApiError

    where = client.base_url
    if isinstance(exc, SlackApiError):
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
        status = exc.response.status_code
        if error in _REFUSED:
            return ValueError(f"Slack refused {name} at {where}: {error}")
        detail = f" ({error})" if error and status == 200 else ""  # a JSON error code only
        return ValueError(
            f"Slack at {where} could not check {name}: HTTP {status}{detail}; try again later"
        )
    reason = getattr(exc, "reason", None) or exc
    return ValueError(f"cannot reach the Slack API at {where}: {reason}")


def _not_the_token_warning(record: logging.LogRecord) -> bool:
    """bolt warns at every start that a token in the environment is unused when a client
    is given: the client carries that same token, so the warning says nothing."""
    return "will be unused" not in record.getMessage()


def _allowed(settings: Settings, context: Any, own_dm: Callable[[], bool]) -> bool:
    """Deny what falls outside a non-empty allow-list. The bot's own direct messages with a
    user are governed by the workspace and user lists only: they are where flows continue.
    A channel allow-list admits no other DM (a /protocol typed in a DM between colleagues)."""
    teams = settings.slack_allowed_workspaces
    if teams and not ({context.team_id, context.enterprise_id} & set(teams)):
        return False
    users = settings.slack_allowed_users
    if users and context.user_id not in users:
        return False
    channels = settings.slack_allowed_channels
    channel = context.channel_id
    if not channels or not channel:
        return True
    if channel.startswith("D"):
        return own_dm()
    return channel in channels


class _Adapter:
    """The lazy listeners: translate, call the engine, render. One turn at a time per user."""

    def __init__(self, engine: _Engine) -> None:
        self.engine = engine
        self._dms: dict[tuple[str, str], str] = {}
        self._locks = [threading.Lock() for _ in range(64)]
        self._home: dict[str, Any] | None = None

    # --- events ------------------------------------------------------------------------
    def on_message(self, body: dict[str, Any], context: Any, client: Any) -> None:
        event = body.get("event", {})
        if (
            event.get("channel_type") != "im"
            or event.get("subtype")
            or event.get("bot_id")
            or not event.get("user")
            or not self._first(body.get("event_id"))
        ):
            return
        team, user, dm = _team(context, body), event["user"], event["channel"]
        self._dms[(team, user)] = dm
        self._turn(client, dm, Inbound(_conv(team, user, dm), text=_typed(event)))

    def on_mention(self, body: dict[str, Any], context: Any, client: Any) -> None:
        """An @mention in a channel: the engine answers in shared mode; what it wants to
        continue privately goes on in the DM, the channel sees its neutral note, and anything
        else is shown only to the user (ephemeral)."""
        event = body.get("event", {})
        if event.get("bot_id") or not event.get("user") or not self._first(body.get("event_id")):
            return
        team, user, channel = _team(context, body), event["user"], event["channel"]
        if channel.startswith("D"):
            return  # a mention in the DM also arrives as a message.im event
        text = _typed(event, context.bot_user_id)
        inbound = Inbound(_conv(team, user, channel), text=text, shared=True)
        thread = event.get("thread_ts") or event.get("ts")

        def note(message: kit.SlackMessage) -> None:
            _call(
                client.chat_postMessage,
                channel=channel,
                thread_ts=thread,
                text=message.text,
                blocks=message.blocks,
            )

        def show(message: kit.SlackMessage) -> None:
            _call(
                client.chat_postEphemeral,
                channel=channel,
                user=user,
                thread_ts=thread,
                text=message.text,
                blocks=message.blocks,
            )

        self._shared_turn(client, inbound, note=note, show=show)

    def on_home(self, event: dict[str, Any], client: Any) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        if self._home is None:
            documents = self.engine.index.kb.documents.values()
            self._home = kit.home_view(list(self.engine.flows.values()), list(documents))
        _call(client.views_publish, user_id=event["user"], view=self._home)

    # --- commands ------------------------------------------------------------------------
    def on_protocol(self, body: dict[str, Any], context: Any, client: Any, respond: Any) -> None:
        self._command(body, context, client, respond, "cmd:protocol")

    def on_clause(self, body: dict[str, Any], context: Any, client: Any, respond: Any) -> None:
        self._command(body, context, client, respond, "cmd:lookup")

    def _command(
        self, body: dict[str, Any], context: Any, client: Any, respond: Any, action: str
    ) -> None:
        """Slash commands answer privately where they were typed (through the response
        URL, which also works in channels the bot is not in); flows go on in the DM."""
        if not self._first(body.get("trigger_id")):
            return
        team, user, channel = _team(context, body), body["user_id"], body.get("channel_id", "")
        text = kit.typed_text(body.get("text", "")).strip()
        dm = self._dm_for(client, team, user)
        sent = 0

        def show(message: kit.SlackMessage) -> None:
            nonlocal sent
            sent += 1
            if sent <= 5:  # a response URL takes five messages
                respond(text=message.text, blocks=message.blocks, response_type="ephemeral")

        if channel == dm and action == "cmd:protocol":
            self._turn(client, dm, Inbound(_conv(team, user, dm), text=text, action=action))
        elif channel == dm:
            inbound = Inbound(_conv(team, user, dm), text=text, action=action)
            with self._lock(inbound.conversation):
                for reply in self._handle(inbound):
                    for message in kit.render_reply(reply):
                        show(message)
        else:
            inbound = Inbound(_conv(team, user, channel), text=text, action=action, shared=True)
            self._shared_turn(client, inbound, note=show, show=show)

    # --- interactivity -----------------------------------------------------------------
    def on_action(self, body: dict[str, Any], context: Any, client: Any, respond: Any) -> None:
        action = (body.get("actions") or [{}])[0]
        value = str(action.get("value", ""))
        team, user = _team(context, body), body["user"]["id"]
        container = body.get("container", {})
        channel = container.get("channel_id") or (body.get("channel") or {}).get("id", "")
        if value.startswith(kit.CLAUSE_PREFIX):
            self._show_clause(client, body, value.removeprefix(kit.CLAUSE_PREFIX))
            return
        if not value or not self._first(body.get("trigger_id")):
            return
        # Buttons live in the DM, in ephemeral messages or on the Home tab; whichever it
        # was, the conversation is the user's DM, and only the user saw the click.
        in_dm = container.get("type") == "message" and not container.get("is_ephemeral")
        if in_dm and channel.startswith("D"):
            dm = self._dms.setdefault((team, user), channel)
        else:
            dm, in_dm = self._dm_for(client, team, user), False
        conversation = _conv(team, user, dm)
        if value.startswith(kit.FORM_PREFIX):
            self._open_draft_form(client, body.get("trigger_id"), conversation)
            return
        with self._lock(conversation):
            replies = self._handle(Inbound(conversation, action=value))
            message = body.get("message")
            taken = not any(r.refused for r in replies)  # else the question stays unanswered
            if in_dm and message and taken and any(r.options or r.navigation for r in replies):
                label = (action.get("text") or {}).get("text", value)
                _call(
                    client.chat_update,
                    channel=channel,
                    ts=message.get("ts") or container.get("message_ts"),
                    text=message.get("text") or label,
                    blocks=kit.frozen_blocks(message.get("blocks", []), label),
                )
            self._post(client, dm, replies)
        if container.get("is_ephemeral") and body.get("response_url"):
            respond(text=CHANNEL_NOTE, response_type="ephemeral", replace_original=False)

    def on_draft_edited(self, body: dict[str, Any], view: dict[str, Any], client: Any) -> None:
        if not self._first(body.get("trigger_id") or view.get("id")):
            return
        meta = json.loads(view.get("private_metadata") or "{}")
        user, team, dm = body["user"]["id"], meta["team"], meta["dm"]
        inbound = Inbound(_conv(team, user, dm), action="draft:edited", edits=kit.read_edits(view))
        self._turn(client, dm, inbound)

    # --- helpers -----------------------------------------------------------------------
    def _first(self, key: str | None) -> bool:
        """False for a delivery seen before (a Slack retry, a double submission)."""
        if not key:
            return True
        try:
            return bool(self.engine.store.first_time("slack:" + key))
        except Exception:  # a store failure surfaces in the turn itself
            log.exception("could not record delivery %s", key)
            return True

    def _lock(self, conversation: Conversation) -> threading.Lock:
        return self._locks[hash(conversation.key) % len(self._locks)]

    def _handle(self, inbound: Inbound) -> list[Reply]:
        try:
            return list(self.engine.handle(inbound))
        except Exception as exc:  # its message may quote the user: type and traceback only
            log.error("the engine failed on a Slack turn", exc_info=without_message(exc))
            return [Reply(text=FAILED, kind="error")]

    def _turn(self, client: Any, dm: str, inbound: Inbound) -> None:
        with self._lock(inbound.conversation):
            self._post(client, dm, self._handle(inbound))

    def _shared_turn(
        self,
        client: Any,
        inbound: Inbound,
        *,
        note: Callable[[kit.SlackMessage], None],
        show: Callable[[kit.SlackMessage], None],
    ) -> None:
        with self._lock(inbound.conversation):
            replies = self._handle(inbound)
        for reply in replies:
            private = reply.meta.get("continue_privately")
            if private:
                team, user = inbound.conversation.workspace, inbound.conversation.user
                dm = self._dm_for(client, team, user)
                self._turn(client, dm, Inbound(_conv(team, user, dm), action=private))
            for message in kit.render_reply(reply):
                (note if private else show)(message)

    def _post(self, client: Any, channel: str, replies: Sequence[Reply]) -> None:
        for reply in replies:
            for message in kit.render_reply(reply):
                _call(
                    client.chat_postMessage,
                    channel=channel,
                    text=message.text,
                    blocks=message.blocks,
                    unfurl_links=False,
                    unfurl_media=False,
                )
            if reply.draft is not None and kit.long_draft(reply.draft):
                draft = reply.draft  # the letter alone in its file, the notes in their own
                _call(
                    client.files_upload_v2,
                    channel=channel,
                    file_uploads=[
                        {"content": draft.text, "filename": draft.filename, "title": draft.title},
                        {
                            "content": draft.notes,
                            "filename": draft.notes_filename,
                            "title": f"{draft.title}: reviewer's notes (not to send)",
                        },
                    ],
                )

    def is_own_dm(self, client: Any, team: str, user: str | None, channel: str) -> bool:
        """Whether ``channel`` is the bot's DM with ``user`` (asked of Slack once a user);
        False when that cannot be told, so an allow-list fails closed."""
        if not user:
            return False
        try:
            return self._dm_for(client, team, user) == channel
        except Exception as exc:  # a Web API failure: deny rather than guess
            log.warning("could not tell whether a DM is the bot's own (%s)", type(exc).__name__)
            return False

    def _dm_for(self, client: Any, team: str, user: str) -> str:
        known = self._dms.get((team, user))
        if known:
            return known
        channel = str(client.conversations_open(users=user)["channel"]["id"])
        self._dms[(team, user)] = channel
        return channel

    def _open_draft_form(
        self, client: Any, trigger_id: str | None, conversation: Conversation
    ) -> None:
        """The form is prefilled from the engine's current draft: re-rendering with no
        edits returns it (answers unchanged), so the form works after a restart too."""
        with self._lock(conversation):
            replies = self._handle(Inbound(conversation, action="draft:edited", edits={}))
        drafts = [r.draft for r in replies if r.draft is not None and r.draft.fields]
        if not drafts:  # the conversation ended or expired: say so in the chat
            self._post(client, conversation.thread, [r for r in replies if r.draft is None])
            return
        meta = {"dm": conversation.thread, "team": conversation.workspace}
        _call(client.views_open, trigger_id=trigger_id, view=kit.draft_modal(drafts[-1], meta))

    def _show_clause(self, client: Any, body: dict[str, Any], clause_id: str) -> None:
        try:
            citation = self.engine.index.kb.cite(clause_id)
        except Exception:
            log.warning("no clause %r to show", clause_id)
            return
        _call(client.views_open, trigger_id=body.get("trigger_id"), view=kit.clause_modal(citation))


def _conv(team: str, user: str, dm: str) -> Conversation:
    return Conversation(channel="slack", workspace=team, user=user, thread=dm)


def _team(context: Any, body: dict[str, Any]) -> str:
    return str(context.team_id or context.enterprise_id or body.get("team_id") or "unknown")


def _typed(event: dict[str, Any], mention: str | None = None) -> str:
    text = str(event.get("text") or "")
    if mention:
        text = re.sub(rf"<@{re.escape(mention)}(\|[^>]*)?>", " ", text)
    return kit.typed_text(text).strip()


def _call(method: Callable[..., Any], **kwargs: Any) -> Any:
    """A Web API call whose failure is logged, not raised: one lost message must not stop
    the rest of a turn. Returns None on failure."""
    from slack_sdk.errors import SlackApiError, SlackClientError

    try:
        return method(**kwargs)
    except (SlackClientError, OSError) as exc:
        # Slack's error code, not the whole response, which can echo what was posted
        reason = exc.response.get("error") if isinstance(exc, SlackApiError) else exc
        log.error("Slack %s failed: %s", getattr(method, "__name__", "call"), reason)
        return None


# --- transports ------------------------------------------------------------------------
def make_http_server(
    app: Any, host: str = "127.0.0.1", port: int = 0, *, healthy: Callable[[], bool] | None = None
) -> ThreadingHTTPServer:
    """Slack's Events/Interactivity/Commands endpoint at /slack/events, and /healthz.

    ``app`` may be None to serve only the health check (Socket Mode). The request body goes
    to bolt byte for byte, where its signature and timestamp are verified.
    """
    from slack_bolt.request import BoltRequest

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            if urlsplit(self.path).path != HEALTH_PATH:
                self._send(404, "not found")
            elif healthy is None or healthy():
                self._send(200, "ok")
            else:
                self._send(503, "not connected to Slack")

        def do_POST(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            if app is None or url.path != EVENTS_PATH:
                self._send(404, "not found")
            elif length > MAX_BODY:
                self.close_connection = True
                self._send(413, "too large")
            else:
                raw = self.rfile.read(length).decode("utf-8")
                headers: dict[str, str | Sequence[str]] = {
                    key.lower(): value for key, value in self.headers.items()
                }
                response = app.dispatch(BoltRequest(body=raw, query=url.query, headers=headers))
                content_type = response.headers.get("content-type", ["text/plain"])[0]
                self._send(response.status, response.body or "", content_type)

        def _send(self, status: int, body: str, content_type: str = "text/plain") -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("http: " + format, *args)

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        # the default listen backlog (5) drops connections in a burst of Slack requests,
        # and each dropped one stalls a second until the client retries (bench/load.py)
        request_queue_size = 128

    return Server((host, port), Handler)


class SlackService:
    """A running Slack app: its transport, the /healthz endpoint and the worker threads."""

    def __init__(
        self, server: ThreadingHTTPServer, executor: ThreadPoolExecutor, handler: Any = None
    ) -> None:
        self.server = server
        self.executor = executor
        self.handler = handler  # a SocketModeHandler, or None for HTTP
        self._stop = threading.Event()
        self._serving = threading.Event()
        self._closed = threading.Lock()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def run(self) -> None:
        """Serve until :meth:`stop` (from another thread or a signal handler)."""
        if self._stop.is_set():
            return
        self._serving.set()
        if self.handler is None:
            log.info("Slack: HTTP on :%d%s (signed requests only)", self.port, EVENTS_PATH)
            self.server.serve_forever()
            return
        # the health check first: it says 503 until connected, and stop() can always shut
        # it down, even while connecting
        threading.Thread(target=self.server.serve_forever, name="healthz", daemon=True).start()
        self.handler.connect()
        log.info("Slack: Socket Mode connected; health check on :%d%s", self.port, HEALTH_PATH)
        self._stop.wait()

    def stop(self) -> None:
        """Stop taking requests, finish the turns in progress, close. Safe to call twice."""
        self._stop.set()
        if not self._closed.acquire(blocking=False):
            return
        if self._serving.is_set():
            self.server.shutdown()
        self.server.server_close()
        if self.handler is not None:
            self.handler.close()
        self.executor.shutdown(wait=True)


def open_service(
    settings: Settings,
    *,
    http: bool = False,
    port: int = 3000,
    host: str = "0.0.0.0",
    engine: _Engine | None = None,
) -> SlackService:
    """Check the settings, open the engine and build the app; nothing is served yet."""
    mode = check_settings(settings, http=http)
    try:
        import slack_bolt  # noqa: F401
    except ImportError as exc:
        raise ValueError(
            "the Slack extra is not installed: pip install 'protocol-bot[slack]'"
        ) from exc
    if engine is None:
        from bot.dialogue import FlowError, StoreError, engine_for
        from bot.kb import KnowledgeError

        try:
            engine = engine_for(settings)
        except (FlowError, KnowledgeError, StoreError) as exc:
            raise ValueError(str(exc)) from exc
    executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="protocolbot-slack")
    app = build_app(settings, engine, listener_executor=executor)
    if mode == "http":
        return SlackService(make_http_server(app, host, port), executor)
    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from slack_sdk.errors import SlackClientError

    # a rejected app token would otherwise have Socket Mode retry for ever, unhealthy
    try:
        app.client.apps_connections_open(app_token=settings.slack_app_token)
    except (SlackClientError, OSError) as exc:
        raise _token_problem(exc, app.client, "SLACK_APP_TOKEN") from None
    handler = SocketModeHandler(app, settings.slack_app_token)
    server = make_http_server(None, host, port, healthy=handler.client.is_connected)
    return SlackService(server, executor, handler)


def serve(settings: Settings, *, http: bool = False, port: int = 3000) -> None:
    """Run the Slack app until interrupted: Socket Mode when SLACK_APP_TOKEN is set (no
    public URL needed), else HTTP on ``port``. /healthz answers on ``port`` in both modes.
    SIGTERM (docker stop) lets the turns in progress finish."""
    service = open_service(settings, http=http, port=port)
    if threading.current_thread() is threading.main_thread():
        signal.signal(
            signal.SIGTERM, lambda *_: threading.Thread(target=service.stop, daemon=True).start()
        )
    try:
        service.run()
    except KeyboardInterrupt:
        pass
    finally:
        service.stop()
