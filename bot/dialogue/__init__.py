"""Conversations: flows as data, the engine that runs them, the router and the session store.

Imports the knowledge base and drafting, never a channel or a platform SDK.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.dialogue.audit import AuditEvent, AuditLog, AuditUnavailable, SqliteAuditLog, audit_for
from bot.dialogue.engine import Engine
from bot.dialogue.flow import SAFEGUARDING, Flow, Step
from bot.dialogue.loading import FlowError, load_flows
from bot.dialogue.messages import Conversation, Draft, DraftField, Inbound, Option, Reply
from bot.dialogue.router import Route, Router, RoutingData
from bot.dialogue.store import (
    SessionStore,
    SqliteStore,
    StoreError,
    StoreUnavailable,
    open_store,
)
from bot.dialogue.store_postgres import PostgresStore
from bot.drafting import DraftRenderer
from bot.kb import ClauseIndex, KnowledgeError, open_index
from bot.kb.directory import DIRECTORY_FILE, load_directory
from bot.kb.documents import read_yaml
from bot.paths import flows_dir, knowledge_dir
from bot.routing import RoutingModel
from bot.routing.model import MODEL_FILE

if TYPE_CHECKING:
    from bot.config import Settings

__all__ = [
    "AuditEvent",
    "AuditLog",
    "Conversation",
    "Draft",
    "DraftField",
    "Engine",
    "Flow",
    "FlowError",
    "Inbound",
    "Option",
    "PostgresStore",
    "Reply",
    "Route",
    "Router",
    "SessionStore",
    "SqliteAuditLog",
    "SqliteStore",
    "Step",
    "StoreError",
    "StoreUnavailable",
    "default_database",
    "engine_for",
    "load_contacts",
    "open_database",
    "open_engine",
    "open_flows",
    "open_store",
]


def default_database() -> Path:
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "protocolbot" / "sessions.sqlite3"


def load_contacts(path: Path) -> dict[str, Any]:
    raw = read_yaml(path, "contacts") or {}
    if not isinstance(raw, dict):
        raise KnowledgeError(f"{path}: contacts must be a mapping of name -> details")
    return raw


def open_flows(
    index: ClauseIndex, flows: Path | None = None, contacts: Path | None = None
) -> tuple[dict[str, Flow], DraftRenderer]:
    flows = flows or flows_dir()
    details = load_contacts(contacts or index.kb.root / "contacts.yaml")
    loaded = load_flows(flows, clause_ids=index.kb.clauses.keys(), contacts=details)
    directory = load_directory(index.kb.root / DIRECTORY_FILE)
    return loaded, DraftRenderer(flows / "templates", details, directory)


def _audit_of(store: SessionStore) -> AuditLog | None:
    try:
        return audit_for(store)
    except AuditUnavailable as exc:
        raise StoreError(" ".join(f"cannot open the audit log: {exc}".split())) from exc


def open_database(
    database: str | Path | None = None, idle_seconds: float = 30 * 60
) -> tuple[SessionStore, AuditLog | None]:
    """The session store ``database`` names (the default SQLite file if None) and the audit
    log in the same database.

    Either failing to open (a server that cannot be reached, a role without the privileges
    to create the tables, a file that is not a database) raises StoreError with a one-line
    message for the operator, and leaves nothing open.
    """
    where = database if database is not None else default_database()
    store = open_store(where, idle_seconds=idle_seconds)
    try:
        return store, _audit_of(store)
    except StoreError:
        store.close()
        raise


def open_engine(
    database: str | Path | None = None,
    idle_minutes: int = 30,
    *,
    knowledge: Path | None = None,
    flows: Path | None = None,
    contacts: Path | None = None,
    store: SessionStore | None = None,
    audit: AuditLog | None = None,
    today: Callable[[], dt.date] = dt.date.today,
) -> Engine:
    """The engine over the bundled (or given) knowledge and flows, with the store that
    ``database`` names (a SQLite file by default, or a ``postgresql://`` URL) and its audit
    log. Raises StoreError (one line) if either cannot be opened: see :func:`open_database`."""
    root = knowledge or knowledge_dir()
    index = open_index(root)
    loaded, renderer = open_flows(index, flows, contacts)
    router = Router(
        loaded,
        index.glossary,
        RoutingData.load(root / "routing.yaml"),
        RoutingModel.load(root / MODEL_FILE),
        safeguarding=SAFEGUARDING,
    )
    if store is None and audit is None:
        store, audit = open_database(database, idle_seconds=idle_minutes * 60)
    elif store is None:
        where = database if database is not None else default_database()
        store = open_store(where, idle_seconds=idle_minutes * 60)
    elif audit is None:
        audit = _audit_of(store)
    return Engine(
        index=index,
        flows=loaded,
        router=router,
        renderer=renderer,
        store=store,
        audit=audit,
        today=today,
    )


def engine_for(settings: Settings, database: str | None = None) -> Engine:
    """The engine a deployment's settings describe (the terminal, Slack and Telegram share it).

    Raises FlowError, KnowledgeError or StoreError with a message for the operator; a
    StoreError covers the audit log too, and is one line.
    """
    return open_engine(
        database or settings.database,
        settings.idle_minutes,
        knowledge=settings.knowledge_dir,
        flows=settings.flows_dir,
        contacts=settings.contacts_file,
    )
