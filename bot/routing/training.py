"""`protocolbot router train`: fit the router's classifier and tune where it acts.

Reads the flows' titles and trigger examples and every labelled set in bench/ except the
test sets, and:

1. for each candidate kind of feature, fits a TF-IDF logistic regression with each
   labelled set left out in turn (leave-one-set-out), scoring the left-out set with the
   same numpy inference that runs in the bot;
2. tunes the start, ask, risk and menu thresholds on those out-of-set scores, for few
   wrong starts and no safeguarding message lost;
3. keeps the kind of feature that did best, fits it on everything, and exports the weights
   with the hashes of the inputs and the cross-validated figures.

scikit-learn is needed here only (the `train` extra); the bot runs the weights with numpy.
The same inputs give the same weights, byte for byte.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.kb.documents import KnowledgeError
from bot.routing.evaluation import Figures, figures
from bot.routing.features import Features, ngrams
from bot.routing.model import Provenance, RoutingModel
from bot.routing.policy import Route, Signals, Thresholds, decide
from bot.routing.router import Cues, RoutedFlow
from bot.routing.sets import (
    Case,
    Example,
    TrainingConfig,
    examples_of,
    flows_digest,
    read_set,
    sets_digest,
    trigger_examples,
)
from bot.routing.words import RoutingData

CANDIDATES = (Features(word=(1, 2)), Features(word=(1, 2), char=(3, 5)))
REGULARISATION = 20.0  # logistic regression's C: larger fits the examples more closely
WRONG_START = 2.0  # a wrong start costs this many right answers when tuning
LOST_SAFEGUARDING = 20.0  # and a safeguarding message neither started nor offered first this many
GRID: dict[str, tuple[float, ...]] = {
    "start": tuple(round(0.25 + 0.05 * i, 2) for i in range(13)),
    "margin": tuple(round(0.05 * i, 2) for i in range(11)),
    "start_risk": tuple(round(0.1 + 0.05 * i, 2) for i in range(10)),
    "risk": tuple(round(0.1 + 0.05 * i, 2) for i in range(11)),
    "none": tuple(round(0.3 + 0.05 * i, 2) for i in range(9)),
    "offer": (0.02, 0.03, 0.05, 0.08, 0.1),
}

Echo = Callable[[str], None]


class TrainingError(KnowledgeError):
    """Training cannot run (scikit-learn missing, no data)."""


@dataclass(frozen=True)
class TrainingData:
    triggers: list[Example]
    sets: dict[str, list[Case]]  # labelled set name -> its messages, name order
    flows: str  # the flows' digest
    digest: str  # the sets' and configuration's digest


@dataclass(frozen=True)
class Scored:
    """A labelled message with its out-of-set probabilities and its signals."""

    case: Case
    probabilities: dict[str, float]
    signals: Signals


def load_training(flows: Mapping[str, RoutedFlow], bench: Path) -> TrainingData:
    config = TrainingConfig.load(bench)
    paths = config.training_sets(bench)
    if not paths:
        raise TrainingError(f"{bench}: no labelled sets to train on (routing_*.yaml)")
    return TrainingData(
        trigger_examples(flows),
        {p.name: read_set(p) for p in paths},
        flows_digest(flows),
        sets_digest(paths, config),
    )


def fitted(
    examples: Sequence[Example], features: Features, c: float = REGULARISATION
) -> tuple[Any, Any]:
    """scikit-learn's TF-IDF vectoriser and logistic regression, fitted on the examples."""
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from threadpoolctl import threadpool_limits
    except ImportError:
        raise TrainingError(
            "training needs scikit-learn: pip install 'protocol-bot[train]'"
        ) from None

    def analyse(text: str) -> list[str]:
        return ngrams(text, features)

    vectoriser = TfidfVectorizer(analyzer=analyse, sublinear_tf=True)
    matrix = vectoriser.fit_transform([e.text for e in examples])
    model = LogisticRegression(C=c, max_iter=5000)
    with threadpool_limits(1):  # one thread: faster on a busy machine, and the same sums
        model.fit(matrix, [e.label for e in examples], sample_weight=[e.weight for e in examples])
    return vectoriser, model


def as_weights(vectoriser: Any, model: Any, features: Features) -> RoutingModel:
    """The fitted vectoriser and model as numpy weights (default thresholds)."""
    coef = np.asarray(model.coef_, dtype=np.float64)
    intercept = np.asarray(model.intercept_, dtype=np.float64)
    if len(model.classes_) == 2:  # one score z for the second class: softmax of (-z/2, z/2)
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    return RoutingModel(
        classes=tuple(str(c) for c in model.classes_),
        features=features,
        vocabulary={str(t): int(i) for t, i in vectoriser.vocabulary_.items()},
        idf=np.asarray(vectoriser.idf_, dtype=np.float64),
        weights=np.ascontiguousarray(coef.T),
        intercepts=intercept,
        thresholds=Thresholds(),
        provenance=Provenance("", "", (), {}),
    )


def fit(examples: Sequence[Example], features: Features, c: float = REGULARISATION) -> RoutingModel:
    """A TF-IDF logistic regression on the examples, as numpy weights (default thresholds)."""
    vectoriser, model = fitted(examples, features, c)
    return as_weights(vectoriser, model, features)


def out_of_set(
    training: TrainingData, features: Features, flows: Mapping[str, RoutedFlow], data: RoutingData
) -> dict[str, list[Scored]]:
    """Each labelled set scored by a model trained on the flows and the other sets."""
    cues = Cues(flows, data)
    scored: dict[str, list[Scored]] = {}
    for name, cases in training.sets.items():
        others = [
            e
            for other, more in training.sets.items()
            if other != name
            for e in examples_of(more, other, flows)
        ]
        model = fit([*training.triggers, *others], features)
        scored[name] = [
            Scored(c, model.probabilities(c.text), cues.of(c.text))
            for c in cases
            if c.flow is None or c.flow in flows
        ]
    return scored


class Tuner:
    """Chooses thresholds for scored messages, one threshold at a time over a grid."""

    def __init__(self, safeguarding: str, referral_first: frozenset[str]) -> None:
        self.safeguarding = safeguarding
        self.referral_first = referral_first

    def routes(self, scored: Sequence[Scored], thresholds: Thresholds) -> list[Route]:
        return [
            decide(s.probabilities, s.signals, thresholds, self.safeguarding, self.referral_first)
            for s in scored
        ]

    def figures(self, scored: Sequence[Scored], thresholds: Thresholds) -> Figures:
        return figures([s.case for s in scored], self.routes(scored, thresholds), self.safeguarding)

    def value(self, scored: Sequence[Scored], thresholds: Thresholds) -> float:
        f = self.figures(scored, thresholds)
        return f.right - WRONG_START * f.wrong_starts - LOST_SAFEGUARDING * f.safeguarding_lost

    def tune(self, scored: Sequence[Scored]) -> Thresholds:
        best = Thresholds()
        best_value = self.value(scored, best)
        for _ in range(3):
            changed = False
            for name, grid in GRID.items():
                for candidate in grid:
                    trial = dataclasses.replace(best, **{name: candidate})
                    value = self.value(scored, trial)
                    if value > best_value + 1e-9:
                        best, best_value, changed = trial, value, True
            if not changed:
                break
        return best


@dataclass(frozen=True)
class Candidate:
    features: Features
    thresholds: Thresholds
    value: float
    per_set: dict[str, Figures]  # each set left out, thresholds tuned on the others
    total: Figures


def assess(
    features: Features,
    training: TrainingData,
    flows: Mapping[str, RoutedFlow],
    data: RoutingData,
    tuner: Tuner,
) -> Candidate:
    scored = out_of_set(training, features, flows, data)
    everything = [s for name in scored for s in scored[name]]
    thresholds = tuner.tune(everything)
    per_set: dict[str, Figures] = {}
    total = Figures()
    for name, held in scored.items():
        # the figure for a set comes from thresholds tuned without it, too
        rest = [s for other in scored if other != name for s in scored[other]]
        per_set[name] = tuner.figures(held, tuner.tune(rest))
        total += per_set[name]
    return Candidate(features, thresholds, tuner.value(everything, thresholds), per_set, total)


def train(
    flows: Mapping[str, RoutedFlow],
    data: RoutingData,
    bench: Path,
    safeguarding: str,
    echo: Echo = print,
    candidates: Sequence[Features] = CANDIDATES,
) -> RoutingModel:
    training = load_training(flows, bench)
    referral_first = frozenset(f.id for f in flows.values() if f.checks_referral_first)
    tuner = Tuner(safeguarding, referral_first)
    echo(
        f"training on {len(training.triggers)} trigger examples of {len(flows)} flows and "
        f"{sum(map(len, training.sets.values()))} labelled messages in "
        f"{len(training.sets)} sets: {', '.join(training.sets)}"
    )
    assessed = []
    for features in candidates:
        candidate = assess(features, training, flows, data, tuner)
        echo(f"\n{features.describe()}, each set left out in turn:")
        for name, f in candidate.per_set.items():
            echo(f"  {name:32} {f.line()}")
        echo(f"  {'all sets':32} {candidate.total.line()}")
        assessed.append(candidate)
    chosen = max(
        assessed,
        key=lambda c: (
            c.total.right
            - WRONG_START * c.total.wrong_starts
            - LOST_SAFEGUARDING * c.total.safeguarding_lost
        ),
    )
    echo(f"\nchosen: {chosen.features.describe()}; thresholds {chosen.thresholds.as_dict()}")
    everything = [
        *training.triggers,
        *(e for name, cases in training.sets.items() for e in examples_of(cases, name, flows)),
    ]
    fitted = fit(everything, chosen.features)
    return dataclasses.replace(
        fitted,
        thresholds=chosen.thresholds,
        provenance=Provenance(
            training.flows,
            training.digest,
            tuple(training.sets),
            _report(chosen),
        ),
    )


def _report(chosen: Candidate) -> dict[str, Any]:
    return {
        "features": chosen.features.describe(),
        "leave_one_set_out": {
            "all": chosen.total.as_dict(),
            **{name: f.as_dict() for name, f in chosen.per_set.items()},
        },
    }


def train_and_write(knowledge: Path, flows: Path | None, bench: Path, echo: Echo = print) -> Path:
    """Train on the flows and the sets in bench, and write the weights into knowledge."""
    from bot.dialogue import open_flows
    from bot.dialogue.flow import SAFEGUARDING
    from bot.kb import open_index
    from bot.routing.model import MODEL_FILE

    index = open_index(knowledge)
    loaded, _ = open_flows(index, flows)
    data = RoutingData.load(knowledge / "routing.yaml")
    model = train(loaded, data, bench, SAFEGUARDING, echo)
    path = knowledge / MODEL_FILE
    model.save(path)
    echo(f"wrote {path} ({len(model.vocabulary)} n-grams, {len(model.classes)} classes)")
    return path
