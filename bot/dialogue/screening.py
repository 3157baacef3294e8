"""`kb check`: every flow asks about risk to a child on every path from its start to its end.

A path is screened when it passes a question marked ``screens_risk: true``, or a ``call`` of
the safeguarding flow, or a ``call`` of (or ``link`` to) a flow that is itself screened on
every path; a ``link`` hands the path over to that flow, so the linked flow's paths count as
this one's. A flow that need not ask (its subject is never a child's case) says why in
``risk_check_exempt``; the check lists those declarations so a reviewer sees every one. An
exempt flow screens nothing for a flow that calls or links to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.dialogue.flow import END, SAFEGUARDING, Flow, Step

__all__ = ["Screening", "check_risk_screening"]


@dataclass
class Screening:
    problems: list[str] = field(default_factory=list)
    exempt: dict[str, str] = field(default_factory=dict)  # flow id -> the reason it gives
    screened: list[str] = field(default_factory=list)  # flows that ask on every path

    def summary(self) -> str:
        line = f"risk screening: {len(self.screened)} flows ask about risk to a child on every path"
        if self.exempt:
            declared = "; ".join(f"{f}: {why}" for f, why in sorted(self.exempt.items()))
            line += f"; exempt by declaration: {declared}"
        return line


class _Paths:
    """The unscreened paths of each flow, worked out once per flow."""

    def __init__(self, flows: Mapping[str, Flow]) -> None:
        self.flows = flows
        self._screened: dict[str, bool] = {}
        self._busy: set[str] = set()

    def screened(self, flow_id: str) -> bool:
        """Whether every path through the flow asks about risk (safeguarding always does)."""
        if flow_id == SAFEGUARDING:
            return True
        flow = self.flows.get(flow_id)
        if flow is None or flow.risk_check_exempt or flow_id in self._busy:
            return False  # an exempt flow, or one that leads back round to itself
        if flow_id not in self._screened:
            self._busy.add(flow_id)
            self._screened[flow_id] = not self.unscreened(flow)
            self._busy.discard(flow_id)
        return self._screened[flow_id]

    def _screens(self, step: Step) -> bool:
        if step.screens_risk:
            return True
        other = step.call or step.link
        return other is not None and self.screened(other)

    def unscreened(self, flow: Flow) -> dict[str, list[str]]:
        """For each step from which the flow ends without having asked, the shortest path
        from the start to it (breadth first, never through a step that screens)."""
        known = {s.id for s in flow.steps}
        came_from: dict[str, str | None] = {flow.start: None}
        queue = [flow.start] if flow.start in known else []
        ends: dict[str, list[str]] = {}
        while queue:
            step_id = queue.pop(0)
            step = flow.step(step_id)
            if self._screens(step):
                continue
            targets = step.targets()
            if step.link or (step.draft and not targets) or END in targets:
                path = [step_id]
                while (before := came_from[path[-1]]) is not None:
                    path.append(before)
                ends.setdefault(step_id, path[::-1])
            if step.link:
                continue  # the path carries on in the linked flow, which does not screen it
            for target in targets:
                if target in known and target not in came_from:
                    came_from[target] = step_id
                    queue.append(target)
        return ends


def check_risk_screening(flows: Mapping[str, tuple[Flow, str]]) -> Screening:
    """Every flow but safeguarding, with the file it came from: a problem for each step at
    which it can end without asking, naming the file, the step and a path that gets there."""
    found = Screening()
    paths = _Paths({flow_id: flow for flow_id, (flow, _) in flows.items()})
    for flow_id, (flow, where) in flows.items():
        if flow_id == SAFEGUARDING:
            continue
        if flow.risk_check_exempt:
            found.exempt[flow_id] = flow.risk_check_exempt
            continue
        ends = paths.unscreened(flow)
        if not ends:
            found.screened.append(flow_id)
        for step_id, path in ends.items():
            step = flow.step(step_id)
            how = f"hands over to {step.link!r}" if step.link else "ends"
            found.problems.append(
                f"{where}: step {step_id!r}: the flow {how} here without asking whether a "
                f"child may be at risk ({' -> '.join(path)}); mark its risk question "
                f"screens_risk: true, call {SAFEGUARDING!r} on the way, or declare "
                "risk_check_exempt: <why this flow need not ask>"
            )
    return found
