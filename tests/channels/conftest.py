"""Fixtures for the Slack channel tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_fake import SlackHarness


@pytest.fixture
def slack(tmp_path: Path) -> Iterator[SlackHarness]:
    """The real Slack app wired to the fake Slack, closed after the test."""
    harness = SlackHarness(tmp_path)
    yield harness
    harness.close()
