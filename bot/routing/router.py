"""Map a free-text message to a flow, with a confidence, or admit it is not sure.

A trained linear classifier (see model.py) scores the message against every flow, against
"a question about a document" and against "nothing of the protocols". Around it, rules
that must hold whatever the classifier learnt: a typed flow title or id starts that flow;
small talk gets the menu; risk words (misspelt or not), or a high enough safeguarding
score, never let a message that may be about a child at risk end without safeguarding:
it is started, or offered first when the bot asks. A message close to two flows asks,
with both on offer; a close call that starts a flow names the runner-up; a bare word that
several flows use ("lgo") asks which; a message naming nothing of the protocols' world
(knowledge/routing.yaml's domain words: "book a train to Leeds") gets the menu.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from bot.kb.glossary import Glossary
from bot.kb.text import STOPWORDS, stem, words
from bot.routing.model import RoutingModel
from bot.routing.policy import Route, Signals, decide
from bot.routing.sets import NOT_A_FLOW, FlowLike
from bot.routing.words import DOCUMENT_WORDS, RoutingData


class RoutedFlow(FlowLike, Protocol):
    @property
    def checks_referral_first(self) -> bool: ...


class Cues:
    """The signals the router reads from a message besides the classifier's scores."""

    def __init__(self, flows: Mapping[str, FlowLike], data: RoutingData) -> None:
        self.data = data
        # which flows' titles and trigger examples use each word: a message that is one
        # bare word used by several ("lgo", "cqc") asks which is meant
        self._users: dict[str, set[str]] = {}
        for flow in flows.values():
            for text in (flow.title, *flow.triggers):
                for word in words(text):
                    self._users.setdefault(stem(word), set()).add(flow.id)

    def content(self, text: str) -> list[str]:
        return [w for w in words(text) if w not in STOPWORDS and w not in self.data.small_talk]

    def in_domain(self, text: str) -> bool:
        """Whether the text names anything of the protocols' world (a body, a setting, a
        procedure) or a child; with no domain words listed, every text does."""
        data = self.data
        return not data.domain or data.domain.found_in(text) or data.children.found_in(text)

    def of(self, text: str) -> Signals:
        content = self.content(text)
        shared = sorted(self._users.get(stem(content[0]), ())) if len(content) == 1 else []
        return Signals(
            risk_words=self.data.risk.found_in(text),
            lookup_cue=self.data.looks_like_lookup(text),
            names_document=bool(set(words(text)) & DOCUMENT_WORDS),
            bare_name_of=tuple(shared) if len(shared) > 1 else (),
            in_domain=self.in_domain(text),
        )


class Router:
    def __init__(
        self,
        flows: Mapping[str, RoutedFlow],
        glossary: Glossary,
        data: RoutingData,
        model: RoutingModel,
        *,
        safeguarding: str,
    ) -> None:
        self.flows = flows
        self.glossary = glossary
        self.data = data
        self.model = model
        self.safeguarding = safeguarding
        self.cues = Cues(flows, data)
        self._referral_first = frozenset(f.id for f in flows.values() if f.checks_referral_first)
        # flows the weights know but the loaded flows lack are never offered
        self._unknown = frozenset(model.classes) - set(flows) - set(NOT_A_FLOW)
        # each flow's title and id as the menu shows them, for a flow chosen by name
        self._names: dict[str, str] = {}
        for flow in flows.values():
            for name in (flow.id.replace("_", " "), flow.title.lower().rstrip(".")):
                self._names.setdefault(name, flow.id)

    def about_a_child(self, text: str) -> bool:
        # "the Children's Commissioner" is not a child
        return self.data.children.found_in(text)

    def in_domain(self, text: str) -> bool:
        """Whether the text names anything of the protocols' world, or a child."""
        return self.cues.in_domain(text)

    def has_risk(self, text: str) -> bool:
        """Risk words in the text, misspelt or not ("stay in touch" is not "touching")."""
        return self.data.risk.found_in(text)

    def looks_like_lookup(self, text: str) -> bool:
        """A question about what a document says, naming no case in hand."""
        return self.data.looks_like_lookup(text)

    def named_flow(self, text: str) -> str | None:
        """The flow whose title or id the text is, as the menu shows it."""
        wanted = " ".join(text.lower().replace("_", " ").split()).strip(".!?\"'“”")
        return self._names.get(wanted)

    def probabilities(self, text: str) -> dict[str, float]:
        """The classifier's probability for each flow it knows (and look-up, none)."""
        found = self.model.probabilities(text)
        return {c: p for c, p in found.items() if c not in self._unknown}

    def route(self, text: str) -> Route:
        named = self.named_flow(text)
        if named:  # chosen by name: no need to guess
            return Route(named, 1.0, (named,), scores={named: 1.0})
        signals = self.cues.of(text)
        if not signals.risk_words and not self.cues.content(text):
            return Route(None, 0.0, small_talk=True)
        return decide(
            self.probabilities(text),
            signals,
            self.model.thresholds,
            self.safeguarding,
            self._referral_first,
        )
