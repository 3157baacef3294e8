"""The Telegram channel driven as Telegram drives it: Bot API update JSON in, Bot API calls out.

Every test feeds real update payloads through ``Application.process_update``; the bot's HTTP
layer is ``FakeBotAPI``, so nothing leaves the process and every call is recorded.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from telegram_fakes import (
    ALICE,
    BOB,
    BOT,
    STRANGER,
    TEAM,
    TOKEN,
    FakeBotAPI,
    Harness,
    Recording,
    Scripted,
    button_data,
    callback_update,
    message_update,
    parse_html,
    private_chat,
    utf16,
    walk,
)

from bot.channels.telegram import (
    AllowList,
    api_urls,
    build_application,
    check_token,
    serve,
)
from bot.config import Settings
from bot.dialogue import Engine, SqliteStore, StoreUnavailable, open_engine, open_store
from bot.dialogue.messages import NAVIGATION, Draft, Inbound, Option, Reply
from bot.paths import flows_dir


def _drafts(path: Path) -> bool:
    return any("draft" in step for step in yaml.safe_load(path.read_text("utf-8"))["steps"])


# the flows that end in a draft (partner_disagreement and media_interest only guide)
FLOWS = sorted(path.stem for path in flows_dir().glob("*.yaml") if _drafts(path))

Start = Callable[..., Harness]


@pytest.fixture
def start(make_engine: Callable[..., Engine], db_path: Path) -> Iterator[Start]:
    """Start the bot (a new Application and, unless given, a new real engine on db_path)."""
    running: list[Harness] = []

    def make(engine: Any = None, **options: Any) -> Harness:
        database = options.pop("database", db_path)
        harness = Harness(engine or Recording(make_engine()), database, **options)
        running.append(harness)
        return harness

    yield make
    for harness in running:
        harness.close()


def only(calls: list[Any], method: str) -> Any:
    matching = [c for c in calls if c.method == method]
    assert len(matching) == 1, [c.method for c in calls]
    return matching[0]


def begin(h: Harness, flow: str) -> list[Any]:
    h.say("/protocol")
    return h.press(h.engine.flows[flow].title)


# ======================================================================================
# flows, end to end by button presses
# ======================================================================================
@pytest.mark.parametrize("flow", FLOWS)
def test_each_flow_runs_to_its_drafts_by_button_presses(start: Start, flow: str) -> None:
    h = start()
    calls = begin(h, flow)
    assert [c.method for c in calls][:2] == ["answerCallbackQuery", "editMessageText"]
    assert h.engine.inbounds[-1].action == f"flow:{flow}"

    # "recommendations": an Ombudsman decision that recommended changes leads on to the note;
    # "consent": a registration check is only drafted once the person has consented;
    # "sender": its sender's answer must include an email address;
    # "person_agrees": an advocacy referral is only drafted once it is agreed to
    walk(
        h,
        h.engine,
        answers={
            "immediate_danger": "No",
            "child_at_risk": "No",
            "recommendations": "Yes",
            "consent": "Yes",
            "person_agrees": "Yes",
            "sender": "Sam Patel, sam.patel@ofsted.example.invalid",
        },
    )

    documents = h.api.of("sendDocument")
    drafts = [r.draft for batch in h.engine.replies for r in batch if r.draft]
    assert drafts, "the flow produced no draft"
    # each draft as two files: the letter alone, and the reviewer's notes beside it
    assert [d.files["document"][0] for d in documents] == [
        name for d in drafts for name in (d.filename, d.notes_filename)
    ]
    for (letter, notes), draft in zip(
        zip(documents[::2], documents[1::2], strict=True), drafts, strict=True
    ):
        assert letter.files["document"][1].decode("utf-8") == draft.text
        assert notes.files["document"][1].decode("utf-8") == draft.notes
        assert "Sources:" in draft.notes and "Sources:" not in draft.text
        assert letter.params["chat_id"] == notes.params["chat_id"] == ALICE["id"]
    # every press was answered, and every button fits Telegram's 64 bytes
    presses = sum(1 for i in h.engine.inbounds if i.action and not i.action.startswith("cmd:"))
    assert len(h.api.of("answerCallbackQuery")) == presses
    for call in h.api.calls:
        for row in call.keyboard:
            for button in row:
                assert len(button["callback_data"].encode()) <= 64
    assert all(not i.shared for i in h.engine.inbounds)


def test_a_pressed_button_is_recorded_on_its_message_and_its_keyboard_dropped(start: Start) -> None:
    h = start()
    begin(h, "safeguarding_concern")
    question = h.last_keyboard()
    calls = h.press("No")

    assert [c.method for c in calls][:2] == ["answerCallbackQuery", "editMessageText"]
    edit = only(calls, "editMessageText")
    assert edit.params["message_id"] == question["message_id"]
    assert "reply_markup" not in edit.params  # the old keyboard goes
    assert parse_html(edit.params["text"]).endswith("» No")
    assert h.engine.inbounds[-1].action == "ans:immediate_danger:no"


def test_back_reasks_the_previous_question(start: Start) -> None:
    h = start()
    begin(h, "safeguarding_concern")
    h.press("No")  # immediate danger
    assert h.engine.last("question").step == "child_age"

    calls = h.press("Back")

    assert h.engine.inbounds[-1].action == "nav:back"
    assert parse_html(only(calls, "editMessageText").params["text"]).endswith("» Back")
    asked = h.api.texts(len(h.api.calls) - len(calls))
    assert any("Is a child in immediate danger" in t for t in asked)
    assert h.engine.last("question").step == "immediate_danger"
    h.press("Yes")
    assert h.engine.inbounds[-1].action == "ans:immediate_danger:yes"


def test_slash_commands_reach_the_engine_as_navigation(start: Start) -> None:
    engine = Scripted()
    h = start(engine)
    for command, action in [
        ("/back", "nav:back"),
        ("/why", "nav:why"),
        ("/restart", "nav:restart"),
        ("/cancel", "nav:cancel"),
        ("/help", "nav:help"),
        ("/start", "cmd:start"),
        ("/protocol lgo complaint", "cmd:protocol"),
        ("/clause lgo 17", "cmd:lookup"),
    ]:
        h.say(command)
        assert engine.inbounds[-1].action == action
    assert engine.inbounds[-2].text == "lgo complaint"
    assert engine.inbounds[-1].text == "lgo 17"
    conversation = engine.inbounds[-1].conversation
    assert (conversation.channel, conversation.workspace) == ("telegram", str(BOT["id"]))
    assert (conversation.user, conversation.thread) == (str(ALICE["id"]), str(ALICE["id"]))


def test_changing_an_answer_from_the_summary_redrafts(start: Start) -> None:
    h = start()
    begin(h, "lgo_complaint")
    walk(h, h.engine, {"complainant_name": "Ms Old"}, stop_at="summary")
    h.press("Change an answer")
    h.press("Complainant")
    assert h.engine.last("question").step == "complainant_name"
    h.say("Mr New")

    walk(h, h.engine)

    letter = h.api.of("sendDocument")[-2].files["document"][1].decode()  # then its notes
    assert "Mr New" in letter and "Ms Old" not in letter


# ======================================================================================
# escaping and length
# ======================================================================================
def test_typed_html_is_escaped_everywhere_it_is_echoed(start: Start) -> None:
    h = start()
    begin(h, "lgo_complaint")
    walk(h, h.engine, {"complainant_name": "<b>Ms Jones</b> & Sons", "council_name": "A&B <i>"})

    summary = next(
        c for c in h.api.of("sendMessage") if "please check your answers" in c.params["text"]
    )
    assert "&lt;b&gt;Ms Jones&lt;/b&gt; &amp; Sons" in summary.params["text"]
    assert "A&amp;B &lt;i&gt;" in summary.params["text"]
    assert "<b>Ms Jones</b> & Sons" in parse_html(summary.params["text"])  # shown as typed
    letter = h.api.of("sendDocument")[-2].files["document"][1].decode()  # then its notes
    assert "<b>Ms Jones</b> & Sons" in letter  # the .txt holds exactly what was typed
    # FakeBotAPI rejects what Telegram would: no call was refused
    assert not h.api.rejected


def test_markup_in_engine_text_labels_and_clauses_is_escaped(start: Start) -> None:
    from bot.kb.model import Citation, CurrencyNote

    cite = Citation(
        "doc/1",
        "Protocol <2016> & annex",
        "Ofsted & the LGO <will> share",
        "historical",
        (CurrencyNote(text="Renamed <LGSCO> & co", source="a&b"),),
    )
    reply = Reply(
        "Pick <one> & go",
        kind="question",
        options=(Option("<b>Yes</b> & more", "ans:x:yes"),),
        citations=(cite,),
    )
    h = start(Scripted(reply))
    calls = h.say("hi")
    sent = only(calls, "sendMessage")
    text = sent.params["text"]
    for raw in ["Pick <one> & go", "Protocol <2016> & annex", "Ofsted & the LGO <will> share"]:
        assert raw in parse_html(text)
    assert "&lt;one&gt; &amp; go" in text
    assert sent.labels == ["<b>Yes</b> & more"]  # button labels are plain text
    h.press("<b>Yes</b> & more")
    edit = h.api.of("editMessageText")[-1]
    assert parse_html(edit.params["text"]).endswith("» <b>Yes</b> & more")


def test_a_reply_over_4096_characters_is_split_at_paragraphs(start: Start) -> None:
    paragraphs = [f"Paragraph {n}: " + "word & <tag> " * 60 for n in range(12)]
    long = "\n\n".join(paragraphs)
    assert utf16(long) > 4096 * 2
    reply = Reply(long, kind="guidance", options=(Option("Next", "ans:x:next"),))
    h = start(Scripted(reply))

    sent = h.say("hi")

    messages = [c for c in sent if c.method == "sendMessage"]
    assert len(messages) >= 3
    plain = [parse_html(c.params["text"]) for c in messages]
    assert all(
        utf16(p) <= 4096 and utf16(c.params["text"]) <= 4096
        for p, c in zip(plain, messages, strict=True)
    )
    # nothing lost, cut only between paragraphs
    assert "\n\n".join(plain) == "\n\n".join(p.strip() for p in paragraphs)
    assert [bool(c.keyboard) for c in messages] == [False] * (len(messages) - 1) + [True]


def test_a_draft_is_sent_as_the_letter_and_its_notes_in_two_text_documents(
    start: Start,
) -> None:
    draft = Draft(
        "Referral <to> council",
        "Dear team,\n\nA & B.\n",
        "referral.txt",
        notes="Before sending:\n- Check <this>.\n",
    )
    h = start(Scripted(Reply("Here it is", kind="draft", draft=draft)))

    calls = h.say("hi")

    assert [c.method for c in calls] == ["sendMessage", "sendDocument", "sendDocument"]
    letter, notes = calls[1], calls[2]
    assert letter.files["document"][:2] == ("referral.txt", b"Dear team,\n\nA & B.\n")
    assert notes.files["document"][0] == "referral.notes.txt"
    assert notes.files["document"][1] == b"Before sending:\n- Check <this>.\n"
    assert parse_html(letter.params["caption"]) == "Referral <to> council"
    assert "reviewer's notes" in parse_html(notes.params["caption"])
    shown = calls[0].params["text"]
    assert "<pre>Dear team,\n\nA &amp; B.</pre>" in shown
    # the notes are shown apart, after the letter, never inside its copyable block
    assert (
        shown.index("</pre>") < shown.index("Reviewer's notes") < shown.index("Check &lt;this&gt;.")
    )


# ======================================================================================
# locked down by default
# ======================================================================================
def test_a_stranger_gets_one_polite_refusal_and_nothing_reaches_the_engine(start: Start) -> None:
    h = start()

    first = h.say("/start", user=STRANGER)
    second = h.say("I have a concern about a child", user=STRANGER)

    refusal = only(first, "sendMessage")
    assert refusal.params["chat_id"] == STRANGER["id"]
    text = parse_html(refusal.params["text"])
    assert str(STRANGER["id"]) in text and "access" in text
    assert second == []  # one refusal, not one per message
    assert h.engine.inbounds == []


def test_with_no_allow_list_everyone_is_refused_and_told_how_to_configure(start: Start) -> None:
    h = start(allowed=())

    calls = h.say("/protocol")

    text = parse_html(only(calls, "sendMessage").params["text"])
    assert "TELEGRAM_ALLOWED_USERS" in text and "TELEGRAM_ALLOWLIST_FILE" in text
    assert h.engine.inbounds == []


def test_a_stranger_pressing_a_forwarded_button_gets_no_content(start: Start) -> None:
    h = start()
    begin(h, "safeguarding_concern")
    question = h.last_keyboard()
    forwarded = dict(question, chat=private_chat(STRANGER))
    handled = len(h.engine.inbounds)

    for message in (question, forwarded):
        calls = h.feed(callback_update(STRANGER, message, button_data(question, "Yes")))
        answer = only(calls, "answerCallbackQuery")
        assert [c.method for c in calls] == ["answerCallbackQuery"]
        assert "not available" in answer.params["text"]
    assert len(h.engine.inbounds) == handled


def test_an_allowed_user_cannot_use_a_button_carried_out_of_its_chat(start: Start) -> None:
    h = start()
    begin(h, "safeguarding_concern")
    question = h.last_keyboard()
    handled = len(h.engine.inbounds)
    forwarded = dict(question, chat=private_chat(BOB))

    calls = h.feed(callback_update(BOB, forwarded, button_data(question, "Yes")))

    assert [c.method for c in calls] == ["answerCallbackQuery"]
    assert "expired" in calls[0].params["text"]
    assert len(h.engine.inbounds) == handled


def test_unknown_button_data_is_answered_without_content(start: Start) -> None:
    h = start()
    h.say("/start")
    message = h.last_keyboard()
    calls = h.feed(callback_update(ALICE, message, "k:notakey0000"))
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    assert "expired" in calls[0].params["text"]


def test_allow_list_file_is_read_and_reread_when_it_changes(start: Start, tmp_path: Path) -> None:
    listing = tmp_path / "telegram-users.txt"
    listing.write_text(f"# safeguarding team\n{ALICE['id']}  # Alice\n\n", encoding="utf-8")
    h = start(Scripted(), allowed=(), allowlist_file=listing)

    h.say("hello")
    assert len(h.engine.inbounds) == 1
    h.say("hello", user=BOB)
    assert len(h.engine.inbounds) == 1

    listing.write_text(f"{ALICE['id']}, {BOB['id']}\n", encoding="utf-8")
    h.say("hello again", user=BOB)
    assert h.engine.inbounds[-1].text == "hello again"


def test_allow_list_rejects_usernames_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a Telegram user id"):
        AllowList(["@alice"])
    with pytest.raises(ValueError, match="does not exist"):
        AllowList([], tmp_path / "missing.txt")
    bad = tmp_path / "users.txt"
    bad.write_text("1001\nalice\n", encoding="utf-8")
    with pytest.raises(ValueError, match="alice"):
        AllowList([], bad)
    assert AllowList(["1001, 1002"]).allows(1002)


# ======================================================================================
# groups: look-ups only
# ======================================================================================
def test_a_group_gets_look_ups_but_no_flows(start: Start) -> None:
    h = start()

    pointer = h.say("/protocol", chat=TEAM)
    assert h.engine.inbounds == []
    sent = only(pointer, "sendMessage")
    assert sent.params["chat_id"] == TEAM["id"]
    assert "private chat" in parse_html(sent.params["text"])
    assert sent.keyboard[0][0]["url"] == f"https://t.me/{BOT['username']}"

    looked = h.say(f"/clause@{BOT['username']} lgo 17", chat=TEAM)
    inbound = h.engine.inbounds[-1]
    assert (inbound.action, inbound.text, inbound.shared) == ("cmd:lookup", "lgo 17", True)
    assert inbound.conversation.thread == str(TEAM["id"])
    answer = " ".join(parse_html(c.params["text"]) for c in looked if c.method == "sendMessage")
    assert "[lgo-2016/17]" in answer

    h.say("/start", chat=TEAM)
    labels = [label for c in h.api.of("sendMessage") for label in c.labels]
    assert not any(h.engine.flows[f].title in label for f in FLOWS for label in labels)


def test_a_flow_button_pressed_in_a_group_is_refused(start: Start) -> None:
    reply = Reply("Menu", kind="lookup", options=(Option("Look up a clause", "cmd:lookup"),))
    engine = Scripted(reply)
    h = start(engine)
    h.say("/clause something", chat=TEAM)
    menu = h.last_keyboard(TEAM["id"])
    # a flow key minted for the group chat, as an older menu might have carried
    key = h.channel.buttons.key_for(str(TEAM["id"]), "flow:safeguarding_concern")
    handled = len(engine.inbounds)

    calls = h.feed(callback_update(ALICE, menu, f"k:{key}"))

    answer = only(calls, "answerCallbackQuery")
    assert answer.params["show_alert"] is True and "private chat" in answer.params["text"]
    assert len(engine.inbounds) == handled


def test_group_text_is_ignored_unless_it_addresses_the_bot(start: Start) -> None:
    engine = Scripted(Reply("Found it", kind="lookup"))
    h = start(engine)

    assert h.say("lunch anyone?", chat=TEAM) == []
    h.say(f"@{BOT['username']} ombudsman recommendations", chat=TEAM)

    inbound = engine.inbounds[-1]
    assert (inbound.action, inbound.text, inbound.shared) == (
        "cmd:lookup",
        "ombudsman recommendations",
        True,
    )


def test_case_details_never_reach_a_group(start: Start) -> None:
    question = Reply("Child's name?", kind="question", navigation=NAVIGATION)
    h = start(Scripted(question))
    calls = h.say("/start", chat=TEAM)
    sent = only(calls, "sendMessage")
    assert "Child's name" not in sent.params["text"]
    assert "private chat" in parse_html(sent.params["text"])


# ======================================================================================
# restarts and reliability
# ======================================================================================
def test_a_restart_mid_flow_keeps_the_step_and_old_buttons_work(start: Start) -> None:
    before = start()
    begin(before, "safeguarding_concern")
    before.press("No")  # immediate danger
    question = before.last_keyboard()
    assert "under 18" in parse_html(before.api.texts()[-1])
    before.close()

    after = start(api=before.api)  # a new process: new Application and engine, same files
    calls = after.press("Yes, under 18", message=question)

    assert [c.method for c in calls][:2] == ["answerCallbackQuery", "editMessageText"]
    assert after.engine.inbounds[-1].action == "ans:child_age:under_18"
    assert after.engine.replies[-1][0].kind != "error"
    assert "already been answered" not in " ".join(after.api.texts())


class Shared:
    """A database setting, engines on it (each one a separate bot instance), and its button
    keys read past the store."""

    def __init__(self, setting: str, clock: Any, keys: Callable[[], set[str]]) -> None:
        self.setting = setting
        self.clock = clock
        self.keys = keys
        self.stores: list[Any] = []

    def engine(self) -> Engine:
        self.stores.append(open_store(self.setting, clock=self.clock))
        return open_engine(store=self.stores[-1])


@pytest.fixture(params=["sqlite", "postgres"])
def shared(request: pytest.FixtureRequest, db_path: Path, clock: Any) -> Iterator[Shared]:
    """PostgreSQL needs PROTOCOLBOT_TEST_POSTGRES_URL (the case skips without it)."""
    query = "SELECT key FROM remembered WHERE namespace = 'telegram-button'"
    if request.param == "sqlite":

        def sqlite_keys() -> set[str]:
            with sqlite3.connect(db_path) as db:
                return {key for (key,) in db.execute(query)}

        chosen = Shared(str(db_path), clock, sqlite_keys)
    else:
        schema = request.getfixturevalue("postgres_schema")

        def postgres_keys() -> set[str]:
            schema.admin.execute(f"SET search_path = {schema.name}")
            return {key for (key,) in schema.admin.execute(query).fetchall()}

        chosen = Shared(schema.url, clock, postgres_keys)
    yield chosen
    for store in chosen.stores:
        store.close()


def test_instances_on_one_database_resolve_each_others_buttons(
    start: Start, shared: Shared, tmp_path: Path
) -> None:
    """Webhook instances behind a load balancer: any of them may get the press of a button
    another one sent, and the button keys are in the shared database, not a local file."""
    setting, make = shared.setting, shared.engine
    api = FakeBotAPI()  # one bot: every instance talks to the same Telegram
    one = start(Recording(make()), database=setting, api=api)
    two = start(Recording(make()), database=setting, api=api)
    begin(one, "safeguarding_concern")
    question = one.last_keyboard()
    sent = {b["callback_data"] for row in question["reply_markup"]["inline_keyboard"] for b in row}
    assert {data.removeprefix("k:") for data in sent} <= shared.keys()

    calls = two.press("No", message=question)  # sent by one, pressed on two

    assert [c.method for c in calls][:2] == ["answerCallbackQuery", "editMessageText"]
    assert two.engine.inbounds[-1].action == "ans:immediate_danger:no"
    assert "under 18" in parse_html(api.texts()[-1])
    one.press("Yes, under 18")  # and the other way round: two's new buttons, pressed on one
    assert one.engine.inbounds[-1].action == "ans:child_age:under_18"
    assert one.engine.replies[-1][0].kind != "error"
    # both instances give one button in one chat the same key
    one.say("/protocol")
    two.say("/protocol")
    menus = [c for c in api.of("sendMessage") if c.keyboard][-2:]
    assert menus[0].keyboard == menus[1].keyboard
    # still bound to the chat it was sent to, on whichever instance it is pressed
    forwarded = dict(question, chat=private_chat(BOB))
    handled = len(one.engine.inbounds) + len(two.engine.inbounds)
    for instance in (one, two):
        calls = instance.feed(callback_update(BOB, forwarded, button_data(question, "Yes")))
        assert [c.method for c in calls] == ["answerCallbackQuery"]
        assert "expired" in calls[0].params["text"]
    assert len(one.engine.inbounds) + len(two.engine.inbounds) == handled
    assert not [p.name for p in tmp_path.rglob("*") if "button" in p.name]


def test_button_keys_hold_chat_ids_and_engine_actions_only(start: Start, db_path: Path) -> None:
    h = start()
    begin(h, "child_advocacy")
    walk(h, h.engine, typed="Ms <b>Jones</b> & Co 07700 900123")
    h.say("/clause lgo 17")
    with sqlite3.connect(db_path) as db:
        rows = db.execute("SELECT namespace, value FROM remembered").fetchall()
    assert rows and {namespace for namespace, _ in rows} == {"telegram-button"}
    action = re.compile(rf"^{ALICE['id']} (flow|ans|nav|cmd|draft|edit):[\w:.-]+$")
    assert [value for _, value in rows if not action.match(value)] == []
    assert not any("Jones" in value or "07700" in value for _, value in rows)


class FlakyKeys:
    """A key store that can be made unreachable, like a database that has gone away."""

    def __init__(self) -> None:
        self.keys = SqliteStore(":memory:")
        self.down = False

    def remember(self, namespace: str, value: str, ttl_seconds: float) -> str:
        if self.down:
            raise StoreUnavailable("could not connect")
        return self.keys.remember(namespace, value, ttl_seconds)

    def recall(self, namespace: str, key: str) -> str | None:
        if self.down:
            raise StoreUnavailable("could not connect")
        return self.keys.recall(namespace, key)


def test_an_unreachable_key_store_loses_no_turn(start: Start) -> None:
    keys = FlakyKeys()
    engine = Scripted()
    h = start(engine, store=keys)
    keys.down = True

    calls = h.say("hello")  # the turn happened: its reply goes out, without buttons

    sent = [c for c in calls if c.method == "sendMessage"]
    assert [c.keyboard for c in sent] == [[], []]
    assert "You said: hello" in parse_html(sent[0].params["text"])
    assert "Type your answer instead" in parse_html(sent[1].params["text"])
    keys.down = False
    h.say("again")
    keys.down = True

    calls = h.press("Yes")  # nothing can be known of the button: nothing happens

    answer = only(calls, "answerCallbackQuery")
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    assert answer.params["show_alert"] is True and "press it again" in answer.params["text"]
    assert len(engine.inbounds) == 2
    keys.down = False
    h.press("Yes")
    assert engine.inbounds[-1].action == "ans:q:yes"


@pytest.mark.parametrize(
    "timedelta",
    [
        "true",  # PTB's coming type for RetryAfter.retry_after
        pytest.param(
            "false",
            marks=pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
        ),
    ],
)
def test_flood_limits_are_waited_out_and_the_engine_runs_once(
    start: Start, monkeypatch: pytest.MonkeyPatch, timedelta: str
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", timedelta)
    engine = Scripted()
    h = start(engine)
    h.api.fail("sendMessage", 7)

    calls = h.say("hello")

    assert [c.method for c in calls] == ["sendMessage", "sendMessage"]
    assert h.slept == [7.0]
    assert len(engine.inbounds) == 1


def test_network_errors_back_off_and_do_not_repeat_the_step(start: Start) -> None:
    engine = Scripted()
    h = start(engine)
    h.api.fail("sendMessage", "network", "timeout")

    calls = h.say("hello")

    assert [c.method for c in calls] == ["sendMessage"] * 3
    assert h.slept == [1.0, 2.0]
    assert len(engine.inbounds) == 1


def test_an_outage_holds_the_reply_until_the_user_writes_again(start: Start) -> None:
    engine = Scripted(Reply("Is a child in immediate danger?", kind="question"))
    h = start(engine)
    h.api.fail("sendMessage", *["network"] * 5)

    h.say("safeguarding")
    assert len(engine.inbounds) == 1 and h.api.texts() == []

    calls = h.say("hello? anyone?")

    texts = [parse_html(c.params["text"]) for c in calls if c.method == "sendMessage"]
    assert "did not reach you" in texts[0]
    assert texts[1] == "Is a child in immediate danger?"
    assert len(engine.inbounds) == 1  # the nudge was not taken as the answer
    assert "Your last message was not taken" in texts[-1]  # and the user is told so


def test_replies_held_through_two_outages_are_announced_once(start: Start) -> None:
    engine = Scripted(Reply("Is a child in immediate danger?", kind="question"))
    h = start(engine)
    h.api.fail("sendMessage", *["network"] * 5)
    h.say("safeguarding")  # the question is held
    h.api.fail("sendMessage", *["network"] * 5)
    h.say("hello?")  # the resend fails too: still held
    calls = h.say("hello again?")
    texts = [parse_html(c.params["text"]) for c in calls if c.method == "sendMessage"]
    assert sum("did not reach you" in t for t in texts) == 1, texts
    assert texts.count("Is a child in immediate danger?") == 1


def test_a_redelivered_update_is_handled_once(start: Start) -> None:
    engine = Scripted()
    h = start(engine)
    update = message_update(ALICE, "hello")
    h.feed(update)
    assert h.feed(update) == []
    assert len(engine.inbounds) == 1


def test_an_update_handled_by_one_instance_is_dropped_by_another(
    start: Start, make_engine: Callable[..., Engine]
) -> None:
    """Instances sharing the session database (or a restarted one) share its record of
    deliveries, so a webhook retry that reaches a second instance is not a second turn."""
    one, two = make_engine(), make_engine()
    update = message_update(ALICE, "hello")
    assert start(one).feed(update) != []
    assert start(two, api=FakeBotAPI()).feed(update) == []


def test_an_edited_message_is_not_a_second_answer(start: Start) -> None:
    engine = Scripted()
    h = start(engine)
    update = message_update(ALICE, "hello")
    update["edited_message"] = dict(update.pop("message"), edit_date=1)
    assert h.feed(update) == []
    assert engine.inbounds == []


def test_an_engine_failure_is_apologised_for(start: Start) -> None:
    engine = Scripted()
    engine.fail = True
    h = start(engine)
    calls = h.say("hello")
    assert "nothing was changed" in parse_html(only(calls, "sendMessage").params["text"])


# ======================================================================================
# configuration
# ======================================================================================
def test_a_missing_or_malformed_token_is_a_clear_error(tmp_path: Path) -> None:
    for token, message in [(None, "not set"), ("", "not set"), ("12345", "malformed")]:
        settings = Settings(_env_file=None, telegram_bot_token=token, database=":memory:")
        with pytest.raises(ValueError, match=message):
            build_application(settings, Scripted())
        with pytest.raises(ValueError, match=message):
            serve(settings)
    assert check_token(f" {TOKEN} ") == TOKEN


def test_a_custom_bot_api_server_is_used_for_every_call(start: Start) -> None:
    h = start(Scripted(), api_url="http://127.0.0.1:8081")
    h.say("hello")
    assert {c.url.rsplit("/", 1)[0] for c in h.api.calls} == {f"http://127.0.0.1:8081/bot{TOKEN}"}
    assert api_urls("https://tg.example/bot/") == (
        "https://tg.example/bot",
        "https://tg.example/file/bot",
    )
    with pytest.raises(ValueError, match="http"):
        api_urls("tg.example")


def test_the_command_menu_is_registered_for_private_chats_and_groups(start: Start) -> None:
    h = start(Scripted())
    assert h.app.post_init is not None
    h.loop.run_until_complete(h.app.post_init(h.app))
    menus = {
        json.dumps(c.params["scope"]): [b["command"] for b in c.params["commands"]]
        for c in h.api.of("setMyCommands")
    }
    assert menus[json.dumps({"type": "all_private_chats"})] == [
        "start", "protocol", "clause", "back", "why", "restart", "cancel", "help",
    ]  # fmt: skip
    assert menus[json.dumps({"type": "all_group_chats"})] == ["clause", "help"]


@pytest.mark.parametrize(
    ("url", "secret", "problem"),
    [
        ("http://bot.example/telegram", None, "https://"),
        ("https://bot.example/telegram", "has spaces in it", "TELEGRAM_WEBHOOK_SECRET"),
    ],
)
def test_webhook_settings_are_checked_before_anything_starts(
    url: str, secret: str | None, problem: str
) -> None:
    settings = Settings(
        _env_file=None,
        telegram_bot_token=TOKEN,
        telegram_webhook_url=url,
        telegram_webhook_secret=secret,
        database=":memory:",
    )
    with pytest.raises(ValueError, match=problem):
        serve(settings)


def test_a_look_up_in_a_forum_topic_is_answered_in_that_topic(start: Start) -> None:
    engine = Scripted(Reply("Found it", kind="lookup"))
    h = start(engine)
    update = message_update(
        ALICE, "/clause lgo 17", TEAM, message_thread_id=77, is_topic_message=True
    )

    calls = h.feed(update)

    assert only(calls, "sendMessage").params["message_thread_id"] == 77


def test_a_choice_under_a_full_length_message_just_loses_its_buttons(start: Start) -> None:
    question = Reply("Q " + "x" * 4090, kind="guidance", options=(Option("Yes", "ans:q:yes"),))
    h = start(Scripted(question))
    h.say("hi")

    calls = h.press("Yes")

    assert "editMessageText" not in [c.method for c in calls]
    edit = only(calls, "editMessageReplyMarkup")
    assert "reply_markup" not in edit.params


def test_a_command_with_its_text_on_the_next_line(start: Start) -> None:
    engine = Scripted()
    h = start(engine)
    h.say("/clause\nFOI requests")
    assert (engine.inbounds[-1].action, engine.inbounds[-1].text) == ("cmd:lookup", "FOI requests")


def test_the_channel_modules_keep_to_their_imports() -> None:
    """bot.channels never pulls in the SDK; the renderer has none; telegram.py no other SDK."""
    import subprocess
    import sys

    script = (
        "import sys, bot.channels, bot.channels.telegram_render\n"
        "assert 'telegram' not in sys.modules, 'the SDK was imported'\n"
        "import bot.channels.telegram as t\n"
        "assert not any(m.startswith(('slack', 'slack_bolt')) for m in sys.modules)\n"
        "assert all(hasattr(t, name) for name in t.__all__)\n"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", script], cwd=root, check=True)


class StorelessEngine:
    """An engine with no session store of its own (a custom one, or a test double)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.flows = engine.flows

    def handle(self, inbound: Inbound) -> list[Reply]:
        return self.engine.handle(inbound)


def test_without_an_engine_store_old_delivery_ids_are_still_swept(
    start: Start, make_engine: Callable[..., Engine]
) -> None:
    h = start(StorelessEngine(make_engine()))
    own = h.channel.deliveries
    assert isinstance(own, SqliteStore) and h.channel.sweep_seconds is not None
    two_days_ago = time.time() - 2 * 86400
    own._run("INSERT INTO seen_events (key, seen_at) VALUES ('old', ?)", (two_days_ago,))
    h.channel.sweep_seconds = 0  # sweep on the next delivery
    h.say("hello")
    kept = own._rows("SELECT key FROM seen_events")
    assert ("old",) not in kept and len(kept) == 1  # the new delivery is recorded, the old gone


def test_with_an_engine_store_the_engine_sweeps_it(start: Start) -> None:
    assert start().channel.sweep_seconds is None


# ======================================================================================
# groups, duplicates and a broken allow-list
# ======================================================================================
def test_a_command_for_another_bot_is_neither_answered_nor_refused(start: Start) -> None:
    h = start()
    for user in (ALICE, STRANGER):
        assert h.say("/start@otherbot", user=user, chat=TEAM) == []
        assert h.say("/clause@otherbot lgo 17", user=user, chat=TEAM) == []
    assert h.engine.inbounds == []


def test_a_refusal_in_a_group_names_no_user_id(start: Start) -> None:
    h = start()
    calls = h.say(f"/clause@{BOT['username']} lgo 17", user=STRANGER, chat=TEAM)
    refusal = only(calls, "sendMessage")
    text = parse_html(refusal.params["text"])
    assert "only for staff" in text and str(STRANGER["id"]) not in text
    assert h.engine.inbounds == []


def test_the_look_up_button_in_a_group_says_how_to_look_up_there(start: Start) -> None:
    h = start()
    h.say(f"/clause@{BOT['username']} ombudsman decisions", chat=TEAM)
    handled = len(h.engine.inbounds)
    key = h.channel.buttons.key_for(str(TEAM["id"]), "cmd:lookup")
    message = {"message_id": 1, "date": 0, "chat": TEAM, "text": "Look up a clause"}
    calls = h.feed(callback_update(ALICE, message, f"k:{key}"))
    sent = only(calls, "sendMessage")
    assert "/clause followed by your question" in parse_html(sent.params["text"])
    assert len(h.engine.inbounds) == handled  # nothing a group could not use


def test_a_look_up_in_a_group_does_not_repeat_what_was_typed(start: Start) -> None:
    h = start()
    typed = "Jo Bloggs aged 9 ombudsman decisions"
    calls = h.say(f"/clause@{BOT['username']} {typed}", chat=TEAM)
    shown = " ".join(parse_html(c.params["text"]) for c in calls if c.method == "sendMessage")
    assert "Jo Bloggs" not in shown and shown  # answered, without the case detail
    private = h.say(f"/clause {typed}")
    shown = " ".join(parse_html(c.params["text"]) for c in private if c.method == "sendMessage")
    assert "Jo Bloggs" in shown  # in a private chat the question is echoed as before


def test_a_duplicate_button_press_and_one_without_a_message_are_answered(start: Start) -> None:
    h = start()
    begin(h, "safeguarding_concern")
    question = h.last_keyboard()
    press = callback_update(ALICE, question, button_data(question, "No"))
    h.feed(press)
    again = h.feed(press)  # the same update delivered twice
    assert [c.method for c in again] == ["answerCallbackQuery"]
    orphan = callback_update(ALICE, question, button_data(question, "No"))
    del orphan["callback_query"]["message"]  # too old for Telegram to send with the press
    orphan["callback_query"]["inline_message_id"] = "AAAA"
    calls = h.feed(orphan)
    assert [c.method for c in calls] == ["answerCallbackQuery"]


def test_a_broken_allow_list_file_tells_its_users_the_bot_is_unavailable_and_logs_once(
    start: Start, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    listing = tmp_path / "telegram-users.txt"
    listing.write_text(f"{ALICE['id']}\n", encoding="utf-8")
    h = start(Scripted(), allowed=(), allowlist_file=listing)
    h.say("hello")
    assert len(h.engine.inbounds) == 1
    listing.write_text(f"{ALICE['id']}\nalice-by-name\n", encoding="utf-8")  # a typo
    with caplog.at_level(logging.ERROR, logger="bot.channels.telegram"):
        first = h.say("hello again")
        second = h.say("and again")
        stranger = h.say("/start", user=STRANGER)
    assert len(h.engine.inbounds) == 1  # fails closed
    for calls in (first, second):
        assert "unavailable for a while" in parse_html(only(calls, "sendMessage").params["text"])
    assert "access" in parse_html(only(stranger, "sendMessage").params["text"])
    unusable = [r for r in caplog.records if "allow-list file unusable" in r.getMessage()]
    assert len(unusable) == 1, [r.getMessage() for r in caplog.records]
    listing.write_text(f"{ALICE['id']}\n", encoding="utf-8")
    h.say("fixed now")
    assert h.engine.inbounds[-1].text == "fixed now"


def test_an_old_button_the_bot_refuses_leaves_its_question_unmarked(start: Start) -> None:
    h = start()
    begin(h, "safeguarding_concern")
    question = h.last_keyboard()
    h.say("no")  # answered by typing: the question's buttons were never pressed
    handled = len(h.engine.inbounds)
    calls = h.feed(callback_update(ALICE, question, button_data(question, "Yes")))
    assert len(h.engine.inbounds) == handled + 1  # the engine heard it, and refused it
    said = " ".join(parse_html(c.params.get("text", "")) for c in calls)
    assert "already been answered" in said
    edits = [c.method for c in calls if c.method.startswith("editMessage")]
    assert edits == [], "a refused press must not rewrite its question as answered"


def test_a_double_tap_acts_once(start: Start) -> None:
    h = start()
    begin(h, "safeguarding_concern")
    first = h.last_keyboard()
    h.feed(callback_update(ALICE, first, button_data(first, "No")))
    second = h.last_keyboard()
    back = button_data(second, "Back")
    h.feed(callback_update(ALICE, second, back))
    step = h.engine.inbounds[-1]
    handled = len(h.engine.inbounds)
    calls = h.feed(callback_update(ALICE, second, back))  # the second tap of a double tap
    assert len(h.engine.inbounds) == handled, "Back went back twice"
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    assert "Already done" in calls[0].params["text"]
    assert step.action == "nav:back"


def test_a_double_tap_on_draft_it_drafts_once(start: Start) -> None:
    summary = Reply(
        "Please check your answers",
        kind="summary",
        options=(
            Option("Yes, draft it", "draft:confirm"),
            Option("Change an answer", "draft:edit"),
        ),
    )
    engine = Scripted(summary)
    h = start(engine)
    h.say("hello")
    message = h.last_keyboard()
    confirm = button_data(message, "Yes, draft it")
    h.feed(callback_update(ALICE, message, confirm))
    h.feed(callback_update(ALICE, message, confirm))
    assert [i.action for i in engine.inbounds].count("draft:confirm") == 1
