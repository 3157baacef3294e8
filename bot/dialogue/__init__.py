"""Conversations: flows as data, the engine that runs them, the router and the session store.

Imports the knowledge base and drafting, never a channel or a platform SDK.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from bot.dialogue.engine import Engine
from bot.dialogue.flow import Flow, Step
from bot.dialogue.loading import FlowError, load_flows
from bot.dialogue.messages import Conversation, Draft, DraftField, Inbound, Option, Reply
from bot.dialogue.router import Route, Router, RoutingData
from bot.dialogue.store import SessionStore, SqliteStore, StoreUnavailable
from bot.drafting import DraftRenderer
from bot.kb import ClauseIndex, KnowledgeError, open_index
from bot.paths import flows_dir, knowledge_dir

__all__ = [
    "Conversation",
    "Draft",
    "DraftField",
    "Engine",
    "Flow",
    "FlowError",
    "Inbound",
    "Option",
    "Reply",
    "Route",
    "Router",
    "SessionStore",
    "SqliteStore",
    "Step",
    "StoreUnavailable",
    "default_database",
    "load_contacts",
    "open_engine",
    "open_flows",
]


def default_database() -> Path:
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "protocolbot" / "sessions.sqlite3"


def load_contacts(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise KnowledgeError(f"{path}: cannot read contacts: {exc}") from exc
    if not isinstance(raw, dict):
        raise KnowledgeError(f"{path}: contacts must be a mapping of name -> details")
    return raw


def open_flows(
    index: ClauseIndex, flows: Path | None = None, contacts: Path | None = None
) -> tuple[dict[str, Flow], DraftRenderer]:
    flows = flows or flows_dir()
    details = load_contacts(contacts or index.kb.root / "contacts.yaml")
    loaded = load_flows(flows, clause_ids=index.kb.clauses.keys(), contacts=details)
    return loaded, DraftRenderer(flows / "templates", details)


def open_engine(
    database: str | Path | None = None,
    idle_minutes: int = 30,
    *,
    knowledge: Path | None = None,
    flows: Path | None = None,
    contacts: Path | None = None,
    store: SessionStore | None = None,
) -> Engine:
    """The engine over the bundled (or given) knowledge and flows, with a SQLite store."""
    root = knowledge or knowledge_dir()
    index = open_index(root)
    loaded, renderer = open_flows(index, flows, contacts)
    router = Router(loaded, index.glossary, RoutingData.load(root / "routing.yaml"))
    if store is None:
        path = database if database is not None else default_database()
        path = str(path).removeprefix("sqlite:///")
        store = SqliteStore(path, idle_seconds=idle_minutes * 60)
    return Engine(index=index, flows=loaded, router=router, renderer=renderer, store=store)
