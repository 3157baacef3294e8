"""How well routes answer labelled messages: the figures training and the bench print.

A message is routed right when the started flow is its flow (none started for an
off-topic message or a look-up), or, for an ambiguous message, when the bot asks with
both plausible flows on offer. A wrong start is a flow started that the message did not
mean (an off-topic message started as a flow counts too).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields

from bot.routing.policy import Route
from bot.routing.sets import Case


def right(case: Case, route: Route) -> bool:
    if case.kind == "ambiguous":
        return route.flow is None and set(case.plausible) <= set(route.offer)
    return route.flow == case.flow


def wrong_start(case: Case, route: Route) -> bool:
    if route.flow is None:
        return False
    if case.kind == "ambiguous":
        return route.flow not in case.plausible
    return route.flow != case.flow


@dataclass
class Figures:
    messages: int = 0
    right: int = 0
    wrong_starts: int = 0
    safeguarding: int = 0
    safeguarding_started: int = 0
    safeguarding_offered_first: int = 0
    offtopic: int = 0
    offtopic_started: int = 0
    ambiguous: int = 0
    ambiguous_asked_both: int = 0

    def add(self, case: Case, route: Route, safeguarding: str) -> None:
        self.messages += 1
        self.right += right(case, route)
        self.wrong_starts += wrong_start(case, route)
        if case.flow == safeguarding:
            self.safeguarding += 1
            self.safeguarding_started += route.flow == safeguarding
            self.safeguarding_offered_first += route.flow is None and route.offer[:1] == (
                safeguarding,
            )
        if case.kind == "offtopic":
            self.offtopic += 1
            self.offtopic_started += route.flow is not None
        if case.kind == "ambiguous":
            self.ambiguous += 1
            self.ambiguous_asked_both += right(case, route)

    def __iadd__(self, other: Figures) -> Figures:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self

    @property
    def accuracy(self) -> float:
        return self.right / self.messages if self.messages else 0.0

    @property
    def safeguarding_lost(self) -> int:
        """Safeguarding messages neither started nor offered first."""
        return self.safeguarding - self.safeguarding_started - self.safeguarding_offered_first

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def line(self) -> str:
        return (
            f"accuracy {self.accuracy:.3f} ({self.right}/{self.messages}); wrong flow started "
            f"{self.wrong_starts} ({self.wrong_starts / max(self.messages, 1):.1%}); "
            f"safeguarding started {self.safeguarding_started}/{self.safeguarding}, or offered "
            f"first {self.safeguarding_offered_first}; off-topic started "
            f"{self.offtopic_started}/{self.offtopic}; ambiguous asked with both on offer "
            f"{self.ambiguous_asked_both}/{self.ambiguous}"
        )


def figures(cases: Iterable[Case], routes: Iterable[Route], safeguarding: str) -> Figures:
    total = Figures()
    for case, route in zip(cases, routes, strict=True):
        total.add(case, route, safeguarding)
    return total
