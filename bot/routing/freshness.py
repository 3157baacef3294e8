"""Whether the shipped router weights were trained on the flows and labelled sets there now.

`kb check` fails when they were not: a flow added, a trigger example changed or a labelled
set edited since the last `protocolbot router train` leaves the router deciding from
examples that are no longer there. Where there are no labelled sets (an installed package
carries none), only the flows are compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.kb.documents import KnowledgeError, read_yaml
from bot.routing.model import MODEL_FILE, RETRAIN, RoutingModel
from bot.routing.sets import TrainingConfig, flows_digest, sets_digest


@dataclass(frozen=True)
class _FlowText:
    id: str
    title: str
    triggers: tuple[str, ...]


def _flow_texts(flows: Path) -> dict[str, _FlowText]:
    """Each flow file's id, title and trigger examples, read as written."""
    found: dict[str, _FlowText] = {}
    for path in sorted(flows.glob("*.yaml")):
        raw = read_yaml(path, "a flow")
        if isinstance(raw, dict) and isinstance(raw.get("id"), str):
            triggers = tuple(str(t) for t in raw.get("triggers") or ())
            found[raw["id"]] = _FlowText(raw["id"], str(raw.get("title", "")), triggers)
    return found


def check_weights(
    knowledge: Path, flows: Path, bench: Path | None, *, bundled: bool = True
) -> tuple[list[str], str]:
    """Problems with the router's weights (stale or unreadable), and a one-line summary.

    Weights trained on other flows are a problem for the flows the bot ships (`bundled`);
    for another folder of flows (a test's, say) the summary says so and nothing fails."""
    path = knowledge / MODEL_FILE
    try:
        model = RoutingModel.load(path)
        texts = _flow_texts(flows)
    except KnowledgeError as exc:
        return [str(exc)], "router weights: not checked"
    problems = []
    inputs = model.provenance
    other_flows = []
    if flows_digest(texts) != inputs.flows:
        other_flows.append(
            f"{MODEL_FILE}: the router was trained on other flows or trigger examples than "
            f"those in {flows}; retrain it with `{RETRAIN}`"
        )
    missing = sorted(set(texts) - set(model.classes))
    if missing:
        other_flows.append(f"{MODEL_FILE}: no weights for the flow(s) {', '.join(missing)}")
    if bundled:
        problems.extend(other_flows)
    sets = "the labelled sets not compared (no bench folder here)"
    if bench is not None and bench.is_dir():
        try:
            config = TrainingConfig.load(bench)
            digest = sets_digest(config.training_sets(bench), config)
        except KnowledgeError as exc:
            return [*problems, str(exc)], "router weights: not checked"
        if digest != inputs.sets:
            problems.append(
                f"{MODEL_FILE}: the labelled sets in {bench} have changed since the router "
                f"was trained; retrain it with `{RETRAIN}`"
            )
        sets = f"{len(inputs.trained_on)} labelled sets"
    state = "stale" if problems else "up to date"
    if other_flows and not bundled:
        state = f"trained on other flows than {flows}; theirs start from the menu or by title"
    return problems, f"router weights: {state} ({len(texts)} flows; {sets})"
