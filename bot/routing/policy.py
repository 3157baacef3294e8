"""From the classifier's scores to a decision: start a flow, ask, look up, or show the menu.

The same function decides at run time and when training tunes the thresholds, so the
figures training prints are the figures of the router that ships.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields

from bot.routing.sets import LOOKUP, NOT_A_FLOW, OTHER

CLOSE = 0.5  # a runner-up scoring this share of the started flow's score is named beside it


@dataclass(frozen=True)
class Route:
    """The router's decision: a flow to start, or choices to offer, or neither.

    flow       the flow to start now, or None
    offer      flows to offer when unsure, likeliest first (safeguarding first when at risk)
    """

    flow: str | None
    confidence: float
    offer: tuple[str, ...] = ()
    risk: bool = False
    small_talk: bool = False
    lookup: bool = False
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def close_runner_up(self) -> str | None:
        """The next likeliest flow when a started flow won a close call, else None."""
        if not self.flow:
            return None
        best = self.scores.get(self.flow, 0.0)
        for other in self.offer:
            if other != self.flow:
                return other if best and self.scores.get(other, 0.0) >= CLOSE * best else None
        return None

    @property
    def alternatives(self) -> tuple[tuple[str, float], ...]:
        return tuple((f, self.scores.get(f, 0.0)) for f in self.offer if f != self.flow)


@dataclass(frozen=True)
class Thresholds:
    """Where the classifier's probabilities turn into actions (tuned by training).

    start        a flow is started on its own at this probability or more ...
    margin       ... and this far ahead of the runner-up
    start_risk   safeguarding is started at this probability when risk words are present
    risk         a safeguarding probability this high says a child may be at risk
    none         no flow: the menu (or a look-up) when off-topic and look-up together reach this
    offer        a flow this likely is offered when the bot asks
    """

    start: float = 0.5
    margin: float = 0.2
    start_risk: float = 0.3
    risk: float = 0.2
    none: float = 0.5
    offer: float = 0.05

    def as_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Signals:
    """What the router reads from a message besides the classifier's scores."""

    risk_words: bool  # words that suggest a child may be at risk
    lookup_cue: bool  # phrased as a question about what a document says, naming no case
    names_document: bool  # names a document or a clause ("the MoU", "para 12")
    bare_name_of: tuple[str, ...] = ()  # one bare word several flows use ("lgo"): those flows
    in_domain: bool = True  # names something of the protocols' world, or a child


def decide(
    probabilities: Mapping[str, float],
    signals: Signals,
    thresholds: Thresholds,
    safeguarding: str,
    referral_first: frozenset[str] = frozenset(),
) -> Route:
    """The route for one message from its class probabilities (flows, look-up, none)."""
    t = thresholds
    scores = {c: round(float(p), 4) for c, p in probabilities.items() if c not in NOT_A_FLOW}
    ranked = sorted(scores, key=lambda f: -scores[f])
    if not ranked:
        return Route(None, 0.0)
    top, best = ranked[0], scores[ranked[0]]
    runner = scores[ranked[1]] if len(ranked) > 1 else 0.0
    lookup_p = float(probabilities.get(LOOKUP, 0.0))
    none_p = lookup_p + float(probabilities.get(OTHER, 0.0))
    safe_p = scores.get(safeguarding, 0.0)
    at_risk = safeguarding in scores and (signals.risk_words or safe_p >= t.risk)
    clear = best >= t.start and best - runner >= t.margin
    # offered when the bot asks: the likeliest three; beside a flow it starts: those with a
    # real claim only (the engine names them)
    likely = tuple(ranked[:3]) if best >= t.offer else ()
    plausible = tuple(f for f in ranked[:3] if scores[f] >= t.offer)
    others = tuple(f for f in likely if f != safeguarding)
    also = tuple(f for f in plausible if f != safeguarding)
    if not signals.in_domain and not signals.risk_words:
        # nothing of the protocols' world ("book a train to Leeds"): the menu, or a question
        # with safeguarding first if the classifier still thinks a child may be at risk
        if at_risk:
            return Route(None, best, (safeguarding, *others)[:3], True, scores=scores)
        return Route(None, best, scores=scores)
    if at_risk:
        if signals.lookup_cue and signals.names_document and not clear:
            return Route(None, best, likely, True, lookup=True, scores=scores)
        if (top == safeguarding and clear) or (signals.risk_words and safe_p >= t.start_risk):
            # (a message about something else as well, with risk words: safeguarding first)
            return Route(safeguarding, safe_p, (safeguarding, *also)[:3], True, scores=scores)
        if top in referral_first and clear:
            # press interest in an abuse case: that flow asks first whether the concern has
            # been referred and runs safeguarding if not; safeguarding is offered beside it
            offer = (top, safeguarding, *[f for f in also if f != top])[:3]
            return Route(top, best, offer, True, scores=scores)
        # a child may be at risk: ask, with safeguarding first
        return Route(None, best, (safeguarding, *others)[:3], True, scores=scores)
    if signals.bare_name_of:  # "lgo": which of the flows that use the word?
        named = sorted(signals.bare_name_of, key=lambda f: -scores.get(f, 0.0))
        return Route(None, best, tuple(named[:3]), scores=scores)
    if clear and none_p < best:
        return Route(top, best, plausible, scores=scores)
    if none_p >= t.none or not likely:
        other_p = none_p - lookup_p
        if lookup_p >= other_p or (signals.lookup_cue and signals.names_document):
            return Route(None, best, likely, lookup=True, scores=scores)
        return Route(None, best, scores=scores)
    if signals.lookup_cue:
        return Route(None, best, likely, lookup=True, scores=scores)
    return Route(None, best, likely, scores=scores)
