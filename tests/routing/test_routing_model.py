"""The numpy inference gives scikit-learn's own scores, and the weights file round-trips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.routing.features import Features
from bot.routing.model import RoutingModel
from bot.routing.sets import Example

pytest.importorskip("sklearn")

from bot.routing.training import as_weights, fitted

EXAMPLES = [
    Example("a child at the home has bruises", "safeguarding_concern", 1.0, "t"),
    Example("allegation against a foster carer", "safeguarding_concern", 1.0, "t"),
    Example("complaint about the council's social workers", "lgo_complaint", 1.0, "t"),
    Example("the family want to go to the ombudsman", "lgo_complaint", 1.0, "t"),
    Example("a reporter rang about the case", "media_interest", 1.0, "t"),
    Example("press enquiry from the local paper", "media_interest", 0.5, "t"),
    Example("what time is lunch", "(none)", 1.0, "t"),
]
MESSAGES = [
    "a reporter wants a comment on the bruises",
    "complaint to the ombudsman about a foster carer",
    "lunch",
    "nothing the model has seen",
    "",
]


@pytest.mark.parametrize("features", [Features(word=(1, 2)), Features(word=(1, 2), char=(3, 5))])
def test_inference_gives_scikit_learns_decision_function_and_probabilities(
    features: Features,
) -> None:
    vectoriser, model = fitted(EXAMPLES, features, c=10.0)
    ours = as_weights(vectoriser, model, features)
    matrix = vectoriser.transform(MESSAGES)
    theirs = model.decision_function(matrix)
    probabilities = model.predict_proba(matrix)
    for n, text in enumerate(MESSAGES):
        np.testing.assert_allclose(ours.decision(text), theirs[n], rtol=1e-9, atol=1e-12)
        found = ours.probabilities(text)
        np.testing.assert_allclose([found[c] for c in model.classes_], probabilities[n], atol=1e-9)


def test_two_classes_give_scikit_learns_probabilities() -> None:
    two = [e for e in EXAMPLES if e.label in {"safeguarding_concern", "lgo_complaint"}]
    vectoriser, model = fitted(two, Features(), c=10.0)
    ours = as_weights(vectoriser, model, Features())
    expected = model.predict_proba(vectoriser.transform(MESSAGES))
    for n, text in enumerate(MESSAGES):
        found = ours.probabilities(text)
        np.testing.assert_allclose([found[c] for c in model.classes_], expected[n], atol=1e-9)


def test_the_weights_file_round_trips_and_the_same_weights_give_the_same_bytes(
    tmp_path: Path,
) -> None:
    features = Features(word=(1, 2), char=(3, 5))
    weights = as_weights(*fitted(EXAMPLES, features, c=10.0), features)
    first, second = tmp_path / "a.npz", tmp_path / "b.npz"
    weights.save(first)
    weights.save(second)
    assert first.read_bytes() == second.read_bytes()
    loaded = RoutingModel.load(first)
    assert loaded.classes == weights.classes and loaded.features == features
    for text in MESSAGES:  # coefficients are stored as float32
        np.testing.assert_allclose(loaded.decision(text), weights.decision(text), atol=1e-5)


def test_the_weights_file_holds_no_pickle(tmp_path: Path) -> None:
    weights = as_weights(*fitted(EXAMPLES, Features(), c=10.0), Features())
    weights.save(tmp_path / "w.npz")
    with np.load(tmp_path / "w.npz", allow_pickle=False) as arrays:
        assert all(arrays[name].dtype != object for name in arrays.files)
