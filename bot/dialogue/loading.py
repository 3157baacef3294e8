"""Load flows from YAML and refuse to start on anything a user could trip over."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot.dialogue.flow import CALLED_FROM, DAYS_AGO, END, SAFEGUARDING, Flow, Step
from bot.dialogue.safety import DRAFT_CONTEXT
from bot.drafting.render import GLOBALS, DraftRenderer, TemplateProblem
from bot.kb.documents import KnowledgeError, read_yaml


class FlowError(Exception):
    """A flow file is invalid; the message names the file and the step."""


def _read(path: Path) -> Flow:
    try:
        raw = read_yaml(path, "flow")
    except KnowledgeError as exc:  # named as the flows' other problems are, by file name
        raise FlowError(f"{path.name}: cannot read: {exc.__cause__}") from exc.__cause__
    try:
        return Flow.model_validate(raw)
    except ValidationError as exc:
        raise FlowError(f"{path.name}: invalid flow:\n{exc}") from exc


EARLY_STEPS = 4  # how soon a flow that checks the referral first must be able to call it


def _depths(flow: Flow) -> dict[str, int]:
    """Each step reachable from the start, with the fewest steps taken to get there."""
    known = {s.id for s in flow.steps}
    depths = {flow.start: 0} if flow.start in known else {}
    frontier = list(depths)
    while frontier:
        step_id = frontier.pop(0)
        for target in flow.step(step_id).targets():
            if target in known and target not in depths:
                depths[target] = depths[step_id] + 1
                frontier.append(target)
    return depths


def _can_finish(flow: Flow) -> set[str]:
    """Steps from which the flow can end (a link also ends it)."""
    done: set[str] = set()
    changed = True
    while changed:
        changed = False
        for step in flow.steps:
            if step.id in done:
                continue
            targets = step.targets()
            finishes = step.link is not None or (step.draft is not None and not targets)
            if finishes or any(t == END or t in done for t in targets):
                done.add(step.id)
                changed = True
    return done


def validate_flow(
    flow: Flow,
    where: str,
    *,
    flow_ids: Collection[str],
    clause_ids: Collection[str],
    renderer: DraftRenderer,
) -> list[str]:
    problems: list[str] = []
    ids = [s.id for s in flow.steps]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        problems.append(f"{where}: step {dup!r} is defined twice")
    asks = flow.asks()
    known = set(asks) | GLOBALS | DRAFT_CONTEXT  # what a template may use

    def at(step: Step) -> str:
        return f"{where}: step {step.id!r}"

    for step in flow.steps:
        for target in step.targets():
            if target != END and target not in ids:
                problems.append(f"{at(step)}: next goes to unknown step {target!r}")
        if step.next is None and not (step.link or step.draft):
            problems.append(f"{at(step)}: dead end (no 'next'; use 'next: end' to finish)")
        if isinstance(step.next, tuple):
            if step.next[-1].when is not None:
                problems.append(f"{at(step)}: branches must end with an 'else'")
            for branch in step.next:
                for key, values in (branch.when or {}).items():
                    if key == CALLED_FROM:
                        bad = sorted(set(values) - set(flow_ids))
                        if bad:
                            problems.append(
                                f"{at(step)}: condition on {CALLED_FROM!r} names unknown "
                                f"flow(s) {bad}"
                            )
                        continue
                    if key not in asks:
                        problems.append(
                            f"{at(step)}: condition on {key!r}, which this flow never asks"
                        )
                        continue
                    if asks[key].type == "date":
                        bad = sorted(v for v in values if not DAYS_AGO.match(v))
                        if bad:
                            problems.append(
                                f"{at(step)}: condition on the date {key!r} uses {bad}; "
                                "write 'more than N days ago'"
                            )
                        continue
                    allowed = {c.value for c in asks[key].choices()}
                    if allowed and not set(values) <= allowed:
                        bad = sorted(set(values) - allowed)
                        problems.append(
                            f"{at(step)}: condition on {key!r} uses {bad}, not one of {sorted(allowed)}"
                        )
        for clause_id in step.cite:
            if clause_id not in clause_ids:
                problems.append(f"{at(step)}: cites unknown clause {clause_id!r}")
        if step.say and not step.cite and not step.plain:
            problems.append(
                f"{at(step)}: guidance must cite at least one clause (or be marked plain: true)"
            )
        for other in (step.call, step.link):
            if other and other not in flow_ids:
                problems.append(f"{at(step)}: refers to unknown flow {other!r}")
        if step.call == flow.id:
            problems.append(f"{at(step)}: a flow cannot call itself")
        try:
            texts = [t for t in (step.ask, step.say, step.reask) if t]
            used = set().union(*(renderer.string_variables(t) for t in texts)) if texts else set()
            if "note" in used:
                problems.append(
                    f"{at(step)}: note() records a line for a draft's reviewer's notes; it "
                    "belongs in draft templates, not in what a step says or asks"
                )
            if step.draft:
                used |= renderer.variables(step.draft)
        except TemplateProblem as exc:
            problems.append(f"{at(step)}: {exc}")
            continue
        for name in sorted(used - known):
            problems.append(
                f"{at(step)}: template uses {name!r}, which is not an answer of this flow"
            )
    depths = _depths(flow)
    calls_early = any(
        flow.step(i).call == SAFEGUARDING for i, depth in depths.items() if depth < EARLY_STEPS
    )
    if flow.checks_referral_first and not calls_early:
        problems.append(
            f"{where}: checks_referral_first is set, but no step within the first "
            f"{EARLY_STEPS} calls {SAFEGUARDING!r}"
        )
    for step_id in ids:
        if step_id not in depths:
            problems.append(f"{where}: step {step_id!r} cannot be reached from the start")
    finishing = _can_finish(flow)
    for step_id in ids:
        if step_id in depths and step_id not in finishing:
            problems.append(f"{where}: step {step_id!r} is in a loop with no way to finish")
    return problems


def read_flows(directory: Path) -> dict[str, tuple[Flow, str]]:
    """Every flow in the folder by id, with the name of its file; not yet validated."""
    paths = sorted(directory.glob("*.yaml"))
    if not paths:
        raise FlowError(f"{directory}: no flow files (*.yaml)")
    flows: dict[str, tuple[Flow, str]] = {}
    for path in paths:
        flow = _read(path)
        if flow.id in flows:
            raise FlowError(f"{path.name}: flow id {flow.id!r} is also used by {flows[flow.id][1]}")
        flows[flow.id] = (flow, path.name)
    return flows


def load_flows(
    directory: Path, *, clause_ids: Collection[str], contacts: Mapping[str, Any]
) -> dict[str, Flow]:
    flows = read_flows(directory)
    renderer = DraftRenderer(directory / "templates", contacts)
    problems: list[str] = []
    for flow, name in flows.values():
        problems += validate_flow(
            flow, name, flow_ids=flows.keys(), clause_ids=clause_ids, renderer=renderer
        )
    if problems:
        raise FlowError("the flows have problems:\n  " + "\n  ".join(problems))
    return {flow_id: flow for flow_id, (flow, _) in flows.items()}
