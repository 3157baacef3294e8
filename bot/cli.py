"""The `protocolbot` command: wires settings, stores and channels. Nothing else wires."""

from __future__ import annotations

import json
import os
import sys
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
app.add_typer(kb_app, name="kb")
app.add_typer(serve_app, name="serve")


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _settings() -> Any:
    from bot.config import Settings

    return Settings()


def _knowledge(path: Path | None = None) -> Path:
    from bot.paths import knowledge_dir

    # read directly: the look-up should not pay for loading every setting at start-up
    configured = os.environ.get("PROTOCOLBOT_KNOWLEDGE")
    return path or (Path(configured) if configured else knowledge_dir())


def _engine(database: str | None = None) -> Any:
    from bot.dialogue import FlowError, open_engine
    from bot.kb import KnowledgeError

    settings = _settings()
    try:
        return open_engine(
            database or settings.database,
            settings.idle_minutes,
            knowledge=settings.knowledge_dir,
            flows=settings.flows_dir,
            contacts=settings.contacts_file,
        )
    except (FlowError, KnowledgeError) as exc:
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
        "status": document.status,
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
    from bot.kb import KnowledgeError, QueryError, open_index

    try:
        index = open_index(_knowledge())
    except KnowledgeError as exc:
        raise fail(str(exc)) from exc
    if query == "-":
        for line in sys.stdin:
            line = line.strip()
            if not line:
                continue
            try:
                result = index.search(line, k=k, document=doc)
                rows = [_hit_json(index, h) for h in result.hits] if result.useful else []
            except QueryError as exc:
                rows = [{"error": str(exc)}]
            sys.stdout.write(json.dumps(rows, ensure_ascii=False) + "\n")
        return
    try:
        result = index.search(query, k=k, document=doc)
    except QueryError as exc:
        raise fail(str(exc)) from exc
    if as_json:
        rows = [_hit_json(index, h) for h in result.hits] if result.useful else []
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        if not result.useful:
            typer.echo("no clause answers that question", err=True)
        return
    from bot.channels.lookup_view import show_result

    show_result(index, result)
    if not result.useful:
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
    if report.errors:
        typer.echo(f"\nFAILED: {len(report.errors)} problem(s)", err=True)
        for error in report.errors:
            typer.echo(f"  - {error}", err=True)
        raise typer.Exit(1)
    typer.echo("OK: every clause is found verbatim in its source and nothing was dropped silently")


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


# ------------------------------------------------------------------------------ chat
@app.command()
def chat(
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per bot reply")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="write each draft to this file")] = None,
    database: Annotated[str | None, typer.Option(help="session database file")] = None,
) -> None:
    """Talk to the bot in the terminal (reads lines from standard input when piped)."""
    from bot.channels.console import DraftSaver, is_terminal, run_interactive, run_lines

    if out is not None and (out.is_dir() or not out.parent.exists()):
        raise fail(f"--out {out}: not a writable file path (its folder must exist)")
    engine = _engine(database)
    save = DraftSaver(out)
    if is_terminal() and not as_json:
        run_interactive(engine, save)
    else:
        run_lines(engine, sys.stdin, sys.stdout, as_json=as_json, save=save)


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
        for line in sys.stdin:
            if line.strip():
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


def main() -> None:
    app()
