"""Channel adapters: translate platform events to Inbound values and render Reply values.

Each module imports at most one platform SDK, lazily, so the terminal chat runs without
the Slack or Telegram extras installed.
"""
