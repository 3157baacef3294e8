"""Running the Slack app: settings checks, the HTTP endpoint on loopback, the manifest."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from slack_fake import DM, SECRET, FakeSlackApi, event_callback, im_message
from slack_sdk.signature import SignatureVerifier

from bot.channels import slack as channel
from bot.config import Settings
from bot.dialogue import open_engine

ROOT = Path(__file__).resolve().parents[2]


def settings(**values: Any) -> Settings:
    base = {"slack_bot_token": "xoxb-1-2-abc", "slack_signing_secret": SECRET}
    base.update(values)
    return Settings(_env_file=None, **base)  # type: ignore[call-arg]


@pytest.fixture
def fake() -> Iterator[FakeSlackApi]:
    api = FakeSlackApi()
    yield api
    api.close()


# --- settings ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("values", "http", "message"),
    [
        ({"slack_bot_token": None}, False, "SLACK_BOT_TOKEN is not set"),
        ({"slack_bot_token": "xoxp-user-token"}, False, "starting with 'xoxb-'"),
        ({"slack_bot_token": "xapp-1-abc"}, False, "starts with 'xapp-...'"),
        (
            {"slack_app_token": "xoxb-wrong-kind"},
            False,
            "SLACK_APP_TOKEN must be an app-level token",
        ),
        ({"slack_signing_secret": ""}, True, "SLACK_SIGNING_SECRET is not set"),
        ({"slack_signing_secret": None, "slack_app_token": None}, False, "Socket Mode"),
        ({"slack_api_url": "http://slack.example/api/"}, False, "must be an https:// URL"),
    ],
)
def test_bad_settings_stop_start_up_with_a_clear_message(
    values: dict[str, Any], http: bool, message: str
) -> None:
    with pytest.raises(ValueError, match=message) as raised:
        channel.check_settings(settings(**values), http=http)
    assert "abc" not in str(raised.value).replace("xoxb-...", "")  # no secret in messages


def test_transport_choice() -> None:
    assert channel.check_settings(settings(slack_app_token="xapp-1-A-1")) == "socket"
    assert channel.check_settings(settings(slack_app_token="xapp-1-A-1"), http=True) == "http"
    assert channel.check_settings(settings()) == "http"
    gov = settings(slack_api_url="https://slack-gov.com/api/", slack_app_token="xapp-1")
    assert channel.check_settings(gov) == "socket"


def test_a_rejected_token_stops_start_up(fake: FakeSlackApi, tmp_path: Path) -> None:
    fake.fail["auth.test"] = "invalid_auth"
    engine = open_engine(str(tmp_path / "db.sqlite3"))
    with pytest.raises(ValueError, match="invalid_auth"):
        channel.build_app(settings(slack_api_url=fake.url), engine)


def test_a_slack_that_fails_is_not_reported_as_a_bad_token(
    fake: FakeSlackApi, tmp_path: Path
) -> None:
    fake.http_status["auth.test"] = 500
    engine = open_engine(str(tmp_path / "db.sqlite3"))
    with pytest.raises(ValueError) as raised:
        channel.build_app(settings(slack_api_url=fake.url), engine)
    message = str(raised.value)
    assert "could not check SLACK_BOT_TOKEN: HTTP 500; try again later" in message
    assert "refused" not in message and "invalid" not in message and "\n" not in message


def test_an_unreachable_api_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    import socket

    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    engine = open_engine(str(tmp_path / "db.sqlite3"))
    with pytest.raises(ValueError, match=r"^cannot reach the Slack API at http://127\.0\.0\.1"):
        channel.build_app(settings(slack_api_url=f"http://127.0.0.1:{port}/api/"), engine)


def test_start_up_prints_no_warning_about_an_unused_token(
    fake: FakeSlackApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    import logging

    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1-2-abc")  # as a deployment sets it
    engine = open_engine(str(tmp_path / "db.sqlite3"))
    with caplog.at_level(logging.DEBUG):
        channel.build_app(settings(slack_api_url=fake.url), engine)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


def test_a_rejected_app_token_stops_socket_mode_at_once(fake: FakeSlackApi, tmp_path: Path) -> None:
    fake.fail["apps.connections.open"] = "invalid_auth"
    with pytest.raises(ValueError, match=r"Slack refused SLACK_APP_TOKEN at .*: invalid_auth"):
        channel.open_service(
            settings(
                slack_api_url=fake.url,
                slack_app_token="xapp-1-A1-abc",
                database=str(tmp_path / "d"),
            ),
            port=0,
            host="127.0.0.1",
        )


def test_the_web_api_url_is_configurable_for_govslack(fake: FakeSlackApi, tmp_path: Path) -> None:
    engine = open_engine(str(tmp_path / "db.sqlite3"))
    app = channel.build_app(settings(slack_api_url=fake.url.rstrip("/")), engine)
    assert app.client.base_url == fake.url
    assert [c.method for c in fake.calls] == ["auth.test"]  # the token is checked at start
    kinds = {type(handler).__name__ for handler in app.client.retry_handlers}
    assert {"ConnectionErrorRetryHandler", "RateLimitErrorRetryHandler"} <= kinds


# --- the HTTP endpoint -----------------------------------------------------------------------
def _post(
    port: int, body: str, *, secret: str = SECRET, path: str = "/slack/events"
) -> tuple[int, str]:
    ts = str(int(time.time()))
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=body.encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": SignatureVerifier(secret).generate_signature(
                timestamp=ts, body=body
            ),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _oversized(port: int) -> int:
    """Announce a body over the limit and send none: refused on the headers alone."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest("POST", "/slack/events")
        connection.putheader("Content-Length", str(channel.MAX_BODY + 1))
        connection.endheaders()
        return connection.getresponse().status
    finally:
        connection.close()


def _get(port: int, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_the_http_service_end_to_end(fake: FakeSlackApi, tmp_path: Path) -> None:
    service = channel.open_service(
        settings(slack_api_url=fake.url, database=str(tmp_path / "db.sqlite3")),
        http=True,
        port=0,
        host="127.0.0.1",
    )
    runner = threading.Thread(target=service.run)
    runner.start()
    try:
        port = service.port
        assert _get(port, "/healthz") == 200
        assert _get(port, "/nope") == 404
        assert _post(port, json.dumps(event_callback(im_message("hello"))))[0] == 200
        assert _post(port, json.dumps(event_callback(im_message("x"))), secret="wrong")[0] == 401
        assert _post(port, "{}", path="/other")[0] == 404
        assert _oversized(port) == 413
    finally:
        service.stop()  # waits for the turns in progress
        runner.join()
    assert len([c for c in fake.posted(DM)]) == 1
    service.stop()  # twice is harmless


def test_socket_mode_service_reports_unhealthy_until_connected(
    fake: FakeSlackApi, tmp_path: Path
) -> None:
    service = channel.open_service(
        settings(
            slack_api_url=fake.url, slack_app_token="xapp-1-A1-abc", database=str(tmp_path / "d")
        ),
        port=0,
        host="127.0.0.1",
    )
    try:
        assert service.handler is not None and service.handler.app_token == "xapp-1-A1-abc"
        assert service.handler.client.web_client.base_url == fake.url  # GovSlack-ready
        thread = threading.Thread(target=service.server.serve_forever, daemon=True)
        thread.start()
        assert _get(service.port, "/healthz") == 503
        service.server.shutdown()
    finally:
        service.stop()


# --- packaging ------------------------------------------------------------------------------
def test_the_channel_package_does_not_import_slack_sdks() -> None:
    code = (
        "import sys, bot.channels, bot.channels.slack, bot.channels.slack_blocks;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('slack_bolt', 'slack_sdk')];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_the_manifest_matches_the_app() -> None:
    manifest = yaml.safe_load((ROOT / "slack" / "manifest.yaml").read_text(encoding="utf-8"))
    commands = {c["command"] for c in manifest["features"]["slash_commands"]}
    assert commands == {"/protocol", "/clause"}
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert events == {"app_mention", "message.im", "app_home_opened"}
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {
        "app_mentions:read",
        "chat:write",
        "commands",
        "im:history",
        "im:write",
        "files:write",
    } <= scopes
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True


def test_the_manifest_names_slacks_own_key_for_a_command_url() -> None:
    """Slack's manifest takes `url` for a slash command and `request_url` for events and
    interactivity; an HTTP-mode app set up from the wrong comment gets no commands."""
    comment = [
        line
        for line in (ROOT / "slack" / "manifest.yaml").read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    ]
    text = " ".join(comment)
    assert "`url: https://YOUR-HOST/slack/events` under each slash command" in text
    assert "request_url: https://YOUR-HOST/slack/events` under event_subscriptions and" in text
