"""Settings from the environment (and an optional .env file). Only cli.py reads them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


def _split(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
    return value


CsvList = Annotated[list[str], NoDecode]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    # --- the engine ---------------------------------------------------------------------
    database: str | None = Field(
        default=None,
        validation_alias=_env("PROTOCOLBOT_DATABASE", "DATABASE_URL"),
        description="where sessions live: a SQLite file (default $XDG_STATE_HOME/protocolbot/"
        "sessions.sqlite3) or a postgresql://user:password@host:port/dbname URL",
    )
    idle_minutes: int = Field(default=30, ge=1, validation_alias=_env("PROTOCOLBOT_IDLE_MINUTES"))
    audit_retention_days: int = Field(
        default=365,
        ge=1,
        validation_alias=_env("PROTOCOLBOT_AUDIT_RETENTION_DAYS"),
        description="audit rows older than this are deleted by `protocolbot purge`",
    )
    knowledge_dir: Path | None = Field(default=None, validation_alias=_env("PROTOCOLBOT_KNOWLEDGE"))
    flows_dir: Path | None = Field(default=None, validation_alias=_env("PROTOCOLBOT_FLOWS"))
    contacts_file: Path | None = Field(default=None, validation_alias=_env("PROTOCOLBOT_CONTACTS"))

    # --- Slack ---------------------------------------------------------------------------
    slack_bot_token: str | None = Field(default=None, validation_alias=_env("SLACK_BOT_TOKEN"))
    slack_app_token: str | None = Field(default=None, validation_alias=_env("SLACK_APP_TOKEN"))
    slack_signing_secret: str | None = Field(
        default=None, validation_alias=_env("SLACK_SIGNING_SECRET")
    )
    slack_api_url: str = Field(
        default="https://slack.com/api/", validation_alias=_env("SLACK_API_URL")
    )
    slack_allowed_workspaces: CsvList = Field(
        default_factory=list, validation_alias=_env("SLACK_ALLOWED_WORKSPACES")
    )
    slack_allowed_channels: CsvList = Field(
        default_factory=list, validation_alias=_env("SLACK_ALLOWED_CHANNELS")
    )
    slack_allowed_users: CsvList = Field(
        default_factory=list, validation_alias=_env("SLACK_ALLOWED_USERS")
    )

    # --- Telegram ------------------------------------------------------------------------
    telegram_bot_token: str | None = Field(
        default=None, validation_alias=_env("TELEGRAM_BOT_TOKEN")
    )
    telegram_api_url: str = Field(
        default="https://api.telegram.org/bot", validation_alias=_env("TELEGRAM_API_URL")
    )
    telegram_allowed_users: CsvList = Field(
        default_factory=list, validation_alias=_env("TELEGRAM_ALLOWED_USERS")
    )
    telegram_allowlist_file: Path | None = Field(
        default=None, validation_alias=_env("TELEGRAM_ALLOWLIST_FILE")
    )
    telegram_webhook_url: str | None = Field(
        default=None, validation_alias=_env("TELEGRAM_WEBHOOK_URL")
    )
    telegram_webhook_secret: str | None = Field(
        default=None, validation_alias=_env("TELEGRAM_WEBHOOK_SECRET")
    )

    @field_validator(
        "slack_allowed_workspaces",
        "slack_allowed_channels",
        "slack_allowed_users",
        "telegram_allowed_users",
        mode="before",
    )
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split(value)
