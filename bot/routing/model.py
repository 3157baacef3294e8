"""The router's trained classifier, run with numpy from the weights training exported.

The weights file (``routing_model.npz`` in the knowledge folder) is plain arrays, not a
pickle: the n-gram vocabulary, its inverse document frequencies, one row of coefficients
per n-gram, an intercept per class, and a JSON header with the classes, the features, the
thresholds and the hashes of the inputs it was trained on. A message becomes a TF-IDF
vector (sublinear term frequency, unit length) exactly as scikit-learn's TfidfVectorizer
makes it; its class scores are the linear model's decision function, turned into
probabilities with a softmax as multinomial logistic regression does.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.kb.documents import KnowledgeError
from bot.routing.features import Features, ngrams
from bot.routing.policy import Thresholds

MODEL_FILE = "routing_model.npz"
FORMAT = 1
RETRAIN = "protocolbot router train"

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Provenance:
    """What the weights were trained on, hashed, and what cross-validation measured."""

    flows: str  # sha256 of the flows' ids, titles and trigger examples
    sets: str  # sha256 of the training sets and the training configuration
    trained_on: tuple[str, ...]  # the labelled sets
    figures: dict[str, Any]


@dataclass(frozen=True)
class RoutingModel:
    classes: tuple[str, ...]
    features: Features
    vocabulary: dict[str, int]
    idf: Floats
    weights: Floats  # one row per n-gram, one column per class
    intercepts: Floats
    thresholds: Thresholds
    provenance: Provenance

    def vector(self, text: str) -> tuple[npt.NDArray[np.intp], Floats]:
        """The message's TF-IDF vector as (n-gram rows, values), unit length."""
        counts = Counter(
            i
            for i in (self.vocabulary.get(g) for g in ngrams(text, self.features))
            if i is not None
        )
        if not counts:
            return np.zeros(0, dtype=np.intp), np.zeros(0)
        rows = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
        tf = np.fromiter((1.0 + math.log(c) for c in counts.values()), float, len(counts))
        values = tf * self.idf[rows]
        return rows, values / np.linalg.norm(values)

    def decision(self, text: str) -> Floats:
        """The linear model's score for each class (scikit-learn's decision_function)."""
        rows, values = self.vector(text)
        return values @ self.weights[rows] + self.intercepts

    def probabilities(self, text: str) -> dict[str, float]:
        scores = self.decision(text)
        exp = np.exp(scores - scores.max())
        share = exp / exp.sum()
        return {c: float(p) for c, p in zip(self.classes, share, strict=True)}

    # --- the weights file -------------------------------------------------------------
    def save(self, path: Path) -> None:
        header = {
            "format": FORMAT,
            "classes": list(self.classes),
            "features": {"word": self.features.word, "char": self.features.char},
            "thresholds": self.thresholds.as_dict(),
            "inputs": {
                "flows": self.provenance.flows,
                "sets": self.provenance.sets,
                "trained_on": list(self.provenance.trained_on),
            },
            "figures": self.provenance.figures,
        }
        ordered = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        arrays = {
            "header": np.frombuffer(json.dumps(header, sort_keys=True).encode(), np.uint8),
            "vocabulary": np.frombuffer("\n".join(ordered).encode(), np.uint8),
            "idf": self.idf,
            "weights": self.weights.astype(np.float32),
            "intercepts": self.intercepts,
        }
        # numpy's own savez stamps each member with the time: written by hand, the same
        # weights give the same bytes
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, array in arrays.items():
                buffer = io.BytesIO()
                np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
                member = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                member.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(member, buffer.getvalue())

    @classmethod
    def load(cls, path: Path) -> RoutingModel:
        try:
            with np.load(path, allow_pickle=False) as arrays:
                header = json.loads(arrays["header"].tobytes().decode())
                terms = arrays["vocabulary"].tobytes().decode().split("\n")
                idf = arrays["idf"].astype(np.float64)
                weights = arrays["weights"].astype(np.float64)
                intercepts = arrays["intercepts"].astype(np.float64)
        except FileNotFoundError:
            raise KnowledgeError(
                f"{path}: the router's weights are missing; run `{RETRAIN}`"
            ) from None
        except (OSError, ValueError, KeyError, UnicodeDecodeError) as exc:
            raise KnowledgeError(
                f"{path}: the router's weights cannot be read ({exc}); run `{RETRAIN}`"
            ) from None
        if header.get("format") != FORMAT:
            raise KnowledgeError(f"{path}: weights in an unknown format; run `{RETRAIN}`")
        classes = tuple(header["classes"])
        if weights.shape != (len(terms), len(classes)) or idf.shape != (len(terms),):
            raise KnowledgeError(f"{path}: the weights' shapes do not agree; run `{RETRAIN}`")
        feature = header["features"]
        inputs = header["inputs"]
        return cls(
            classes=classes,
            features=Features(
                tuple(feature["word"]) if feature["word"] else None,
                tuple(feature["char"]) if feature["char"] else None,
            ),
            vocabulary={t: i for i, t in enumerate(terms)},
            idf=idf,
            weights=weights,
            intercepts=intercepts,
            thresholds=Thresholds(**header["thresholds"]),
            provenance=Provenance(
                inputs["flows"], inputs["sets"], tuple(inputs["trained_on"]), header["figures"]
            ),
        )
