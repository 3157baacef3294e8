"""`kb check` for everything the bot loads: clauses, flows, contacts, routing data and the
router's weights."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot.dialogue.contact_rules import (
    check_case_data_routes,
    check_contacts_named,
    contacts_say_case_data,
)
from bot.dialogue.flow import Flow
from bot.dialogue.loading import FlowError, load_flows, read_flows
from bot.dialogue.screening import check_risk_screening
from bot.drafting.render import DraftRenderer
from bot.kb import KnowledgeError
from bot.kb.check import CheckReport, check_knowledge
from bot.kb.directory import DIRECTORY_FILE, read_directory, summary
from bot.kb.glossary import Glossary
from bot.paths import bench_dir, flows_dir
from bot.routing.freshness import check_weights


def _safety_rules(
    report: CheckReport, folder: Path, contacts: Mapping[str, Any], knowledge: Path
) -> None:
    """The rules every flow must obey for the safety net: risk asked on every path, case
    data only to case-data routes, and no contact that is not in the contacts data."""
    flows: dict[str, tuple[Flow, str]] = read_flows(folder)
    screening = check_risk_screening(flows)
    report.errors.extend(screening.problems)
    report.sections.append(screening.summary())
    directory, _ = read_directory(knowledge / DIRECTORY_FILE)  # its problems: reported below
    renderer = DraftRenderer(folder / "templates", contacts, directory)
    report.errors.extend(contacts_say_case_data(contacts))
    report.errors.extend(check_case_data_routes(flows, renderer))
    report.errors.extend(check_contacts_named(flows, renderer, directory))


def full_check(knowledge: Path, flows: Path | None = None) -> CheckReport:
    from bot.dialogue import load_contacts

    folder = flows or flows_dir()

    def extras(report: CheckReport) -> None:
        try:
            Glossary.load(knowledge / "glossary.yaml")
            contacts = load_contacts(knowledge / "contacts.yaml")
        except KnowledgeError as exc:
            report.errors.append(str(exc))
            return
        for name, entry in contacts.items():
            if name != "practice" and (not isinstance(entry, dict) or "source" not in entry):
                report.errors.append(
                    f"contacts.yaml: {name!r} needs a 'source' (and verified: false)"
                )
        try:
            loaded = load_flows(folder, clause_ids=report.clause_ids, contacts=contacts)
        except FlowError as exc:
            report.errors.append(str(exc))
            return
        steps = sum(len(f.steps) for f in loaded.values())
        report.sections.append(f"flows: {len(loaded)} valid ({steps} steps): {', '.join(loaded)}")
        _safety_rules(report, folder, contacts, knowledge)

    def directory(report: CheckReport) -> None:
        found, problems = read_directory(knowledge / DIRECTORY_FILE)
        report.errors.extend(problems)
        report.sections.append(summary(found))

    def routing(report: CheckReport) -> None:
        _routing_weights(knowledge, flows or flows_dir(), report)

    return check_knowledge(knowledge, [extras, directory, routing])


def _routing_weights(knowledge: Path, flows: Path, report: CheckReport) -> None:
    """The router's weights must have been trained on the flows the bot ships and the
    labelled sets there now."""
    bundled = flows.resolve() == flows_dir().resolve()
    problems, line = check_weights(knowledge, flows, bench_dir(), bundled=bundled)
    report.errors.extend(problems)
    report.sections.append(line)
