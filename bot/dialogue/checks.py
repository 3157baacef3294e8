"""`kb check` for everything the bot loads: clauses, flows, contacts and routing data."""

from __future__ import annotations

from pathlib import Path

from bot.dialogue.loading import FlowError, load_flows
from bot.kb import KnowledgeError
from bot.kb.check import CheckReport, check_knowledge
from bot.kb.directory import DIRECTORY_FILE, read_directory, summary
from bot.kb.glossary import Glossary
from bot.paths import flows_dir


def full_check(knowledge: Path, flows: Path | None = None) -> CheckReport:
    from bot.dialogue import load_contacts

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
            loaded = load_flows(
                flows or flows_dir(), clause_ids=report.clause_ids, contacts=contacts
            )
        except FlowError as exc:
            report.errors.append(str(exc))
            return
        steps = sum(len(f.steps) for f in loaded.values())
        report.sections.append(f"flows: {len(loaded)} valid ({steps} steps): {', '.join(loaded)}")

    def directory(report: CheckReport) -> None:
        found, problems = read_directory(knowledge / DIRECTORY_FILE)
        report.errors.extend(problems)
        report.sections.append(summary(found))

    return check_knowledge(knowledge, [extras, directory])
