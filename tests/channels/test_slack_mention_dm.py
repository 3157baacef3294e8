"""A mention inside the bot's own DM is left to the message.im event that Slack also sends."""

from __future__ import annotations

from slack_fake import BOT_USER, DM, SlackHarness, app_mention


def test_a_mention_in_the_dm_is_ignored_without_opening_the_dm(slack: SlackHarness) -> None:
    slack.send_event(app_mention(f"<@{BOT_USER}> hello", channel=DM))
    slack.drain()
    # told apart by the channel id alone: no conversations.open round trip, nothing posted
    assert slack.fake.of("conversations.open") == []
    assert slack.fake.of("chat.postMessage", "chat.postEphemeral") == []
