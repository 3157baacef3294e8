"""The rule-based router the trained classifier replaced, kept for the bench to compare.

Map a free-text message to a flow, with a confidence, or admit it is not sure.

Each flow is described by its trigger examples, title and description. A message is
compared with them as TF-IDF vectors of stemmed words plus glossary concepts (so
"ombudsmen", "LGSCO" and "council complaint" meet), with typo repair against the flows'
vocabulary. Words that suggest a child may be at risk (misspelt or not) always bring the
safeguarding flow in: it is started, unless the message is clearly about a flow that itself
asks first whether the concern has been referred (press interest in an abuse case), which is
then started with safeguarding offered beside it. A bare name ("lgo") or a message close to
three flows at once asks rather than guesses.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from functools import lru_cache

from bot.dialogue.flow import SAFEGUARDING, Flow
from bot.kb.glossary import CONCEPT_PREFIX, Glossary
from bot.kb.text import STOPWORDS, stem, words
from bot.routing import Route, RoutingData
from bot.routing.words import DOCUMENT_WORDS as _DOCUMENT_WORDS
from bot.routing.words import nearest as _nearest

START = 0.18  # similarity a message needs before a flow is started on its own
LEAD = 1.1  # and how far ahead of the runner-up it must be
PLAUSIBLE = 0.14  # worth offering as an alternative
OFFER_FLOOR = 0.05  # worth offering among three when the bot has to ask
SHORT_LEAD = 1.5  # the lead a one-word message needs
DIFFUSE = 1.25  # three flows this close together: the message is too general to pick one
RISK_LEAD = 1.6  # lead over safeguarding a flow that checks the referral first needs, at risk


class RuleRouter:
    def __init__(self, flows: dict[str, Flow], glossary: Glossary, data: RoutingData) -> None:
        self.flows = flows
        self.glossary = glossary
        self.data = data
        bags: dict[str, Counter[str]] = {}
        for flow in flows.values():
            bag: Counter[str] = Counter()
            for text in (*flow.triggers, flow.title, flow.description):
                bag.update(set(self._terms([stem(w) for w in words(text)])))
            bags[flow.id] = bag
        df = Counter(t for bag in bags.values() for t in bag)
        n = len(bags)
        self._idf = {t: math.log((n + 1) / (d + 0.5)) + 0.2 for t, d in df.items()}
        self._vectors = {fid: self._weigh(bag) for fid, bag in bags.items()}
        self._vocabulary = sorted(
            {w for f in flows.values() for t in (*f.triggers, f.title) for w in words(t)}
            | glossary.surface_words
        )
        self._known = set(self._vocabulary)
        # each flow's title and id as the menu shows them, for a flow chosen by name
        self._names: dict[str, str] = {}
        for flow in flows.values():
            for name in (flow.id.replace("_", " "), flow.title.lower().rstrip(".")):
                self._names.setdefault(name, flow.id)
        # typo repair is memoised per word, as in the clause look-up
        self._repair: Callable[[str], str] = lru_cache(maxsize=4096)(self._repair_uncached)

    def _terms(self, stemmed: list[str]) -> list[str]:
        """A text's features: its stemmed content words and the glossary concepts they name."""
        content = [t for t in stemmed if t not in STOPWORDS]
        return content + self.glossary.concepts(stemmed)

    def _repair_uncached(self, word: str) -> str:
        if word in self._known or len(word) < 5 or word.isdigit() or word in STOPWORDS:
            return word
        return _nearest(word, self._vocabulary, 84)

    def _weigh(self, bag: Counter[str]) -> dict[str, float]:
        vector = {t: (1 + math.log(c)) * self._idf.get(t, 0.0) for t, c in bag.items()}
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        return {t: v / norm for t, v in vector.items()}

    def about_a_child(self, text: str) -> bool:
        # "the Children's Commissioner" is not a child
        return self.data.children.found_in(text)

    def in_domain(self, text: str) -> bool:
        """Whether the text names anything of the protocols' world, or a child."""
        return self.data.domain.found_in(text) or self.about_a_child(text)

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

    def route(self, text: str) -> Route:
        named = self.named_flow(text)
        if named:  # chosen by name: no need to guess
            return Route(named, 1.0, (named,), scores={named: 1.0})
        surface = words(text)
        risk = self.has_risk(text)
        content = [w for w in surface if w not in STOPWORDS and w not in self.data.small_talk]
        if not content and not risk:
            return Route(None, 0.0, small_talk=True)
        repaired = [self._repair(w) for w in surface]
        query = self._weigh(Counter(self._terms([stem(w) for w in repaired])))
        scores = {
            fid: round(sum(w * vec.get(t, 0.0) for t, w in query.items()), 4)
            for fid, vec in self._vectors.items()
        }
        ranked = sorted(scores, key=lambda f: -scores[f])
        top, best = ranked[0], scores[ranked[0]]
        runner = scores[ranked[1]] if len(ranked) > 1 else 0.0
        plausible = tuple(f for f in ranked if scores[f] >= PLAUSIBLE)
        names_document = bool(set(surface) & _DOCUMENT_WORDS)
        if self.looks_like_lookup(text) and (not risk or names_document):
            return Route(None, best, plausible[:3], risk, lookup=True, scores=scores)
        if self.data.domain and not risk and not self.in_domain(" ".join(repaired)):
            # nothing of the protocols' world in it ("book a train to Bristol"): the menu
            return Route(None, best, scores=scores)
        # one shared word is not enough to start a flow ("recommend a good book")
        content_terms = {t for t in query if not t.startswith(CONCEPT_PREFIX)}
        shared = {t for t in content_terms if self._vectors[top].get(t)}
        enough = best >= START and len(shared) >= min(2, len(content_terms))
        if risk and SAFEGUARDING in self.flows:
            others = [f for f in plausible if f != SAFEGUARDING]
            if (
                self.flows[top].checks_referral_first
                and enough
                and best >= RISK_LEAD * scores.get(SAFEGUARDING, 0.0)
            ):
                # press interest in an abuse case: that flow, which asks first whether the
                # concern has been referred and runs safeguarding if not; safeguarding is offered
                offer = (top, SAFEGUARDING, *[f for f in others if f != top])[:3]
                return Route(top, best, offer, True, scores=scores)
            # a child may be at risk: safeguarding comes first, whatever else the message is about
            offer = (SAFEGUARDING, *others)[:3]
            return Route(SAFEGUARDING, max(scores[SAFEGUARDING], START), offer, True, scores=scores)
        third = scores[ranked[2]] if len(ranked) > 2 else 0.0
        # a bare name ("lgo", "the ombudsman") says little: it must point at one flow clearly
        lead = LEAD if len(content_terms) > 1 else SHORT_LEAD
        clear = (runner < PLAUSIBLE or best >= lead * runner) and best >= DIFFUSE * third
        if enough and clear:
            return Route(top, best, plausible[:3], scores=scores)
        # unsure: ask, offering the likeliest three with any real claim (the right one is
        # among them far more often than among the plausible ones alone)
        likely = [f for f in ranked if scores[f] >= OFFER_FLOOR]
        if SAFEGUARDING in self.flows and self.about_a_child(text):
            # and about a child: ask about a possible risk first
            likely = [SAFEGUARDING, *[f for f in likely if f != SAFEGUARDING]]
        return Route(None, best, tuple(likely[:3]), scores=scores)
