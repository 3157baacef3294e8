"""The `protocolbot` command: wires settings, stores and channels. Nothing else wires."""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(
    help="protocol-bot: guided inter-agency protocols for children's social care regulation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
kb_app = typer.Typer(help="Check and rebuild the clause knowledge base.", no_args_is_help=True)
serve_app = typer.Typer(help="Run the bot on a chat platform.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail of guidance given.", no_args_is_help=True)
app.add_typer(kb_app, name="kb")
app.add_typer(serve_app, name="serve")
router_app = typer.Typer(help="The router that picks a flow for a message.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
app.add_typer(router_app, name="router")


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _check_out(out: Path, database: str | None = None) -> None:
    """A file path we can write to, or a clear error (never a traceback).

    Never the session database (nor its -wal, -shm or -journal file) nor a knowledge or
    flows file: an output written there would destroy the audit trail or the protocols."""
    if "\x00" in str(out):
        raise fail("--out: the path contains a NUL character")
    _refuse_protected(out, database)
    try:
        if out.is_dir():
            raise fail(f"--out {out}: that is a folder; give a file name")
        if not out.parent.is_dir():
            raise fail(f"--out {out}: the folder {out.parent} does not exist")
        if not os.access(out.parent, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
            raise fail(f"--out {out}: permission denied")
    except OSError as exc:  # e.g. a name longer than the file system allows
        name = str(out) if len(str(out)) <= 80 else str(out)[:77] + "..."
        raise fail(f"--out {name}: {exc.strerror or exc}") from exc


def _refuse_protected(out: Path, database: str | None) -> None:
    from bot.paths import flows_dir, knowledge_dir

    try:
        target = out.resolve()
        settings = _settings()
        data = [knowledge_dir(), flows_dir(), settings.knowledge_dir, settings.flows_dir]
        folders = [Path(d).resolve() for d in data if d is not None]
        sqlite = _sqlite_file(_where(database, settings))
        contacts = settings.contacts_file and Path(settings.contacts_file).resolve()
    except (OSError, RuntimeError):  # unresolvable: the checks after this one say why
        return
    if contacts is not None and target == contacts:
        raise fail(f"--out {out}: that is the contacts file; give another file name")
    if sqlite is not None:
        db = sqlite.resolve()
        if target in {db, *(db.with_name(db.name + s) for s in ("-wal", "-shm", "-journal"))}:
            raise fail(f"--out {out}: that is the session database; give another file name")
    for folder in folders:
        if target == folder or folder in target.parents:
            raise fail(
                f"--out {out}: that is inside the bot's data folder {folder}; "
                "give a file name elsewhere"
            )


def _settings() -> Any:
    from pydantic import ValidationError

    from bot.config import Settings

    try:
        return Settings()
    except ValidationError as exc:  # the message only: an input may be a secret
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        )
        raise fail(f"bad setting: {problems}") from None


def _knowledge(path: Path | None = None) -> Path:
    from bot.paths import knowledge_dir

    if path:
        return path
    # read directly, from the environment or else .env as Settings would: the look-up
    # should not pay for loading every setting at start-up
    configured = os.environ.get("PROTOCOLBOT_KNOWLEDGE")
    if configured is None and Path(".env").is_file():
        from dotenv import dotenv_values

        configured = dotenv_values(".env").get("PROTOCOLBOT_KNOWLEDGE")
    return Path(configured) if configured else knowledge_dir()


def _engine(database: str | None = None) -> Any:
    from bot.dialogue import FlowError, StoreError, engine_for
    from bot.kb import KnowledgeError

    try:
        return engine_for(_settings(), database)
    except (FlowError, KnowledgeError, StoreError) as exc:
        raise fail(str(exc)) from exc


# ----------------------------------------------------------------------------- look-up
def _hit_json(index: Any, hit: Any) -> dict[str, Any]:
    document = index.kb.document_of(hit.clause)
    return {
        "id": hit.clause.id,
        "citation": index.kb.citation_text(hit.clause),
        "document": document.id,
        "heading": hit.clause.heading,
        "text": hit.clause.text,
        "score": hit.score,
        "status": document.status_of(hit.clause.id),
        "in_force": document.in_force.isoformat(),
        "currency_notes": [
            {"text": n.text, "source": n.source, "verified": n.verified}
            for n in document.notes_for(hit.clause.id)
        ],
    }


@app.command()
def lookup(
    query: Annotated[
        str,
        typer.Argument(
            help="a question, a reference like 'lgo 17', or - to read one query per line"
        ),
    ],
    k: Annotated[int, typer.Option("-k", "--top", min=1, max=50, help="how many clauses")] = 3,
    doc: Annotated[str | None, typer.Option("--doc", help="only this document id")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output")] = False,
) -> None:
    """Find the clauses that answer a question."""
    from bot.kb import KnowledgeError, QueryError, look_up, open_index

    try:
        index = open_index(_knowledge())
    except KnowledgeError as exc:
        raise fail(str(exc)) from exc
    if doc is not None and doc not in index.kb.documents:
        raise fail(
            f"unknown document {doc!r}; choose one of: {', '.join(sorted(index.kb.documents))}"
        )
    if query == "-":
        from bot.channels.console import input_lines, unreadable

        for number, line in enumerate(input_lines(sys.stdin), start=1):
            # a blank or unreadable line still gets its own (error) line, so output line N
            # answers input line N
            if line is None:
                sys.stdout.write(json.dumps([{"error": unreadable(number)}]) + "\n")
                continue
            line = line.strip()
            try:
                result = index.search(line, k=k, document=doc)
                rows = [_hit_json(index, h) for h in result.hits] if result.useful else []
            except QueryError as exc:
                rows = [{"error": str(exc)}]
            sys.stdout.write(json.dumps(rows, ensure_ascii=False) + "\n")
        return
    try:
        answer = look_up(index, query, k=k, document=doc)
    except QueryError as exc:
        raise fail(str(exc)) from exc
    result = answer.result
    if as_json:
        rows = [_hit_json(index, h) for h in result.hits] if result.useful else []
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        if not result.useful:
            typer.echo(
                "no clause answers that question; try other words, a reference such as "
                "'lgo 17', or limit to one document with --doc",
                err=True,
            )
            raise typer.Exit(1)
        return
    from bot.channels.lookup_view import show_result

    show_result(index, result, answer=answer)
    if not answer.shows_anything:
        raise typer.Exit(1)


# ------------------------------------------------------------------------------ kb
@kb_app.command("check")
def kb_check(
    knowledge: Annotated[Path | None, typer.Option(help="knowledge folder")] = None,
    verbose: Annotated[
        bool, typer.Option("-v", "--verbose", help="list every skipped block")
    ] = False,
) -> None:
    """Validate the knowledge base, the flows and the contacts; exit 1 on any problem."""
    from bot.dialogue.checks import full_check

    report = full_check(_knowledge(knowledge), _settings().flows_dir)
    for doc_id, count in report.counts.items():
        typer.echo(f"{doc_id:12} {count:4} clauses")
    typer.echo(f"skipped as furniture: {len(report.skipped)} blocks")
    reasons: dict[str, int] = {}
    for skip in report.skipped:
        reasons[f"{skip.document}: {skip.reason}"] = (
            reasons.get(f"{skip.document}: {skip.reason}", 0) + 1
        )
        if verbose:
            typer.echo(
                f"  {skip.document} lines {skip.first_line}-{skip.last_line}: {skip.reason} | {skip.excerpt[:70]}"
            )
    if not verbose:
        for reason, n in sorted(reasons.items()):
            typer.echo(f"  {n:3} x {reason}")
    for line in report.sections:
        typer.echo(line)
    if not report.errors:
        for line in _stranded_conversations(knowledge):
            typer.echo(
                f"warning: {line}; they will be reset, answers deleted, when their users "
                "next write (wait for them to finish, or keep the old step ids)",
                err=True,
            )
    if report.errors:
        typer.echo(f"\nFAILED: {len(report.errors)} problem(s)", err=True)
        for error in report.errors:
            typer.echo(f"  - {error}", err=True)
        raise typer.Exit(1)
    typer.echo("OK: every clause is found verbatim in its source and nothing was dropped silently")


def _stranded_conversations(knowledge: Path | None) -> list[str]:
    """Open conversations in the configured database that the flows as they are now would
    strand; nothing when there is no database yet or it cannot be opened (a check of the
    flows themselves should not depend on the database)."""
    from bot.dialogue import StoreError, open_flows, open_store
    from bot.dialogue.stale import stranded
    from bot.kb import KnowledgeError, open_index

    settings = _settings()
    where = _where(None, settings)
    path = _sqlite_file(where)
    if path is not None and not path.is_file():
        return []
    try:
        flows, _ = open_flows(
            open_index(_knowledge(knowledge)), settings.flows_dir, settings.contacts_file
        )
        store = open_store(where, idle_seconds=settings.idle_minutes * 60)
    except (StoreError, KnowledgeError) as exc:
        typer.echo(f"note: open conversations not checked: {exc}", err=True)
        return []
    try:
        return stranded(store.open_sessions(), flows)
    except StoreError as exc:
        typer.echo(f"note: open conversations not checked: {exc}", err=True)
        return []
    finally:
        store.close()


@kb_app.command("build")
def kb_build(
    knowledge: Annotated[Path | None, typer.Option(help="knowledge folder")] = None,
    accept_changes: Annotated[
        bool, typer.Option(help="allow existing clause ids to change or disappear")
    ] = False,
) -> None:
    """Re-parse every source, write the clause index, then run the checks."""
    from bot.kb.base import changes_to_index, parse_sources, write_index
    from bot.kb.documents import KnowledgeError

    root = _knowledge(knowledge)
    try:
        parsed = parse_sources(root)
    except KnowledgeError as exc:
        raise fail(str(exc), 1) from exc
    removed, changed, added = changes_to_index(root, parsed)
    for line in added:
        typer.echo(f"  + {line}")
    for line in changed:
        typer.echo(f"  ~ {line}")
    for line in removed:
        typer.echo(f"  - {line}")
    if (removed or changed) and not accept_changes:
        raise fail(
            f"{len(removed)} clause id(s) would disappear and {len(changed)} would change text; "
            "flows and users rely on them. Review the list, then rerun with --accept-changes.",
            1,
        )
    path = write_index(root, parsed)
    typer.echo(f"wrote {path} ({sum(len(p.clauses) for p in parsed)} clauses)")
    kb_check(knowledge=root, verbose=False)


# -------------------------------------------------------------------------- router
@router_app.command("train")
def router_train(
    knowledge: Annotated[
        Path | None, typer.Option(help="knowledge folder (weights go here)")
    ] = None,
    bench: Annotated[Path | None, typer.Option(help="folder of labelled routing sets")] = None,
) -> None:
    """Train the router on the flows' trigger examples and labelled sets; write its weights."""
    from bot.dialogue import FlowError
    from bot.kb import KnowledgeError
    from bot.paths import bench_dir
    from bot.routing.training import train_and_write

    sets = bench or bench_dir()
    if sets is None:
        raise fail("no labelled sets here (a checkout's bench/ folder); give --bench")
    try:
        train_and_write(_knowledge(knowledge), _settings().flows_dir, sets, typer.echo)
    except (FlowError, KnowledgeError) as exc:
        raise fail(str(exc), 1) from exc


# ------------------------------------------------------------------------------ chat
@app.command()
def chat(
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per bot reply")] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="write the drafts' letters (what you would send) to this file and their "
            "reviewer's notes beside it, to NAME.notes.txt: the first draft replaces them, "
            "later ones go below",
        ),
    ] = None,
    database: Annotated[str | None, typer.Option(help="session database (file or URL)")] = None,
) -> None:
    """Talk to the bot in the terminal (reads lines from standard input when piped)."""
    from bot.channels.console import (
        DraftSaver,
        input_lines,
        is_terminal,
        notes_path,
        run_interactive,
        run_lines,
    )

    if out is not None:
        _check_out(out, database)
        _check_out(notes_path(out), database)  # the reviewer's notes go beside the letters
    engine = _engine(database)
    save = DraftSaver(out)
    if is_terminal() and not as_json:
        run_interactive(engine, save)
    else:
        run_lines(engine, input_lines(sys.stdin), sys.stdout, as_json=as_json, save=save)


@app.command()
def route(
    message: Annotated[str, typer.Argument(help="a message, or - to read one per line")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON output")] = False,
) -> None:
    """Show which flow the router would choose for a message."""
    engine = _engine(":memory:")

    def one(text: str) -> dict[str, Any]:
        r = engine.router.route(text)
        return {
            "message": text,
            "flow": r.flow,
            "confidence": r.confidence,
            "alternatives": [{"flow": f, "confidence": c} for f, c in r.alternatives],
            "risk": r.risk,
            "lookup": r.lookup,
        }

    if message == "-":
        from bot.channels.console import input_lines, unreadable

        for number, line in enumerate(input_lines(sys.stdin), start=1):
            if line is None:
                sys.stdout.write(json.dumps({"error": unreadable(number)}) + "\n")
            elif line.strip():
                sys.stdout.write(json.dumps(one(line.strip()), ensure_ascii=False) + "\n")
        return
    if not message.strip():
        raise fail("the message is empty")
    result = one(message)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
    else:
        typer.echo(
            f"flow: {result['flow'] or '(none: offer the menu)'}  confidence {result['confidence']:.2f}"
        )
        for alt in result["alternatives"]:
            typer.echo(f"  or {alt['flow']} {alt['confidence']:.2f}")


@app.command()
def flows(
    diagram: Annotated[
        str | None, typer.Option("--diagram", help="print this flow as a Mermaid flowchart")
    ] = None,
) -> None:
    """List the protocol flows, or draw one."""
    engine = _engine(":memory:")
    if diagram:
        from bot.dialogue.diagram import mermaid

        if diagram not in engine.flows:
            raise fail(f"unknown flow {diagram!r}; known: {', '.join(engine.flows)}")
        typer.echo(mermaid(engine.flows[diagram]))
        return
    for flow in engine.flows.values():
        typer.echo(f"{flow.id:24} {flow.title}\n{'':24} {flow.description}")


# ------------------------------------------------------------------------------ serve
@serve_app.command("slack")
def serve_slack(
    http: Annotated[
        bool, typer.Option("--http", help="HTTP endpoint instead of Socket Mode")
    ] = False,
    port: Annotated[int, typer.Option("--port")] = 3000,
) -> None:
    """Run the Slack app (Socket Mode when SLACK_APP_TOKEN is set)."""
    try:
        from bot.channels import slack
    except ImportError as exc:
        raise fail("the Slack extra is not installed: pip install 'protocol-bot[slack]'") from exc
    try:
        slack.serve(_settings(), http=http, port=port)
    except ValueError as exc:
        raise fail(str(exc)) from exc


@serve_app.command("telegram")
def serve_telegram(
    listen: Annotated[str, typer.Option(help="webhook mode: address to listen on")] = "0.0.0.0",
    port: Annotated[int, typer.Option(help="webhook mode: port to listen on")] = 8443,
) -> None:
    """Run the Telegram bot (long polling, or a webhook when TELEGRAM_WEBHOOK_URL is set)."""
    try:
        from bot.channels import telegram
    except ImportError as exc:
        raise fail(
            "the Telegram extra is not installed: pip install 'protocol-bot[telegram]'"
        ) from exc
    try:
        telegram.serve(_settings(), listen=listen, port=port)
    except ValueError as exc:
        raise fail(str(exc)) from exc


# ------------------------------------------------------------------------ audit, purge
def _where(database: str | None, settings: Any = None) -> str:
    """The database a command works on: --database, else the setting, else the default."""
    from bot.dialogue import default_database

    if database:
        return database
    return str((settings or _settings()).database or default_database())


def _sqlite_file(where: str) -> Path | None:
    """The file a SQLite setting names (None for a server URL or :memory:)."""
    from bot.dialogue.store import sqlite_path

    path = sqlite_path(where)
    return None if path is None or path == ":memory:" else Path(path)


def _open_stores(where: str, idle_seconds: float) -> tuple[Any, Any]:
    from bot.dialogue import StoreError, open_database

    try:
        return open_database(where, idle_seconds=idle_seconds)
    except StoreError as exc:  # e.g. not a database file, a role without privileges
        raise fail(f"cannot open the database: {exc}", 1) from exc


class ExportFormat(StrEnum):
    csv = "csv"
    jsonl = "jsonl"


@audit_app.command("export")
def audit_export(
    since: Annotated[str, typer.Option("--since", help="first day to include, YYYY-MM-DD (UTC)")],
    fmt: Annotated[ExportFormat, typer.Option("--format", help="csv or jsonl")] = ExportFormat.csv,
    out: Annotated[
        Path | None, typer.Option("--out", help="write to this file, not standard output")
    ] = None,
    database: Annotated[str | None, typer.Option(help="session database (file or URL)")] = None,
) -> None:
    """Export the audit trail from a day on, for a manager's review (no user text in it)."""
    import datetime as dt
    import re

    from bot.dialogue.audit import AuditUnavailable, write_csv, write_jsonl

    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", since.strip()):
            raise ValueError
        day = dt.date.fromisoformat(since.strip())
    except ValueError:
        raise fail(f"--since {since!r}: not a date; use YYYY-MM-DD, e.g. 2026-01-31") from None
    if out is not None:
        _check_out(out, database)
    where = _where(database)
    path = _sqlite_file(where)
    if path is not None and not path.is_file():
        raise fail(f"no database at {path}: nothing has been recorded there", 1)
    store, audit = _open_stores(where, idle_seconds=float("inf"))
    if audit is None:
        store.close()
        raise fail(f"this database keeps no audit log: {where.partition('://')[0]}", 1)
    start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    write = write_csv if fmt is ExportFormat.csv else write_jsonl
    try:
        if out is None:
            count = write(audit.events(start), sys.stdout)
        else:
            from bot.outputs import private_writer

            with private_writer(out) as handle:
                count = write(audit.events(start), handle)
    except AuditUnavailable as exc:
        raise fail(f"could not read the audit log: {exc}", 1) from exc
    except BrokenPipeError:  # piped into head or a closed pager: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(0) from None
    except OSError as exc:
        raise fail(f"--out {out}: {exc.strerror or exc}", 1) from exc
    finally:
        audit.close()
        store.close()
    typer.echo(
        f"{count} audit event(s) since {day.isoformat()}" + (f" -> {out}" if out else ""), err=True
    )


def _duration(text: str) -> float:
    """ "30d" or "12h" -> seconds."""
    import re

    match = re.fullmatch(r"\s*(\d{1,6})\s*([dh])\s*", text, re.IGNORECASE)
    if not match or int(match.group(1)) < 1:
        raise fail(f"--older-than {text!r}: use a number of days or hours, e.g. 30d or 12h")
    return int(match.group(1)) * (86400 if match.group(2).lower() == "d" else 3600)


@app.command()
def purge(
    older_than: Annotated[
        str | None,
        typer.Option(
            "--older-than",
            help="delete audit rows older than this, Nd or Nh "
            "(default: PROTOCOLBOT_AUDIT_RETENTION_DAYS)",
        ),
    ] = None,
    database: Annotated[str | None, typer.Option(help="session database (file or URL)")] = None,
) -> None:
    """Delete expired sessions (with their answers) and audit rows past their retention.

    Sessions idle longer than PROTOCOLBOT_IDLE_MINUTES go (or longer than --older-than, if
    that is shorter). Run it on a schedule, e.g. hourly from cron.
    """
    import datetime as dt
    import time

    from bot.dialogue import StoreError
    from bot.dialogue.audit import AuditUnavailable, WalNotEmptied

    settings = _settings()
    audit_seconds = (
        _duration(older_than) if older_than is not None else settings.audit_retention_days * 86400
    )
    idle_seconds = min(settings.idle_minutes * 60, audit_seconds)
    where = _where(database, settings)
    path = _sqlite_file(where)
    if path is not None and not path.is_file():
        typer.echo(f"nothing to purge: no database at {path}")
        return
    store, audit = _open_stores(where, idle_seconds=idle_seconds)
    try:
        sessions = store.expire()
        # a retention longer than the clock has run ("999999d") keeps everything since 1970
        cutoff = dt.datetime.fromtimestamp(max(time.time() - audit_seconds, 0), dt.UTC)
        events = audit.purge(cutoff) if audit is not None else 0
    except WalNotEmptied as exc:
        typer.echo(f"deleted {sessions} session(s) idle over {idle_seconds / 60:g} minutes")
        raise fail(f"purge incomplete: {exc}", 1) from exc
    except AuditUnavailable as exc:
        raise fail(f"could not purge the audit log: {exc}", 1) from exc
    except StoreError as exc:
        raise fail(f"could not purge sessions: {exc}", 1) from exc
    finally:
        if audit is not None:
            audit.close()
        store.close()
    typer.echo(f"deleted {sessions} session(s) idle over {idle_seconds / 60:g} minutes")
    if audit is None:
        typer.echo("this database keeps no audit log")
    else:
        typer.echo(f"deleted {events} audit event(s) recorded before {cutoff:%Y-%m-%d %H:%M} UTC")


def main() -> None:
    app()
