"""The same app through bolt's Socket Mode request path: envelopes in, envelope acks out."""

from __future__ import annotations

import json

from slack_fake import (
    BOT_USER,
    CHANNEL,
    DM,
    SlackHarness,
    app_mention,
    block_actions,
    buttons,
    check_blocks,
    event_callback,
    im_message,
    slash_command,
)


def test_an_event_is_acked_on_the_socket_then_answered(slack: SlackHarness) -> None:
    ack = slack.socket(event_callback(im_message("hello")), "events_api")
    assert ack.payload is None  # a bare ack: Slack only needs the envelope id back
    assert slack.fake.posted() == [] and slack.executor.pending == 1
    slack.drain()
    [reply] = slack.fake.posted(DM)
    check_blocks(reply.args["blocks"])


def test_a_flow_by_buttons_over_the_socket(slack: SlackHarness) -> None:
    form = slash_command("/protocol", "safeguarding concern", channel=DM)
    form["response_url"] = f"{slack.fake.url}hooks/commands/x"
    ack = slack.socket(dict(form), "slash_commands")
    assert ack.payload is None
    slack.drain()
    for _ in range(3):
        message = slack.last_message(DM, "ans:")
        button, block_id = next(
            (b, i) for b, i in buttons(message["blocks"]) if b["value"].startswith("ans:")
        )
        step = slack.step().id
        slack.socket(block_actions(message, DM, button, block_id), "interactive")
        slack.drain()
        assert slack.step().id != step
    assert slack.session().flow == "safeguarding_concern"


def test_a_socket_retry_is_recognised(slack: SlackHarness) -> None:
    payload = event_callback(im_message("hello"), event_id="Ev0SOCKET")
    slack.socket(payload, "events_api")
    slack.socket(payload, "events_api", retry=1)
    slack.drain()
    assert len(slack.fake.posted(DM)) == 1


def test_mentions_over_the_socket_keep_the_channel_neutral(slack: SlackHarness) -> None:
    event = app_mention(f"<@{BOT_USER}> safeguarding concern about Jo Bloggs")
    slack.socket(event_callback(event), "events_api")
    slack.drain()
    [note] = slack.fake.posted(CHANNEL)
    assert "Jo Bloggs" not in json.dumps(note.args)
    assert slack.session().flow == "safeguarding_concern"


def test_socket_requests_need_no_signature_but_http_ones_do(slack: SlackHarness) -> None:
    from slack_bolt.request import BoltRequest

    body = json.dumps(event_callback(im_message("hello")))
    assert slack.app.dispatch(BoltRequest(body=body, headers={})).status == 401
    assert slack.executor.pending == 0
