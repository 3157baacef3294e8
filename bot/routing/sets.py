"""The router's training data: the flows' trigger examples and the labelled sets in bench/.

A labelled set is a YAML list of messages, each with the flow it should start (null for
none), its kind (direct, indirect, typo, short, mixed, offtopic, lookup, ambiguous) and, for
an ambiguous message, the flows it could plausibly mean. The training configuration
(``routing_training.yaml`` beside the sets) names the test sets, which are never trained or
tuned on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from bot.kb.documents import KnowledgeError, read_yaml

LOOKUP = "(look-up)"  # a plain question about what a document says
OTHER = "(none)"  # off-topic, small talk: the menu
NOT_A_FLOW = (LOOKUP, OTHER)
CONFIG_FILE = "routing_training.yaml"
SET_PATTERN = "routing_*.yaml"
TEST_SET_MARK = "# role: test set"  # a set whose header has this line is never trained on


class FlowLike(Protocol):
    """What the router reads of a flow."""

    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def triggers(self) -> Sequence[str]: ...


@dataclass(frozen=True)
class Case:
    """One labelled message of a set, as written."""

    text: str
    flow: str | None
    kind: str
    plausible: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """The class the message trains: its flow, a look-up, or none."""
        if self.flow:
            return self.flow
        return LOOKUP if self.kind == "lookup" else OTHER


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    weight: float
    group: str  # the set it comes from ("flows" for trigger examples)


@dataclass(frozen=True)
class TrainingConfig:
    test_sets: tuple[str, ...]
    skip_suffixes: tuple[str, ...]
    path: Path

    @classmethod
    def load(cls, folder: Path) -> TrainingConfig:
        path = folder / CONFIG_FILE
        raw = read_yaml(path, "the routing training configuration") or {}
        if not isinstance(raw, dict) or not isinstance(raw.get("test_sets"), list):
            raise KnowledgeError(f"{path}: needs a list test_sets (the sets never trained on)")
        return cls(
            tuple(str(x) for x in raw["test_sets"]),
            tuple(str(x) for x in raw.get("skip_suffixes", [])),
            path,
        )

    def is_test_set(self, path: Path) -> bool:
        """Listed as a test set here, or marked one in its own header."""
        return path.name in self.test_sets or TEST_SET_MARK in _header(path)

    def sets_in(self, folder: Path) -> list[Path]:
        """Every labelled set in the folder, in name order (not the companion files)."""
        return [
            p
            for p in sorted(folder.glob(SET_PATTERN))
            if p.name != CONFIG_FILE and not p.stem.endswith(self.skip_suffixes)
        ]

    def training_sets(self, folder: Path) -> list[Path]:
        """The labelled sets to train on: every set but the test sets and the companion
        files (a second reader's labels), in name order."""
        return [p for p in self.sets_in(folder) if not self.is_test_set(p)]


def _header(path: Path) -> list[str]:
    """The comment lines a set file opens with, lower case and stripped."""
    lines = []
    with path.open(encoding="utf-8") as text:
        for line in text:
            if not line.startswith("#") and line.strip():
                break
            lines.append(" ".join(line.lower().split()))
    return lines


def read_set(path: Path) -> list[Case]:
    raw = read_yaml(path, "a labelled routing set") or []
    if not isinstance(raw, list):
        raise KnowledgeError(f"{path}: a labelled set must be a list of messages")
    cases = []
    for n, item in enumerate(raw, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise KnowledgeError(f"{path}: message {n} needs a text")
        flow = item.get("flow")
        cases.append(
            Case(
                item["text"],
                str(flow) if flow else None,
                str(item.get("kind") or ("direct" if flow else "offtopic")),
                tuple(str(f) for f in item.get("plausible") or ()),
            )
        )
    return cases


def examples_of(cases: Iterable[Case], group: str, flows: Iterable[str]) -> list[Example]:
    """Training examples from labelled messages. An ambiguous message counts once per
    plausible flow at half weight; a message for a flow not loaded is left out."""
    known = set(flows)
    out: list[Example] = []
    for case in cases:
        if case.kind == "ambiguous" and case.plausible:
            out.extend(Example(case.text, f, 0.5, group) for f in case.plausible if f in known)
        elif case.flow is None or case.flow in known:
            out.append(Example(case.text, case.label, 1.0, group))
    return out


def trigger_examples(flows: Mapping[str, FlowLike]) -> list[Example]:
    """Each flow's title and trigger examples, in the flows' order."""
    return [
        Example(text, flow.id, 1.0, "flows")
        for flow in flows.values()
        for text in (flow.title, *flow.triggers)
    ]


def flows_digest(flows: Mapping[str, FlowLike]) -> str:
    """What the router learns from the flows, hashed: ids, titles and trigger examples."""
    data = sorted([f.id, f.title, list(f.triggers)] for f in flows.values())
    return _digest(data)


def sets_digest(paths: Iterable[Path], config: TrainingConfig) -> str:
    """The training sets' bytes and the configuration, hashed."""
    data: list[Any] = [[config.path.name, config.path.read_bytes().hex()]]
    data.extend([p.name, hashlib.sha256(p.read_bytes()).hexdigest()] for p in paths)
    return _digest(data)


def _digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode("utf-8")).hexdigest()
