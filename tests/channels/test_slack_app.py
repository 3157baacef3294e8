"""The Slack app driven as Slack drives it: signed HTTP requests in, Web API calls out.

The bolt app, the engine, the flows and the SQLite store are the real ones; only Slack is
fake (a Web API on 127.0.0.1). Lazy listeners wait on a queue, so each test can check what
happened at the ack and what happened after it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from slack_fake import (
    BOT_ID,
    BOT_USER,
    CHANNEL,
    DM,
    TEAM,
    USER,
    SlackHarness,
    app_mention,
    block_actions,
    buttons,
    check_blocks,
    check_view,
    home_click,
    im_message,
    mrkdwn_of,
    view_submission,
)

from bot.channels.slack_blocks import escape
from bot.dialogue.messages import NAVIGATION, Reply

FLOWS = ["safeguarding_concern", "lgo_complaint", "child_advocacy"]
CASE = "Jo Bloggs, aged 9, said her stepfather hit her with a belt"
# what Slack delivers when a user types @channel, mentions someone and writes a < b & c
INJECTED = "<!channel> <@U123> <!here|here> a &lt; b &amp; c &gt; d"


def harness(tmp_path: Path, **settings: Any) -> SlackHarness:
    return SlackHarness(tmp_path, settings=settings)


def all_posted_blocks_are_valid(slack: SlackHarness) -> None:
    for call in slack.fake.of("chat.postMessage", "chat.postEphemeral", "chat.update"):
        check_blocks(call.args["blocks"])
        assert len(call.args["text"]) <= 300
    for call in slack.fake.of("response_url"):
        if "blocks" in call.args:
            check_blocks(call.args["blocks"])
    for call in slack.fake.of("views.open", "views.publish", "views.update"):
        check_view(call.args["view"])


def shown_in(slack: SlackHarness, channel: str) -> str:
    return "\n".join(
        c.args["text"] + "\n" + mrkdwn_of(c.args.get("blocks", []))
        for c in slack.fake.posted(channel)
    )


# --- acknowledging ---------------------------------------------------------------------------
def test_a_dm_is_acknowledged_before_any_work(slack: SlackHarness) -> None:
    response = slack.send_event(im_message("hello"))
    assert (response.status, response.body) == (200, "")
    assert slack.fake.posted() == [] and slack.executor.pending == 1
    slack.drain()
    [reply] = slack.fake.posted(DM)
    assert "flow:safeguarding_concern" in json.dumps(reply.args["blocks"])
    all_posted_blocks_are_valid(slack)


def test_url_verification_answers_the_challenge(slack: SlackHarness) -> None:
    body = json.dumps({"token": "t", "challenge": "abc123", "type": "url_verification"})
    response = slack.signed(body, "application/json")
    assert response.status == 200 and "abc123" in response.body


# --- flows by buttons ----------------------------------------------------------------------
@pytest.mark.parametrize("last_choice", [False, True], ids=["first-options", "last-options"])
@pytest.mark.parametrize("flow_id", FLOWS)
def test_a_full_run_of_each_flow_by_button_clicks(
    slack: SlackHarness, flow_id: str, last_choice: bool
) -> None:
    if flow_id not in slack.engine.flows:
        pytest.skip(f"flow {flow_id} is not in flows/ yet")
    slack.say("menu")
    slack.click(f"flow:{flow_id}")
    assert slack.session().flow == flow_id
    assert slack.run_to_end(CASE, last_choice=last_choice) >= 2
    assert "That's the end of" in shown_in(slack, DM)
    drafts = [c for c in slack.fake.posted(DM) if c.args["blocks"][0]["type"] == "header"]
    # not every path ends in a draft; those that do can be edited (a called flow's drafts
    # lose their button once its caller carries on: it would change the caller's answers)
    for draft in drafts[-1:]:
        values = {b["value"] for b, _ in buttons(draft.args["blocks"])}
        assert "draft:edit" in values
    assert slack.fake.posted(CHANNEL) == []
    for upload in slack.fake.of("files.completeUploadExternal"):
        assert upload.args["channel_id"] == DM
    all_posted_blocks_are_valid(slack)
    # answered questions were frozen: their answer buttons are gone, the choice is shown
    updates = slack.fake.of("chat.update")
    assert updates and all("You chose:" in mrkdwn_of(u.args["blocks"]) for u in updates)
    assert not any(
        v.startswith("ans:")
        for u in updates
        for b, _ in buttons(u.args["blocks"])
        for v in [b["value"]]
    )


def test_back_returns_to_the_previous_question(slack: SlackHarness) -> None:
    slack.send_command("/protocol", "safeguarding concern", channel=DM)
    slack.drain()
    first = slack.step().id
    slack.answer(CASE)
    assert slack.step().id != first
    slack.click("nav:back")
    assert slack.step().id == first
    assert "Going back." in shown_in(slack, DM)
    last = slack.fake.posted(DM)[-1]
    assert any(b["value"].startswith(f"ans:{first}:") for b, _ in buttons(last.args["blocks"]))


def test_a_stale_button_does_not_answer_a_later_question(slack: SlackHarness) -> None:
    slack.send_command("/protocol", "safeguarding concern", channel=DM)
    slack.drain()
    old = slack.fake.posted(DM)[-1]
    slack.answer(CASE)
    now = slack.step().id
    button, block_id = next(
        (b, i) for b, i in buttons(old.args["blocks"]) if b["value"].startswith("ans:")
    )
    message = {
        "type": "message",
        "ts": "old",
        "text": old.args["text"],
        "blocks": old.args["blocks"],
    }
    slack.send_interaction(block_actions(message, DM, button, block_id))
    slack.drain()
    assert slack.step().id == now
    assert "already been answered" in shown_in(slack, DM)


def _to_draft(slack: SlackHarness) -> None:
    slack.send_command("/protocol", "safeguarding concern", channel=DM)
    slack.drain()
    slack.run_to_end(CASE)


def test_a_long_draft_is_uploaded_as_the_letter_and_its_notes_in_two_files(
    slack: SlackHarness,
) -> None:
    _to_draft(slack)
    drafts = [c for c in slack.fake.posted(DM) if c.args["blocks"][0]["type"] == "header"]
    assert drafts
    shown = mrkdwn_of(drafts[0].args["blocks"])
    assert shown.index("The letter") < shown.index("Reviewer's notes") < shown.index("Sources:")
    names = [c.args["filename"] for c in slack.fake.of("files.getUploadURLExternal")]
    assert "safeguarding-referral.txt" in names and "safeguarding-referral.notes.txt" in names
    uploads = [c.args["content"] for c in slack.fake.of("upload")]
    # the referral and the case note, each as its letter and then its notes
    letters, notes = uploads[::2], uploads[1::2]
    assert len(uploads) == 4 and letters[0].startswith("SAFEGUARDING REFERRAL")
    for letter in letters:
        assert "Sources:" not in letter and "[unverified]" not in letter and "DRAFT" not in letter
    assert all("Sources:" in n and "has not sent it anywhere" in n for n in notes)


def test_edit_the_draft_in_a_prefilled_form(slack: SlackHarness) -> None:
    _to_draft(slack)
    before = len(slack.fake.posted(DM))
    slack.click("form:")
    [opened] = slack.fake.of("views.open")
    view = opened.args["view"]
    check_view(view)
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert inputs, "the form has the draft's text answers"
    assert CASE in [e.get("initial_value") for e in inputs.values()]
    key = next(k for k, e in inputs.items() if e.get("initial_value") == CASE)
    assert len(slack.fake.posted(DM)) == before  # opening the form posts nothing
    opened_view = slack.fake.of("views.open")[0]
    view = dict(opened_view.args["view"], id="V0FORM", hash="1")
    values = {k: e.get("initial_value", "") for k, e in inputs.items()}
    values[key] = "She said <@U999> pushed her & she fell"
    response = slack.send_interaction(view_submission(view, values))
    assert (response.status, response.body) == (200, "")  # the form closes at once
    slack.drain()
    redrafted = [
        c for c in slack.fake.posted(DM)[before:] if c.args["blocks"][0]["type"] == "header"
    ]
    assert redrafted
    shown = mrkdwn_of(redrafted[0].args["blocks"])
    assert "She said &lt;@U999&gt; pushed her &amp; she fell" in shown
    assert slack.session().flow_answers()[key] == "She said <@U999> pushed her & she fell"
    all_posted_blocks_are_valid(slack)


def test_a_form_submitted_untouched_keeps_every_answer(slack: SlackHarness) -> None:
    """Slack sends null for a field that is empty: an optional answer that was skipped
    comes back as null when the form is sent untouched, and must stay skipped."""
    slack.send_command("/protocol", "safeguarding concern", channel=DM)
    slack.drain()
    skipped = []
    for _ in range(200):
        session = slack.session()
        if session.mode == "done":
            break
        step = slack.step() if session.mode == "asking" else None
        if step is not None and step.optional and step.type == "text":
            skipped.append(step.id)
            slack.say("skip")
        else:
            slack.answer(CASE)
    assert skipped, "the path skips at least one optional answer"
    answers = dict(slack.session().flow_answers())
    before = len(slack.fake.posted(DM))
    slack.click("form:")
    view = dict(slack.fake.of("views.open")[0].args["view"], id="V0FORM", hash="1")
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    untouched = {k: e.get("initial_value") for k, e in inputs.items()}  # None where empty
    assert None in untouched.values()
    slack.send_interaction(view_submission(view, untouched))  # type: ignore[arg-type]
    slack.drain()
    later = "\n".join(c.args["text"] for c in slack.fake.posted(DM)[before:])
    assert "empty" not in later.lower() and "not accepted" not in later, later
    assert slack.session().flow_answers() == answers


def test_edit_an_answer_step_by_step(slack: SlackHarness) -> None:
    _to_draft(slack)
    slack.click("draft:edit")
    assert "Which answer would you like to change?" in shown_in(slack, DM)
    slack.click("edit:")
    assert slack.session().editing
    slack.run_to_end("A different account of what happened")
    assert slack.session().mode == "done"
    all_posted_blocks_are_valid(slack)


# --- Slack's retries and signatures ------------------------------------------------------------
def test_a_retry_delivered_twice_gives_one_reply_and_one_step(slack: SlackHarness) -> None:
    slack.send_command("/protocol", "safeguarding concern", channel=DM)
    slack.drain()
    step, version = slack.step().id, slack.session().version
    slack.fake.reset()
    event = im_message("no")
    assert slack.send_event(event, event_id="Ev0RETRY").status == 200
    # Slack did not see the ack in time and delivers again, with the retry headers
    assert slack.send_event(event, event_id="Ev0RETRY", retry=1).status == 200
    assert slack.send_event(event, event_id="Ev0RETRY", retry=2).status == 200
    slack.drain()
    assert slack.session().version == version + 1  # one turn
    assert slack.step().id != step
    texts = [c.args["text"] for c in slack.fake.posted(DM)]
    assert texts and len(texts) == len(set(texts))  # each reply once
    # a retry after a restart is still recognised: the delivery ids live in the database
    slack.restart()
    slack.fake.reset()
    slack.send_event(event, event_id="Ev0RETRY", retry=3)
    slack.drain()
    assert slack.fake.calls == []


def test_a_bad_signature_is_refused_and_nothing_is_done(slack: SlackHarness) -> None:
    response = slack.send_event(im_message("hello"), secret="not-the-signing-secret")
    assert response.status == 401
    assert slack.executor.pending == 0
    slack.drain()
    assert slack.fake.posted() == [] and slack.session() is None


def test_a_stale_timestamp_is_refused(slack: SlackHarness) -> None:
    response = slack.send_event(im_message("hello"), timestamp=int(time.time()) - 60 * 10)
    assert response.status == 401
    assert slack.executor.pending == 0 and slack.fake.posted() == []


def test_a_tampered_body_is_refused(slack: SlackHarness) -> None:
    body = json.dumps({"type": "event_callback", "event": im_message("hi")})
    ts = str(int(time.time()))
    from slack_sdk.signature import SignatureVerifier

    signature = SignatureVerifier("8f742231b10e8888abcd99yyyzzz85a5").generate_signature(
        timestamp=ts, body=body
    )
    from slack_bolt.request import BoltRequest

    tampered = body.replace("hi", "rm")
    headers = {
        "content-type": "application/json",
        "x-slack-request-timestamp": ts,
        "x-slack-signature": signature,
    }
    assert slack.app.dispatch(BoltRequest(body=tampered, headers=headers)).status == 401


# --- what is echoed -----------------------------------------------------------------------------
def test_mentions_typed_into_an_answer_are_shown_not_triggered(slack: SlackHarness) -> None:
    _to_draft_with(slack, INJECTED)
    typed = "@channel @U123 @here a < b & c > d"  # what the user typed, as words
    assert typed in slack.session().flow_answers().values()
    for call in slack.fake.of("chat.postMessage", "chat.update"):
        for text in (call.args["text"], mrkdwn_of(call.args["blocks"])):
            assert "<!channel>" not in text and "<@U123>" not in text and "<!here" not in text
    shown = shown_in(slack, DM)
    assert "@channel @U123 @here a &lt; b &amp; c &gt; d" in shown
    all_posted_blocks_are_valid(slack)


def test_addresses_links_and_mentions_reach_the_draft_as_typed(slack: SlackHarness) -> None:
    """Slack delivers a typed e-mail address as <mailto:...|...>, a link as <https://...|...>,
    a mention as <@U...|name> and a channel as <#C...|name>: the draft reads them as typed."""
    delivered = (
        "Email <mailto:duty.team@kent.gov.uk|duty.team@kent.gov.uk>, see "
        "<https://www.kent.gov.uk/social-care|www.kent.gov.uk/social-care>, ask "
        "<@U0ABC|jo.bloggs> in <#C0DEF|safeguarding-team>"
    )
    slack.send_command("/protocol", "safeguarding concern", channel=DM)
    slack.drain()
    typed_once = False
    for _ in range(200):  # the first free-text question gets the markup; the rest, the case
        session = slack.session()
        if session.mode == "done":
            break
        step = slack.step() if session.mode == "asking" else None
        if step is not None and step.type == "text" and not typed_once:
            slack.say(delivered)
            typed_once = True
        else:
            slack.answer(CASE)
    typed = (
        "Email duty.team@kent.gov.uk, see www.kent.gov.uk/social-care, ask @jo.bloggs in "
        "#safeguarding-team"
    )
    assert typed in slack.session().flow_answers().values()
    drafts = [c for c in slack.fake.posted(DM) if c.args["blocks"][0]["type"] == "header"]
    assert drafts
    for draft in drafts:
        shown = mrkdwn_of(draft.args["blocks"])
        assert "duty.team@kent.gov.uk" in shown and "mailto:" not in shown
        assert "@jo.bloggs" in shown and "#safeguarding-team" in shown
    for upload in slack.fake.of("files.uploadV2", "files.getUploadURLExternal"):
        assert "mailto:" not in json.dumps(upload.args)


def _to_draft_with(slack: SlackHarness, text: str) -> None:
    slack.send_command("/protocol", "safeguarding concern", channel=DM)
    slack.drain()
    slack.run_to_end(text)


def test_a_reply_over_the_limits_is_split(
    slack: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    long = "\n\n".join(
        f"Paragraph {n}: " + "the council must be told & act. " * 80 for n in range(120)
    )
    monkeypatch.setattr(
        slack.engine,
        "handle",
        lambda inbound: [Reply(long, kind="guidance", navigation=NAVIGATION)],
    )
    slack.say("why")
    posted = slack.fake.posted(DM)
    assert len(posted) >= 2
    for call in posted:
        assert len(call.args["blocks"]) <= 50
        assert all(
            len(b["text"]["text"]) <= 3000 for b in call.args["blocks"] if b["type"] == "section"
        )
    assert "nav:back" in json.dumps(posted[-1].args["blocks"])
    assert "nav:back" not in json.dumps([c.args["blocks"] for c in posted[:-1]])
    all_posted_blocks_are_valid(slack)


# --- who may use it ----------------------------------------------------------------------------
def test_a_user_outside_the_allow_list_is_refused(tmp_path: Path) -> None:
    slack = harness(tmp_path, slack_allowed_users=["U0ALLOWED"])
    try:
        response = slack.send_command("/protocol", "", channel=DM)
        assert response.status == 200 and "not enabled" in response.body
        assert slack.send_event(im_message("hello")).status == 200
        assert slack.executor.pending == 0
        assert slack.send_event(app_mention(f"<@{BOT_USER}> hello")).status == 200
        assert slack.executor.pending == 0
        slack.drain()
        assert slack.fake.posted() == [] and slack.fake.of("response_url") == []
        slack.send_event(im_message("hello", user="U0ALLOWED"))
        slack.drain()
        assert slack.fake.posted("D0ALLOWED")
    finally:
        slack.close()


def test_a_workspace_outside_the_allow_list_is_refused(tmp_path: Path) -> None:
    slack = harness(tmp_path, slack_allowed_workspaces=["T0OTHER"])
    try:
        assert "not enabled" in slack.send_command("/clause", "ombudsman", channel=DM).body
        slack.send_event(im_message("hello"))
        assert slack.drain() == 0 and slack.fake.posted() == []
    finally:
        slack.close()


def test_the_channel_allow_list_limits_channels_but_not_the_dm(tmp_path: Path) -> None:
    slack = harness(tmp_path, slack_allowed_channels=["C0ALLOWED"])
    try:
        slack.send_event(app_mention(f"<@{BOT_USER}> hello", channel=CHANNEL))
        assert slack.drain() == 0
        assert "not enabled" in slack.send_command("/protocol", "", channel=CHANNEL).body
        slack.send_event(app_mention(f"<@{BOT_USER}> hello", channel="C0ALLOWED"))
        assert slack.drain() == 1
        slack.say("hello")
        assert slack.fake.posted(DM)
        # /protocol in the bot's own DM is admitted; in a DM between two colleagues it is not
        assert "not enabled" not in slack.send_command("/protocol", "", channel=DM).body
        refused = slack.send_command("/protocol", "safeguarding concern", channel="D0COLLEAGUE")
        assert "not enabled" in refused.body
        assert "not enabled" in slack.send_command("/clause", "lgo 17", channel="D0COLLEAGUE").body
    finally:
        slack.close()


# --- the bot's own messages ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "event",
    [
        im_message("I am the bot", user=BOT_USER),
        im_message("posted by the bot", bot_id=BOT_ID),
        im_message("posted by the bot", subtype="bot_message", bot_id=BOT_ID),
        im_message("edited", subtype="message_changed"),
        im_message("a workflow", bot_id="B0OTHER"),
    ],
    ids=["own-user", "own-bot-id", "bot_message", "message_changed", "other-bot"],
)
def test_the_bot_ignores_its_own_and_bot_messages(
    slack: SlackHarness, event: dict[str, Any]
) -> None:
    assert slack.send_event(event).status == 200
    slack.drain()
    assert slack.fake.posted() == []


# --- privacy: channels see a neutral note ---------------------------------------------------------
def test_a_flow_started_in_a_channel_continues_in_the_dm(slack: SlackHarness) -> None:
    text = f"<@{BOT_USER}> I've received a safeguarding concern: {CASE}"
    slack.send_event(app_mention(text))
    slack.drain()
    in_channel = slack.fake.posted(CHANNEL)
    assert len(in_channel) == 1
    note = in_channel[0].args
    assert "continue with you in a private message" in note["text"]
    assert note["thread_ts"]  # in the mention's thread
    assert not list(buttons(note["blocks"]))
    public = shown_in(slack, CHANNEL)
    for detail in ("Jo Bloggs", "stepfather", "belt"):
        assert detail not in public
    assert slack.fake.of("chat.postEphemeral") == []
    assert slack.session().flow == "safeguarding_concern"
    assert any(
        b["value"].startswith("ans:")
        for c in slack.fake.posted(DM)
        for b, _ in buttons(c.args["blocks"])
    )
    slack.answer(CASE)  # and it carries on in the DM
    assert slack.fake.posted(CHANNEL) == in_channel
    all_posted_blocks_are_valid(slack)


def test_other_mentions_in_a_channel_are_answered_privately(slack: SlackHarness) -> None:
    slack.send_event(app_mention(f"<@{BOT_USER}> hello"))
    slack.drain()
    assert slack.fake.posted(CHANNEL) == []
    [ephemeral] = slack.fake.of("chat.postEphemeral")
    assert ephemeral.args["user"] == USER and ephemeral.args["channel"] == CHANNEL
    # pressing a flow button there starts the flow in the DM
    button, block_id = next(
        (b, i) for b, i in buttons(ephemeral.args["blocks"]) if b["value"].startswith("flow:")
    )
    message = {"type": "message", "ts": "eph", "text": "", "blocks": ephemeral.args["blocks"]}
    slack.send_interaction(block_actions(message, CHANNEL, button, block_id, ephemeral=True))
    slack.drain()
    assert slack.session().flow == button["value"].removeprefix("flow:")
    assert slack.fake.posted(CHANNEL) == []
    [note] = slack.fake.of("response_url")
    assert note.args["response_type"] == "ephemeral"


def test_protocol_command_in_a_channel_replies_privately(slack: SlackHarness) -> None:
    response = slack.send_command("/protocol", "safeguarding concern", channel=CHANNEL)
    assert (response.status, response.body) == (200, "")
    slack.drain()
    assert slack.fake.posted(CHANNEL) == []
    hooks = slack.fake.of("response_url")
    assert hooks and all(h.args["response_type"] == "ephemeral" for h in hooks)
    assert slack.session().flow == "safeguarding_concern"


def test_clause_answers_ephemerally_with_citations(slack: SlackHarness) -> None:
    response = slack.send_command("/clause", "ombudsman decisions", channel=CHANNEL)
    assert (response.status, response.body) == (200, "")
    assert slack.fake.of("response_url") == []  # after the ack
    slack.drain()
    hooks = slack.fake.of("response_url")
    assert hooks and all(h.args["response_type"] == "ephemeral" for h in hooks)
    assert slack.fake.posted() == [] and slack.fake.of("chat.postEphemeral") == []
    blocks = hooks[0].args["blocks"]
    check_blocks(blocks)
    assert any(b["type"] == "context" and ":bookmark:" in b["elements"][0]["text"] for b in blocks)


def test_a_clause_is_one_click_away(slack: SlackHarness) -> None:
    slack.send_command("/protocol", "safeguarding concern", channel=DM)
    slack.drain()
    slack.click("ans:immediate_danger:no")
    slack.click("ans:child_age:under_18")  # Ofsted's role, with its clauses, comes next
    calls = len(slack.fake.calls)
    slack.click("clause:")
    [opened] = slack.fake.of("views.open")
    check_view(opened.args["view"])
    assert opened.args["view"]["title"]["text"] == "Clause"
    assert [c.method for c in slack.fake.calls[calls:]] == ["views.open"]  # no turn taken


# --- state ------------------------------------------------------------------------------------
def test_a_restart_in_the_middle_of_a_flow_carries_on(slack: SlackHarness) -> None:
    slack.send_command("/protocol", "safeguarding concern", channel=DM)
    slack.drain()
    slack.answer(CASE)
    slack.answer(CASE)
    session = slack.session()
    answers, step = dict(session.flow_answers()), session.step
    slack.restart()  # a new process: new engine, new app, same SQLite file
    assert slack.session().flow_answers() == answers
    slack.answer(CASE)  # clicks a button posted before the restart
    after = slack.session()
    assert after.flow == "safeguarding_concern" and after.step != step
    assert set(answers) < set(after.flow_answers())


def test_app_home_lists_flows_and_documents_and_starts_them(slack: SlackHarness) -> None:
    event = {
        "type": "app_home_opened",
        "user": USER,
        "channel": DM,
        "tab": "home",
        "event_ts": "1.1",
    }
    slack.send_event(event)
    slack.drain()
    [published] = slack.fake.of("views.publish")
    assert published.args["user_id"] == USER
    view = published.args["view"]
    check_view(view)
    shown = mrkdwn_of(view["blocks"])
    for flow in slack.engine.flows.values():
        assert escape(flow.title) in shown
    for document in slack.engine.index.kb.documents.values():
        assert f"In force: {document.in_force:%d %B %Y}" in shown
    button, block_id = next(buttons(view["blocks"]))
    slack.send_interaction(home_click(button, block_id))
    slack.drain()
    assert slack.session().flow == button["value"].removeprefix("flow:")
    assert slack.fake.posted(DM)
    slack.send_event({**event, "tab": "messages"})
    slack.drain()
    assert len(slack.fake.of("views.publish")) == 1


def test_a_failed_web_api_call_does_not_stop_the_turn(slack: SlackHarness) -> None:
    slack.send_command("/protocol", "safeguarding concern", channel=DM)
    slack.drain()
    slack.fake.fail["chat.update"] = "message_not_found"
    step = slack.step().id
    message = slack.last_message(DM, "ans:")
    button, block_id = next(
        (b, i) for b, i in buttons(message["blocks"]) if b["value"].startswith("ans:")
    )
    slack.send_interaction(block_actions(message, DM, button, block_id))
    slack.executor.drain()
    assert [
        r.getMessage() for r in slack.errors.records
    ] and "message_not_found" in slack.errors.records[0].getMessage()
    slack.errors.records.clear()
    assert slack.step().id != step
    assert slack.fake.posted(DM)[-1].args["blocks"]


def test_team_and_user_make_the_session_key(slack: SlackHarness) -> None:
    slack.say("menu")
    slack.click("flow:safeguarding_concern")
    assert slack.session().key == f"slack|{TEAM}|{USER}|{DM}"
    assert slack.session("U0002") is None


def test_every_kind_of_request_is_acked_before_its_work(slack: SlackHarness) -> None:
    _to_draft(slack)
    message = slack.last_message(DM, "form:")
    slack.fake.reset()
    button, block_id = next(
        (b, i) for b, i in buttons(message["blocks"]) if b["value"].startswith("form:")
    )
    form = {
        "id": "V0FORM",
        "hash": "1",
        "type": "modal",
        "callback_id": "pb-draft-edit",
        "private_metadata": json.dumps({"dm": DM, "team": TEAM}),
        "blocks": [],
    }
    requests = [
        lambda: slack.send_event(im_message("help")),
        lambda: slack.send_event(app_mention(f"<@{BOT_USER}> help")),
        lambda: slack.send_command("/clause", "ombudsman", channel=CHANNEL),
        lambda: slack.send_command("/protocol", "", channel=DM),
        lambda: slack.send_interaction(block_actions(message, DM, button, block_id)),
        lambda: slack.send_interaction(view_submission(form, {})),
    ]
    for send in requests:
        response = send()
        assert response.status == 200
        assert slack.executor.pending == 1 and slack.fake.calls == []  # acked, nothing done yet
        slack.drain()
        assert slack.fake.calls  # the work ran after the ack
        slack.fake.reset()


def test_an_engine_failure_gets_an_apology_not_silence(
    slack: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(inbound: Any) -> list[Reply]:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(slack.engine, "handle", broken)
    slack.send_event(im_message("hello"))
    slack.executor.drain()
    assert [r.getMessage() for r in slack.errors.records] == ["the engine failed on a Slack turn"]
    slack.errors.records.clear()
    [reply] = slack.fake.posted(DM)
    assert "something went wrong" in reply.args["text"] and "disk" not in reply.args["text"]


def test_the_draft_form_still_opens_after_a_restart(slack: SlackHarness) -> None:
    _to_draft(slack)
    slack.restart()
    slack.click("form:")
    [opened] = slack.fake.of("views.open")
    assert CASE in json.dumps(opened.args["view"])


def test_a_refused_old_button_does_not_freeze_its_question_as_answered(
    slack: SlackHarness,
) -> None:
    slack.send_command("/protocol", "safeguarding concern", channel=DM)
    slack.drain()
    question = slack.step().id
    asked = slack.last_message(DM, f"ans:{question}:yes")  # as it was before the answer
    slack.click(f"ans:{question}:no")
    slack.fake.reset()
    late = next((b, block) for b, block in buttons(asked["blocks"]) if b["value"].endswith("yes"))
    # the same question's other button, pressed late (e.g. from another device)
    slack.send_interaction(block_actions(asked, DM, late[0], late[1]))
    slack.drain()
    assert "already been answered" in shown_in(slack, DM)
    assert slack.fake.of("chat.update") == []
