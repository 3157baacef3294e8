"""The safety net in Slack: a flow with answers is never dropped unasked, whichever way another
flow is started (a DM message, a Home tab Start button, /protocol, an @mention in a channel),
and cancel asks first. The rule is the engine's; Slack shows its question as buttons."""

from __future__ import annotations

from slack_fake import (
    BOT_USER,
    CHANNEL,
    DM,
    SlackHarness,
    app_mention,
    buttons,
    home_click,
    mrkdwn_of,
)

from bot.channels.slack_blocks import escape

HOME = {"type": "app_home_opened", "user": "U0001", "channel": DM, "tab": "home", "event_ts": "1"}


def part_way_through_a_complaint(slack: SlackHarness) -> dict[str, str]:
    """A complaint flow in the DM with two answers given; the answers."""
    slack.send_command("/protocol", "a complainant should go to the LGO", channel=DM)
    slack.drain()
    slack.click("ans:child_at_risk:no")
    slack.click("ans:complaint_about:council")
    session = slack.session()
    assert session.flow == "lgo_complaint" and session.step == "jurisdiction"
    return dict(session.flow_answers())


def last_buttons(slack: SlackHarness) -> dict[str, str]:
    """The buttons of the last message posted in the DM: value -> label."""
    blocks = slack.fake.posted(DM)[-1].args["blocks"]
    return {b["value"]: b["text"]["text"] for b, _ in buttons(blocks)}


def asked_to_leave(slack: SlackHarness, answers: dict[str, str]) -> None:
    """The DM asks to pause or discard the complaint, and its answers are all still there."""
    offered = last_buttons(slack)
    assert {"leave:pause", "leave:discard", "leave:stay"} <= set(offered), offered
    shown = mrkdwn_of(slack.fake.posted(DM)[-1].args["blocks"])
    assert "part-way through" in shown and "deleted" not in shown
    session = slack.session()
    assert session.flow == "lgo_complaint" and session.flow_answers() == answers


def test_a_home_tab_start_button_asks_before_leaving_a_flow_with_answers(
    slack: SlackHarness,
) -> None:
    answers = part_way_through_a_complaint(slack)
    slack.send_event(HOME)
    slack.drain()
    [published] = slack.fake.of("views.publish")
    start = {b["value"]: (b, i) for b, i in buttons(published.args["view"]["blocks"])}
    button, block_id = start["flow:child_advocacy"]
    slack.send_interaction(home_click(button, block_id))
    slack.drain()
    asked_to_leave(slack, answers)
    slack.click("leave:pause")  # and the complaint waits, answers and all
    session = slack.session()
    assert session.flow == "child_advocacy"
    assert session.paused and session.paused["answers"]["lgo_complaint"] == answers


def test_protocol_in_the_dm_asks_before_leaving_a_flow_with_answers(slack: SlackHarness) -> None:
    answers = part_way_through_a_complaint(slack)
    slack.send_command("/protocol", "a child needs advocacy", channel=DM)
    slack.drain()
    asked_to_leave(slack, answers)
    slack.click("leave:stay")
    session = slack.session()
    assert session.flow == "lgo_complaint" and session.step == "jurisdiction"
    assert session.flow_answers() == answers


def test_an_at_mention_in_a_channel_asks_in_the_dm_before_leaving(slack: SlackHarness) -> None:
    answers = part_way_through_a_complaint(slack)
    slack.send_event(app_mention(f"<@{BOT_USER}> a child needs advocacy"))
    slack.drain()
    asked_to_leave(slack, answers)
    assert "part-way through" not in "".join(
        c.args["text"] for c in slack.fake.posted(CHANNEL)
    )  # the question is asked privately


def test_cancel_asks_first_and_discarding_a_risky_flow_shows_where_the_concern_must_go(
    slack: SlackHarness,
) -> None:
    slack.send_command("/protocol", "I've received a safeguarding concern", channel=DM)
    slack.drain()
    slack.click("ans:immediate_danger:no")
    slack.click("ans:child_age:under_18")
    slack.click("ans:significant_harm:yes")
    answers = dict(slack.session().flow_answers())
    slack.say("cancel")
    assert set(last_buttons(slack)) == {"leave:cancel", "leave:stay"} | {
        "nav:back",
        "nav:why",
        "nav:restart",
        "nav:cancel",
    }
    assert slack.session().flow_answers() == answers
    before = len(slack.fake.posted(DM))
    slack.click("leave:cancel")
    shown = [mrkdwn_of(c.args["blocks"]) for c in slack.fake.posted(DM)[before:]]
    card = next(i for i, text in enumerate(shown) if "A possible risk to a child" in text)
    gone = next(i for i, text in enumerate(shown) if "answers have been deleted" in text)
    assert card < gone
    assert "999" in shown[card] and "101" in shown[card] and "LADO" in shown[card]
    assert slack.session() is None


def test_the_home_tab_lists_safeguarding_first(slack: SlackHarness) -> None:
    slack.send_event(HOME)
    slack.drain()
    [published] = slack.fake.of("views.publish")
    first, _ = next(buttons(published.args["view"]["blocks"]))
    assert first["value"] == "flow:safeguarding_concern"
    shown = mrkdwn_of(published.args["view"]["blocks"])
    title = escape(slack.engine.flows["safeguarding_concern"].title)
    assert shown.index(title) < min(
        shown.index(escape(f.title)) for f in slack.engine.flows.values() if f.title != title
    )
