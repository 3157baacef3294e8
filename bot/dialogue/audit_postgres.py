"""The audit trail in PostgreSQL: the sessions' database, so every instance writes one trail.

The same rows as the SQLite log (:mod:`bot.dialogue.audit`), in table ``audit_events`` beside
``sessions``, written over the session store's connection pool. The table is append-only:

- a row trigger refuses every UPDATE (``INSERT ... ON CONFLICT DO UPDATE`` included), and
  every DELETE unless the transaction has set ``protocolbot.purging`` to ``on``
  (``SET LOCAL``, so the setting ends with the transaction), which only :meth:`purge` does;
- a statement trigger refuses TRUNCATE, which fires no row triggers;
- ids are ``GENERATED ALWAYS``, so an INSERT cannot pick an existing row's id.

Opening the log (re)creates the trigger function and any missing trigger, and re-enables a
trigger someone disabled. This guards the trail against the bot's code and mistakes, not
against whoever holds the database role's password: SECURITY.md says what does.

psycopg is imported only with the store, as for :mod:`bot.dialogue.store_postgres`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from typing import Any

from bot.dialogue.audit import AuditEvent, AuditUnavailable
from bot.dialogue.store_postgres import _SCHEMA_LOCK, PostgresStore, reason

__all__ = ["PostgresAuditLog"]

log = logging.getLogger(__name__)

PURGING = "protocolbot.purging"  # the transaction-local setting that lets a DELETE through
_TRIGGERS = ("audit_events_append_only", "audit_events_no_truncate")
_BATCH = 1000  # rows per export query: bounded memory, and no transaction held open

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS audit_events (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at TIMESTAMPTZ NOT NULL,
        channel TEXT NOT NULL,
        workspace TEXT NOT NULL,
        user_id TEXT NOT NULL,
        flow TEXT,
        steps TEXT[] NOT NULL,
        kinds TEXT[] NOT NULL,
        clauses TEXT[] NOT NULL,
        drafts TEXT[] NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS audit_events_at ON audit_events (at)",
    # replaced at every start, so an edited function is put back
    f"""CREATE OR REPLACE FUNCTION audit_events_guard() RETURNS trigger
    LANGUAGE plpgsql AS $guard$
    BEGIN
        IF TG_OP = 'DELETE' AND TG_LEVEL = 'ROW'
                AND current_setting('{PURGING}', true) = 'on' THEN
            RETURN OLD;
        END IF;
        IF TG_OP = 'UPDATE' THEN
            RAISE EXCEPTION 'audit_events is append-only';
        END IF;
        RAISE EXCEPTION 'audit_events rows are removed only by protocolbot purge';
    END
    $guard$""",
    """DO $create$
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = 'audit_events'::regclass
                       AND tgname = 'audit_events_append_only') THEN
            CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
                FOR EACH ROW EXECUTE FUNCTION audit_events_guard();
        END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = 'audit_events'::regclass
                       AND tgname = 'audit_events_no_truncate') THEN
            CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
                FOR EACH STATEMENT EXECUTE FUNCTION audit_events_guard();
        END IF;
    END
    $create$""",
)


def _text(value: str) -> str:
    # PostgreSQL text cannot hold NUL; an id from outside must not cost the row
    return value.replace("\x00", "\ufffd")


class PostgresAuditLog:
    """The audit trail in the PostgreSQL database of a :class:`PostgresStore`, on its pool.

    The store owns the pool: :meth:`close` leaves it open, and closing the store ends both.
    """

    def __init__(self, store: PostgresStore) -> None:
        self.store = store
        self.clock = store.clock
        try:
            with store.connection() as conn, conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                for statement in _SCHEMA:
                    conn.execute(statement)
                disabled = conn.execute(
                    "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_events'::regclass "
                    "AND tgname = ANY(%s) AND tgenabled IN ('D', 'R')",
                    (list(_TRIGGERS),),
                ).fetchall()
                for (name,) in disabled:
                    log.warning("audit_events trigger %s was disabled; enabling it", name)
                    conn.execute(f'ALTER TABLE audit_events ENABLE TRIGGER "{name}"')
        except store.errors as exc:
            raise AuditUnavailable(f"PostgreSQL at {store.where}: {reason(exc)}") from exc

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC)

    @staticmethod
    def _second(moment: dt.datetime) -> dt.datetime:
        # whole seconds, as the SQLite log keeps them: the same cutoffs, the same export
        return moment.astimezone(dt.UTC).replace(microsecond=0)

    def record(self, event: AuditEvent) -> None:
        row = (
            self._second(event.at or self.now()),
            _text(event.channel),
            _text(event.workspace),
            _text(event.user),
            _text(event.flow) if event.flow is not None else None,
            list(event.steps),
            list(event.kinds),
            list(event.clauses),
            list(event.drafts),
        )
        try:
            with self.store.connection() as conn:
                conn.execute(
                    "INSERT INTO audit_events (at, channel, workspace, user_id, flow, steps, "
                    "kinds, clauses, drafts) VALUES (%s, %s, %s, %s, %s, "
                    "%s::text[], %s::text[], %s::text[], %s::text[])",
                    row,
                )
        except self.store.errors as exc:
            raise AuditUnavailable(f"PostgreSQL at {self.store.where}: {exc}") from exc

    def events(self, since: dt.datetime) -> Iterator[AuditEvent]:
        """Events recorded at or after ``since``, oldest first, fetched a batch at a time."""
        after = 0
        while True:
            try:
                with self.store.connection() as conn:
                    rows: list[tuple[Any, ...]] = conn.execute(
                        "SELECT id, at, channel, workspace, user_id, flow, steps, kinds, "
                        "clauses, drafts FROM audit_events WHERE at >= %s AND id > %s "
                        "ORDER BY id LIMIT %s",
                        (self._second(since), after, _BATCH),
                    ).fetchall()
            except self.store.errors as exc:
                raise AuditUnavailable(f"PostgreSQL at {self.store.where}: {exc}") from exc
            for row_id, at, channel, workspace, user, flow, steps, kinds, clauses, drafts in rows:
                after = row_id
                yield AuditEvent(
                    channel=channel,
                    workspace=workspace,
                    user=user,
                    flow=flow,
                    steps=tuple(steps),
                    kinds=tuple(kinds),
                    clauses=tuple(clauses),
                    drafts=tuple(drafts),
                    at=at.astimezone(dt.UTC),
                )
            if len(rows) < _BATCH:
                return

    def purge(self, before: dt.datetime) -> int:
        """Delete events recorded before ``before``; the only way rows ever leave.

        ``SET LOCAL`` lasts until the transaction ends, so the pooled connection goes back
        without it and no other transaction ever has it. Then VACUUM, so the space of the
        rows deleted here and of the sessions deleted before is reclaimed now, not whenever
        autovacuum comes round (it is not overwritten: SECURITY.md).
        """
        try:
            with self.store.connection() as conn, conn.transaction():
                conn.execute(f"SET LOCAL {PURGING} = 'on'")
                gone = conn.execute(
                    "DELETE FROM audit_events WHERE at < %s", (self._second(before),)
                ).rowcount
        except self.store.errors as exc:
            raise AuditUnavailable(f"PostgreSQL at {self.store.where}: {exc}") from exc
        self.vacuum()
        return int(gone)

    def vacuum(self) -> None:
        """VACUUM the bot's tables on a connection of its own, without the pool's statement
        timeout (a large table may take longer). Skips a table another VACUUM is holding; a
        failure is logged, not raised: the deletions are committed either way."""
        import psycopg

        try:
            with psycopg.connect(
                self.store.url, autocommit=True, connect_timeout=max(2, round(self.store.timeout))
            ) as conn:
                conn.execute(
                    "VACUUM (SKIP_LOCKED) sessions, seen_events, remembered, safety_notes, "
                    "audit_events"
                )
        except psycopg.Error as exc:
            log.warning(
                "VACUUM after the purge failed (%s); autovacuum will reclaim the space later",
                type(exc).__name__,
            )

    def close(self) -> None:
        """Nothing to do: the pool is the store's."""
