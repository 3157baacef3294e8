"""The Telegram channel: updates in as :class:`Inbound`, replies out as HTML with inline keyboards.

A thin translator over the engine, in three parts:

* a gate (a :class:`TypeHandler` in group -1) that checks the allow-list for every update
  before any handler sees it, and drops duplicate deliveries;
* handlers that turn commands, typed text and button presses into one ``Engine.handle``
  call each (in a worker thread), then render and send the replies;
* sending that retries only the Bot API calls (``RetryAfter`` waits as told, network errors
  back off), so a flaky network never advances the user's step twice or loses it.

Buttons carry a short random key; the engine action it stands for, and the chat the button
was sent to, are kept in the engine's store beside the sessions (:class:`ButtonKeys`), so a
button sent before a restart still works after it, and instances sharing a PostgreSQL
database resolve each other's buttons.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import secrets
import time
import warnings
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple, Protocol, TypeVar
from urllib.parse import urlparse

try:
    from telegram import (
        BotCommand,
        BotCommandScopeAllGroupChats,
        BotCommandScopeAllPrivateChats,
        CallbackQuery,
        Chat,
        InlineKeyboardButton,
        InlineKeyboardMarkup,
        LinkPreviewOptions,
        Message,
        Update,
        User,
    )
    from telegram.constants import ChatType, ParseMode
    from telegram.error import (
        BadRequest,
        ChatMigrated,
        Forbidden,
        NetworkError,
        RetryAfter,
        TelegramError,
    )
    from telegram.ext import (
        Application,
        ApplicationHandlerStop,
        CallbackQueryHandler,
        CommandHandler,
        ContextTypes,
        ExtBot,
        MessageHandler,
        TypeHandler,
        filters,
    )
    from telegram.request import BaseRequest
    from telegram.warnings import PTBDeprecationWarning
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "The Telegram channel needs python-telegram-bot: pip install 'protocol-bot[telegram]'"
    ) from exc

from bot.channels.telegram_render import (
    MAX_TEXT,
    Button,
    DocumentOut,
    Outgoing,
    TextOut,
    render,
    utf16_len,
)
from bot.config import Settings
from bot.dialogue.messages import Conversation, Inbound, Reply
from bot.dialogue.store import SessionStore, SqliteStore, StoreError
from bot.logsafe import without_message

__all__ = [
    "AllowList",
    "ButtonKeys",
    "KeyStore",
    "TelegramChannel",
    "build_application",
    "serve",
]

log = logging.getLogger(__name__)

T = TypeVar("T")
Context = ContextTypes.DEFAULT_TYPE
App = Application[Any, Any, Any, Any, Any, Any]

TOKEN = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{30,64}$")
WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
KEY_PREFIX = "k:"
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
DELIVERY_SWEEP_SECONDS = 60.0  # how often a channel with its own store deletes old delivery ids

# command -> (engine action, menu description); the text after a command goes along with it
COMMANDS = {
    "start": ("cmd:start", "What this bot does and how to begin"),
    "protocol": ("cmd:protocol", "Start a protocol: the menu, or /protocol NAME"),
    "clause": ("cmd:lookup", "Look up a clause: /clause QUERY"),
    "back": ("nav:back", "Change your last answer"),
    "why": ("nav:why", "The clauses behind this step, in full"),
    "restart": ("nav:restart", "Start this protocol again"),
    "cancel": ("nav:cancel", "Stop and delete your answers"),
    "help": ("nav:help", "How to use this bot"),
}
# what a group chat may do: look things up, never case work
GROUP_ACTIONS = frozenset({"cmd:lookup", "cmd:start", "nav:help"})
# presses that explain rather than answer leave the pressed message as it was
EXPLAINING = frozenset({"nav:why", "nav:help"})
# replies that carry or ask for case details never go to a group
CASE_KINDS = frozenset({"question", "summary", "draft"})

REFUSE_AGAIN_AFTER = 3600.0  # one refusal per stranger per hour, not one per message
ALREADY_DONE = "Already done: that message's buttons have been used."
GROUP_REFUSAL = (
    "Sorry, this bot is only for staff who have been given access. Message me privately to "
    "find out how to ask for it."
)
UNAVAILABLE = (
    "Sorry, the bot is unavailable for a while (its access list is being updated). Please try "
    "again later; your answers so far are kept until they expire."
)
GROUP_LOOKUP_HINT = (
    "To look something up here, send /clause followed by your question, for example: "
    "/clause ombudsman decisions. Case details belong in a private chat with me."
)
SORRY = (
    "Sorry, something went wrong on my side and nothing was changed. Please try again in a moment."
)
GROUP_POINTER = (
    "Protocols involve case details, so I only run them in a private chat with you. "
    "Message me privately to start one. Here I can look up clauses: /clause QUERY."
)
RESENT = "<i>This did not reach you earlier, so here it is again:</i>"
NOT_TAKEN = (
    "<i>Your last message was not taken, as it may have answered a question you had not "
    "seen. Please answer the question above.</i>"
)
NO_BUTTONS = (
    "I couldn't attach the buttons to that just now. Type your answer instead "
    "(or a choice's number), or send /help."
)
BUTTON_UNREADABLE = "Sorry, I couldn't read that button just now. Please press it again shortly."


class EngineLike(Protocol):
    def handle(self, inbound: Inbound) -> list[Reply]: ...


class KeyStore(Protocol):
    """What the button keys need of a store: :class:`bot.dialogue.SessionStore` has it."""

    def remember(self, namespace: str, value: str, ttl_seconds: float) -> str: ...
    def recall(self, namespace: str, key: str) -> str | None: ...


# ======================================================================================
# configuration
# ======================================================================================
def check_token(token: str | None) -> str:
    if not token:
        raise ValueError(
            "TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather and set the token it gives"
        )
    token = token.strip()
    if not TOKEN.match(token):
        raise ValueError(
            "TELEGRAM_BOT_TOKEN is malformed: expected the form 123456789:AA... as @BotFather "
            "gives it"
        )
    return token


def api_urls(base: str) -> tuple[str, str]:
    """The Bot API and file URLs; a custom server may be given with or without the /bot."""
    base = base.strip().rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise ValueError(f"TELEGRAM_API_URL must be an http(s) URL, not {base!r}")
    if "{token}" in base:
        return base, base.replace("/bot{token}", "/file/bot{token}")
    if not base.endswith("/bot"):
        base += "/bot"
    return base, base[: -len("/bot")] + "/file/bot"


def _parse_ids(values: Iterable[str], where: str) -> set[int]:
    ids: set[int] = set()
    for raw in values:
        for token in re.split(r"[\s,;]+", raw.split("#", 1)[0].strip()):
            if not token:
                continue
            if not token.isdigit():
                raise ValueError(
                    f"{where}: {token!r} is not a Telegram user id. List numeric ids; usernames "
                    "can change hands, so they are not accepted. A refused user is told their id."
                )
            ids.add(int(token))
    return ids


class AllowList:
    """Telegram user ids allowed to use the bot: from settings, plus a file re-read on change.

    The file holds one id per line (commas also separate); ``#`` starts a comment. If it
    becomes unreadable or malformed while running, its ids stop counting (fail closed).
    """

    def __init__(self, users: Iterable[str] = (), file: Path | None = None) -> None:
        self._fixed = frozenset(_parse_ids(users, "TELEGRAM_ALLOWED_USERS"))
        self._file = file
        self._from_file: frozenset[int] = frozenset()
        self._stamp: tuple[int, int] | None = None
        # while the file is unusable: the ids it last held (told the bot is unavailable, not
        # refused as strangers), and the fault, logged once until the file changes again
        self._last_good: frozenset[int] = frozenset()
        self._fault: tuple[tuple[int, int] | None, str] | None = None
        if file is not None:
            if not file.is_file():
                raise ValueError(f"TELEGRAM_ALLOWLIST_FILE {file} does not exist")
            self._refresh(strict=True)

    def _refresh(self, strict: bool = False) -> None:
        if self._file is None:
            return
        stamp: tuple[int, int] | None = None
        try:
            stat = self._file.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
            if stamp == self._stamp or (self._fault is not None and self._fault[0] == stamp):
                return  # unchanged since it was read, or since it was found unusable
            lines = self._file.read_text(encoding="utf-8").splitlines()
            self._from_file = frozenset(_parse_ids(lines, str(self._file)))
            self._stamp = stamp
            if self._fault is not None:
                log.warning("allow-list file usable again: %d id(s)", len(self._from_file))
            self._fault, self._last_good = None, self._from_file
        except (OSError, ValueError) as exc:
            if strict:
                raise ValueError(str(exc)) from exc
            if self._from_file:
                self._last_good = self._from_file
            log.error("allow-list file unusable, its ids are ignored until fixed: %s", exc)
            self._from_file, self._stamp, self._fault = frozenset(), None, (stamp, str(exc))

    @property
    def configured(self) -> bool:
        self._refresh()
        return bool(self._fixed or self._from_file)

    def allows(self, user_id: int) -> bool:
        self._refresh()
        return user_id in self._fixed or user_id in self._from_file

    def held_back(self, user_id: int) -> bool:
        """Whether this user was on the file when it last worked and is refused only because
        it is unusable now: told the bot is unavailable for a while, not that they have no
        access. Call after :meth:`allows`."""
        return self._fault is not None and user_id in self._last_good


# ======================================================================================
# button keys
# ======================================================================================
@dataclass(frozen=True, slots=True)
class Pressed:
    chat: str
    action: str


class ButtonKeys:
    """Short random keys for engine actions, bound to the chat the button was sent to, kept
    in the engine's store (namespace ``telegram-button``, value ``"<chat id> <action>"``).

    Telegram gives a button 64 bytes of callback data; the key takes 14 with its prefix. The
    same action in the same chat gets the same key while it is kept, so the store grows with
    distinct buttons, not with messages. A key is kept for ``ttl`` seconds after its button
    was last sent; then it is swept by the store's ``expire`` (the running bot's sweep, or
    ``protocolbot purge``) and an older button asks the user to start again. Only engine
    action values and chat ids are stored, never what a user typed.
    """

    NAMESPACE = "telegram-button"

    def __init__(self, store: KeyStore, ttl: float = 30 * 86400) -> None:
        self.store = store
        self.ttl = ttl

    def key_for(self, chat: str, action: str) -> str:
        return self.store.remember(self.NAMESPACE, f"{chat} {action}", self.ttl)

    def keys_for(self, chat: str, actions: Iterable[str]) -> dict[str, str]:
        """The key of each action, for one keyboard (in a worker thread: one store call each)."""
        return {action: self.key_for(chat, action) for action in dict.fromkeys(actions)}

    def lookup(self, key: str) -> Pressed | None:
        value = self.store.recall(self.NAMESPACE, key)
        if value is None:
            return None
        chat, _, action = value.partition(" ")
        return Pressed(chat, action) if chat and action else None


# ======================================================================================
# the channel
# ======================================================================================
def _retry_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # int vs timedelta: PTB is changing the type
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _for_another_bot(update: Update, context: Context) -> bool:
    """A command addressed to another bot in a group ("/start@otherbot"): not ours at all,
    so neither answered nor refused."""
    message = update.effective_message
    text = message.text if message is not None and update.callback_query is None else None
    if not text or not text.startswith("/"):
        return False
    head = text.split(maxsplit=1)[0]
    _, at, name = head.partition("@")
    return bool(at) and name.lower() != (context.bot.username or "").lower()


def _command(text: str) -> tuple[str, str]:
    """ "/clause@bot lgo 17" -> ("clause", "lgo 17")."""
    head, *rest = text.strip().split(maxsplit=1)
    return head[1:].split("@", 1)[0].lower(), rest[0].strip() if rest else ""


class TelegramChannel:
    """Handlers and sending for one bot; :func:`build_application` wires it up."""

    def __init__(
        self,
        engine: EngineLike,
        access: AllowList,
        buttons: ButtonKeys,
        deliveries: SessionStore,
        *,
        attempts: int = 5,
        backoff: float = 1.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        sweep_seconds: float | None = None,
    ) -> None:
        """``sweep_seconds``: how often to delete old delivery ids and button keys from
        ``deliveries`` when it is this channel's own store; None when the engine's sweep
        already looks after it."""
        self.engine = engine
        self.access = access
        self.buttons = buttons
        self.deliveries = deliveries
        self.sweep_seconds = sweep_seconds
        self._last_sweep = time.monotonic()
        self.attempts = attempts
        self.backoff = backoff
        self.sleep = sleep
        self._refused: dict[int, float] = {}
        self._outbox: dict[int, list[Outgoing]] = {}

    def install(self, app: App) -> None:
        only_new = filters.UpdateType.MESSAGE  # an edited message is not a second answer
        private = filters.ChatType.PRIVATE
        app.add_handler(TypeHandler(Update, self.gate), group=-1)
        app.add_handler(CommandHandler(list(COMMANDS), self.on_command, filters=only_new))
        app.add_handler(MessageHandler(only_new & filters.COMMAND & private, self.on_unknown))
        text = only_new & filters.TEXT & ~filters.COMMAND
        app.add_handler(MessageHandler(text & private, self.on_text))
        app.add_handler(MessageHandler(text & filters.ChatType.GROUPS, self.on_group_text))
        app.add_handler(MessageHandler(only_new & private & ~filters.TEXT, self.on_other))
        app.add_handler(CallbackQueryHandler(self.on_button))
        app.add_error_handler(self.on_error)

    # --- the gate --------------------------------------------------------------------------
    async def gate(self, update: Update, context: Context) -> None:
        """Runs before every handler: duplicates, strangers and what is not for us stop here.
        A button press that stops here is still answered, or its spinner turns for ever."""
        query = update.callback_query
        if not await self._first_delivery(context, update.update_id):
            if query is not None:
                await self._answer(query)
            raise ApplicationHandlerStop
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None or user.is_bot:
            if query is not None:  # e.g. a button on a message too old for Telegram to send
                await self._answer(query, "This button has expired. Send /protocol to start again.")
            raise ApplicationHandlerStop
        if _for_another_bot(update, context):
            raise ApplicationHandlerStop
        if not self.access.allows(user.id):
            if self.access.held_back(user.id):
                await self._unavailable(update, context)
            else:
                await self._refuse(update, context, user, chat)
            raise ApplicationHandlerStop
        if chat.id in self._outbox:
            await self._resend(update, context)

    async def _first_delivery(self, context: Context, update_id: int) -> bool:
        """Deliveries are recorded in the engine's store, so instances sharing a database (or a
        restarted one) drop a webhook retry that was handled already."""
        bot_id = context.bot.token.partition(":")[0]  # update ids are counted per bot
        key = f"telegram:{bot_id}:{update_id}"
        try:
            if (
                self.sweep_seconds is not None
                and time.monotonic() - self._last_sweep >= self.sweep_seconds
            ):
                self._last_sweep = time.monotonic()
                await asyncio.to_thread(self.deliveries.expire)
            return bool(await asyncio.to_thread(self.deliveries.first_time, key))
        except Exception as exc:  # a store failure surfaces in the turn itself
            log.warning("could not record update %s: %s", update_id, type(exc).__name__)
            return True

    async def _unavailable(self, update: Update, context: Context) -> None:
        if update.callback_query is not None:
            await self._answer(update.callback_query, UNAVAILABLE)
        elif update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE:
            await self._send_all(context.bot, _where(update), [TextOut(UNAVAILABLE)])

    async def _refuse(self, update: Update, context: Context, user: User, chat: Chat) -> None:
        if self.access.configured:
            text = (
                "Sorry, this bot is only for staff who have been given access. If you should "
                "have it, ask your administrator to add your Telegram user id: "
                f"<code>{user.id}</code>"
            )
        else:
            text = (
                "This bot is locked: no one has been given access yet. An administrator lists "
                "Telegram user ids in TELEGRAM_ALLOWED_USERS or in the file named by "
                "TELEGRAM_ALLOWLIST_FILE (see docs/telegram.md). Your Telegram user id is "
                f"<code>{user.id}</code>"
            )
        log.info("refused update %s from a user not on the allow-list", update.update_id)
        if update.callback_query is not None:
            await self._answer(update.callback_query, "Sorry, this bot is not available to you.")
            return
        message = update.effective_message
        addressed = chat.type == ChatType.PRIVATE or bool(
            message and message.text and message.text.startswith("/")
        )
        now = time.monotonic()
        last = self._refused.get(user.id)
        if not addressed or (last is not None and now - last < REFUSE_AGAIN_AFTER):
            return
        if chat.type != ChatType.PRIVATE:  # others read a group: no user id there
            text = html.escape(GROUP_REFUSAL, quote=False)
        self._refused = {u: t for u, t in self._refused.items() if now - t < REFUSE_AGAIN_AFTER}
        self._refused[user.id] = now
        await self._send_all(context.bot, _where(update), [TextOut(text)])

    async def _resend(self, update: Update, context: Context) -> None:
        """Deliver what an outage swallowed before anything new, so no step goes unseen."""
        where = _where(update)
        # the announcement once, however many outages the held replies have been through
        pending = [i for i in self._outbox.pop(where.chat) if i != TextOut(RESENT)]
        if update.callback_query is not None:
            await self._answer(update.callback_query)
        message = update.effective_message
        command = (
            update.callback_query is None
            and message is not None
            and (message.text or "").startswith("/")
        )
        tail = [] if command else [TextOut(NOT_TAKEN)]
        await self._send_all(context.bot, where, [TextOut(RESENT), *pending, *tail])
        if not command:
            raise ApplicationHandlerStop  # it answered a question the user had not seen

    # --- handlers ----------------------------------------------------------------------------
    def _conversation(self, context: Context, user: User, chat: Chat) -> Conversation:
        return Conversation("telegram", str(context.bot.id), str(user.id), str(chat.id))

    async def on_command(self, update: Update, context: Context) -> None:
        message, user, chat = update.effective_message, update.effective_user, update.effective_chat
        if message is None or user is None or chat is None or not message.text:
            return
        name, rest = _command(message.text)
        action = COMMANDS[name][0]
        shared = chat.type != ChatType.PRIVATE
        if shared and action not in GROUP_ACTIONS:
            await self._send_all(context.bot, _where(update), [self._pointer(context)])
            return
        text = "" if action == "cmd:start" else rest  # /start's payload is a deep-link tag
        conversation = self._conversation(context, user, chat)
        inbound = Inbound(conversation, text, action, shared=shared)
        await self._turn(context, _where(update), inbound)

    async def on_unknown(self, update: Update, context: Context) -> None:
        names = " ".join(f"/{name}" for name in COMMANDS)
        text = f"I don't know that command. These are the ones I know: {names}"
        await self._send_all(context.bot, _where(update), [TextOut(text)])

    async def on_text(self, update: Update, context: Context) -> None:
        message, user, chat = update.effective_message, update.effective_user, update.effective_chat
        if message is None or user is None or chat is None or message.text is None:
            return
        conversation = self._conversation(context, user, chat)
        await self._turn(context, _where(update), Inbound(conversation, message.text))

    async def on_group_text(self, update: Update, context: Context) -> None:
        """In a group, text addressed to the bot is a look-up; everything else is not for us."""
        message, user, chat = update.effective_message, update.effective_user, update.effective_chat
        if message is None or user is None or chat is None or message.text is None:
            return
        mention = f"@{context.bot.username}"
        replied_to = message.reply_to_message.from_user if message.reply_to_message else None
        replying = replied_to is not None and replied_to.id == context.bot.id
        if mention.lower() not in message.text.lower() and not replying:
            return
        query = re.sub(re.escape(mention), " ", message.text, flags=re.IGNORECASE).strip()
        conversation = self._conversation(context, user, chat)
        inbound = Inbound(conversation, query, "cmd:lookup", shared=True)
        await self._turn(context, _where(update), inbound)

    async def on_other(self, update: Update, context: Context) -> None:
        text = "I can only read text. Type your answer, or use the buttons."
        await self._send_all(context.bot, _where(update), [TextOut(text)])

    async def on_button(self, update: Update, context: Context) -> None:
        query, user, chat = update.callback_query, update.effective_user, update.effective_chat
        if query is None or user is None:
            return
        data = query.data or ""
        key = data.removeprefix(KEY_PREFIX) if data.startswith(KEY_PREFIX) else ""
        try:
            pressed = await asyncio.to_thread(self.buttons.lookup, key) if key else None
        except StoreError as exc:  # the store is unreachable: nothing happened, press again
            log.warning("could not look up a button key: %s", type(exc).__name__)
            await self._answer(query, BUTTON_UNREADABLE, alert=True)
            return
        if chat is None or pressed is None or pressed.chat != str(chat.id):
            # an expired key, or a button carried to another chat: it means nothing here
            await self._answer(query, "This button has expired. Send /protocol to start again.")
            return
        shared = chat.type != ChatType.PRIVATE
        if shared and pressed.action not in GROUP_ACTIONS:
            await self._answer(query, "Protocols run in a private chat with me.", alert=True)
            return
        if pressed.action not in EXPLAINING and not await self._first_press(context, query):
            # a double tap: the message's buttons have done their work once already
            await self._answer(query, ALREADY_DONE)
            return
        await self._answer(query)
        if shared and pressed.action == "cmd:lookup":
            # in a group only /clause and mentions reach the bot: "? question" would not
            await self._send_all(context.bot, _where(update), [TextOut(GROUP_LOOKUP_HINT)])
            return
        conversation = self._conversation(context, user, chat)
        inbound = Inbound(conversation, action=pressed.action, shared=shared)
        where = _where(update)
        replies = await self._handle(context, where, inbound)
        if replies is None:
            return
        # a press the engine did not take leaves its question as it was, not marked answered
        if pressed.action not in EXPLAINING and not any(r.refused for r in replies):
            await self._mark_chosen(context, query)
        await self.deliver(context, where, replies, shared=shared)

    async def _first_press(self, context: Context, query: CallbackQuery) -> bool:
        """Whether this is the first press that does something on its message: each message's
        buttons act once (Back, "Yes, draft it", an answer), so a double tap goes back once
        and drafts once. Recorded in the store like deliveries, so every instance agrees."""
        message = query.message
        if not isinstance(message, Message):
            return True
        mark = f"telegram-press:{context.bot.id}:{message.chat_id}:{message.message_id}"
        try:
            return bool(await asyncio.to_thread(self.deliveries.first_time, mark))
        except Exception as exc:  # a store failure surfaces in the turn itself
            log.warning("could not record a button press: %s", type(exc).__name__)
            return True

    async def on_error(self, update: object, context: Context) -> None:
        # no update contents in the log: they may hold case details
        update_id = update.update_id if isinstance(update, Update) else None
        error = context.error
        log.error(
            "error handling update %s",
            update_id,
            exc_info=without_message(error) if error is not None else None,
        )

    # --- one turn ----------------------------------------------------------------------------
    async def _turn(self, context: Context, where: Where, inbound: Inbound) -> None:
        replies = await self._handle(context, where, inbound)
        if replies is not None:
            await self.deliver(context, where, replies, shared=inbound.shared)

    async def _handle(self, context: Context, where: Where, inbound: Inbound) -> list[Reply] | None:
        """The one engine call of an update; never retried, so a step advances at most once."""
        try:
            return await asyncio.to_thread(self.engine.handle, inbound)
        except Exception as exc:  # its message may quote the user: type and traceback only
            log.error(
                "the engine failed on a turn in chat %s", where.chat, exc_info=without_message(exc)
            )
            await self._send_all(context.bot, where, [TextOut(SORRY)])
            return None

    async def deliver(
        self, context: Context, where: Where, replies: list[Reply], *, shared: bool
    ) -> None:
        if shared:
            replies = _group_view(replies)
            if not replies:
                await self._send_all(context.bot, where, [self._pointer(context)])
                return
        items = [item for reply in replies for item in render(reply)]
        await self._send_all(context.bot, where, items)

    def _pointer(self, context: Context) -> TextOut:
        link = Button("Message me privately", "", url=f"https://t.me/{context.bot.username}")
        return TextOut(html.escape(GROUP_POINTER, quote=False), ((link,),))

    async def _mark_chosen(self, context: Context, query: CallbackQuery) -> None:
        """Note the choice under the pressed message and drop its keyboard: a transcript."""
        message = query.message
        if not isinstance(message, Message):
            return  # too old for Telegram to show us
        label = next(
            (
                button.text
                for row in (message.reply_markup.inline_keyboard if message.reply_markup else ())
                for button in row
                if button.callback_data == query.data
            ),
            None,
        )
        marked = ""
        if message.text and label:
            marked = f"{message.text_html}\n\n» <i>{html.escape(label, quote=False)}</i>"
        chat_id, message_id = message.chat_id, message.message_id
        call: Callable[[], Awaitable[object]]
        if marked and utf16_len(marked) <= MAX_TEXT:
            call = partial(
                context.bot.edit_message_text,
                marked,
                chat_id=chat_id,
                message_id=message_id,
                parse_mode=ParseMode.HTML,
                link_preview_options=NO_PREVIEW,
            )
        else:
            call = partial(
                context.bot.edit_message_reply_markup,
                chat_id=chat_id,
                message_id=message_id,
                reply_markup=None,
            )
        try:
            await self._retrying(call)
        except TelegramError as exc:  # cosmetic: the turn itself has been handled
            log.info("could not mark the pressed button: %s", exc)

    # --- sending -------------------------------------------------------------------------------
    async def _markup(self, chat_id: int, item: TextOut) -> InlineKeyboardMarkup | None:
        """The keyboard with each action swapped for its key; StoreError if keys cannot be
        kept (the store is unreachable)."""
        if not item.keyboard:
            return None
        actions = [button.action for row in item.keyboard for button in row if not button.url]
        keys = (
            await asyncio.to_thread(self.buttons.keys_for, str(chat_id), actions) if actions else {}
        )
        return InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(button.label, url=button.url)
                    if button.url
                    else InlineKeyboardButton(
                        button.label, callback_data=KEY_PREFIX + keys[button.action]
                    )
                    for button in row
                ]
                for row in item.keyboard
            ]
        )

    async def _send_all(self, bot: ExtBot[Any], where: Where, items: list[Outgoing]) -> None:
        """Send in order; what cannot be sent after retries waits for the user's next message.

        A keyboard whose keys cannot be kept (the store is unreachable) is left off, and a note
        at the end says to type the answer instead: the turn has happened either way."""
        chat_id, topic = where
        unbuttoned = False
        for index, item in enumerate(items):
            call: Callable[[], Awaitable[Message]]
            if isinstance(item, DocumentOut):
                call = partial(
                    bot.send_document,
                    chat_id,
                    item.content,
                    filename=item.filename,
                    caption=item.caption,
                    parse_mode=ParseMode.HTML,
                    message_thread_id=topic,
                )
            else:
                try:
                    markup = await self._markup(chat_id, item)
                except StoreError as exc:
                    log.warning("buttons left off a message to chat %s: %s", chat_id, exc)
                    markup, unbuttoned = None, True
                call = partial(
                    bot.send_message,
                    chat_id,
                    item.html,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                    link_preview_options=NO_PREVIEW,
                    message_thread_id=topic,
                )
            try:
                await self._retrying(call)
            except BadRequest as exc:
                log.error("Telegram rejected a message to chat %s: %s", chat_id, exc)
            except (NetworkError, RetryAfter) as exc:
                held = len(items) - index
                log.warning("chat %s unreachable, %d message(s) held: %s", chat_id, held, exc)
                self._outbox.setdefault(chat_id, []).extend(items[index:])
                return
            except (Forbidden, ChatMigrated) as exc:
                log.warning("cannot write to chat %s: %s", chat_id, exc)
                return
            except TelegramError as exc:
                log.error("Bot API error writing to chat %s: %s", chat_id, exc)
                return
        if unbuttoned:
            await self._send_all(bot, where, [TextOut(html.escape(NO_BUTTONS, quote=False))])

    async def _retrying(self, call: Callable[[], Awaitable[T]]) -> T:
        """Retry one Bot API call: flood limits as Telegram says, network errors with backoff."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return await call()
            except BadRequest:
                raise  # a NetworkError by inheritance, but retrying will not change the answer
            except RetryAfter as exc:
                if attempt >= self.attempts:
                    raise
                wait = _retry_seconds(exc)
            except NetworkError:  # TimedOut included
                if attempt >= self.attempts:
                    raise
                wait = min(self.backoff * 2 ** (attempt - 1), 30.0)
            log.info("Bot API call failed (attempt %d), retrying in %.1fs", attempt, wait)
            await self.sleep(wait)

    async def _answer(
        self, query: CallbackQuery, text: str | None = None, alert: bool = False
    ) -> None:
        try:
            await self._retrying(partial(query.answer, text, show_alert=alert))
        except TelegramError as exc:  # e.g. "query is too old": nothing left to stop spinning
            log.info("could not answer a button press: %s", exc)


class Where(NamedTuple):
    chat: int
    topic: int | None = None  # a forum topic in a group


def _where(update: Update) -> Where:
    chat, message = update.effective_chat, update.effective_message
    assert chat is not None  # the gate lets no update without a chat through
    topic = message.message_thread_id if message and message.is_topic_message else None
    return Where(chat.id, topic)


def _group_view(replies: list[Reply]) -> list[Reply]:
    """What a group may see: no questions, summaries or drafts, and only look-up buttons."""
    return [
        replace(
            reply,
            options=tuple(o for o in reply.options if o.value in GROUP_ACTIONS),
            navigation=(),
        )
        for reply in replies
        if reply.kind not in CASE_KINDS and reply.draft is None
    ]


# ======================================================================================
# wiring
# ======================================================================================
async def _post_init(app: App) -> None:
    private = [BotCommand(name, about) for name, (_, about) in COMMANDS.items()]
    groups = [BotCommand(name, COMMANDS[name][1]) for name in ("clause", "help")]
    try:
        await app.bot.set_my_commands(private, scope=BotCommandScopeAllPrivateChats())
        await app.bot.set_my_commands(groups, scope=BotCommandScopeAllGroupChats())
    except TelegramError as exc:  # the menu is a convenience; the bot works without it
        log.warning("could not set the command menu: %s", exc)


def build_application(
    settings: Settings,
    engine: EngineLike,
    *,
    request: BaseRequest | None = None,
    store: KeyStore | None = None,
) -> App:
    """The PTB application for ``settings``; ``request`` replaces the HTTP layer (tests).

    Button keys are kept in ``store``, by default the engine's session store (so in the
    session database, shared by every instance that uses it); deliveries are recorded in the
    engine's store. An engine without a store gets a store in memory for both."""
    token = check_token(settings.telegram_bot_token)
    access = AllowList(settings.telegram_allowed_users, settings.telegram_allowlist_file)
    if not access.configured:
        log.warning(
            "no Telegram allow-list configured: the bot refuses everyone. Set "
            "TELEGRAM_ALLOWED_USERS or TELEGRAM_ALLOWLIST_FILE."
        )
    base_url, file_url = api_urls(settings.telegram_api_url)
    own: SessionStore | None = getattr(engine, "store", None)
    if own is None:
        log.warning(
            "the engine has no store: button keys and deliveries are kept in memory, "
            "not across restarts"
        )
        own = SqliteStore(":memory:")
        sweep: float | None = DELIVERY_SWEEP_SECONDS  # nobody else sweeps this one
    else:
        sweep = None
    channel = TelegramChannel(
        engine, access, ButtonKeys(own if store is None else store), own, sweep_seconds=sweep
    )
    builder = (
        Application.builder()
        .token(token)
        .base_url(base_url)
        .base_file_url(file_url)
        .post_init(_post_init)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    app = builder.build()
    channel.install(app)
    app.bot_data["channel"] = channel
    return app


def serve(settings: Settings, *, listen: str = "0.0.0.0", port: int = 8443) -> None:
    """Run until interrupted: long polling, or a webhook when TELEGRAM_WEBHOOK_URL is set.

    ``listen`` and ``port`` are where the webhook server binds (behind your TLS proxy).
    """
    check_token(settings.telegram_bot_token)  # fail before loading the knowledge base
    webhook = _webhook(settings) if settings.telegram_webhook_url else None
    from bot.dialogue import FlowError, StoreError, engine_for
    from bot.kb import KnowledgeError

    try:
        engine = engine_for(settings)
    except (FlowError, KnowledgeError, StoreError) as exc:  # the CLI prints it, no traceback
        raise ValueError(str(exc)) from exc
    app = build_application(settings, engine)
    if webhook is None:
        app.run_polling(allowed_updates=UPDATES)
    else:
        url, secret = webhook
        app.run_webhook(
            listen=listen,
            port=port,
            url_path=urlparse(url).path.lstrip("/"),
            webhook_url=url,
            secret_token=secret,
            allowed_updates=UPDATES,
        )


def _webhook(settings: Settings) -> tuple[str, str]:
    """The webhook URL and the secret Telegram must send with every update."""
    import importlib.util

    url = settings.telegram_webhook_url or ""
    if not url.startswith("https://"):
        raise ValueError("TELEGRAM_WEBHOOK_URL must be an https:// URL Telegram can reach")
    secret = settings.telegram_webhook_secret
    if secret is None:
        secret = secrets.token_urlsafe(32)  # registered with the webhook at each start
        log.info("TELEGRAM_WEBHOOK_SECRET not set: using a random secret for this run")
    elif not WEBHOOK_SECRET.match(secret):
        raise ValueError("TELEGRAM_WEBHOOK_SECRET: 1-256 characters of A-Z, a-z, 0-9, _ and -")
    if importlib.util.find_spec("tornado") is None:
        raise ValueError(
            "webhook mode needs python-telegram-bot's webhook server: "
            "pip install 'python-telegram-bot[webhooks]' (or unset TELEGRAM_WEBHOOK_URL to poll)"
        )
    return url, secret
