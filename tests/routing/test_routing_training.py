"""Training on tiny data: the same inputs give the same weights, and test sets stay out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.paths import knowledge_dir
from bot.routing.features import Features
from bot.routing.model import RoutingModel
from bot.routing.words import RoutingData

pytest.importorskip("sklearn")

from bot.routing.training import train


@dataclass(frozen=True)
class TinyFlow:
    id: str
    title: str
    triggers: tuple[str, ...]
    checks_referral_first: bool = False


FLOWS = {
    f.id: f
    for f in (
        TinyFlow(
            "safeguarding_concern",
            "I've received a safeguarding concern",
            ("a child is being hurt", "allegation against a carer", "bruises on a boy"),
        ),
        TinyFlow(
            "lgo_complaint",
            "A complainant should go to the Ombudsman (LGO)",
            ("complaint about the council", "the family want the ombudsman", "unhappy parent"),
        ),
        TinyFlow(
            "media_interest",
            "Media interest in a child protection case",
            ("a journalist rang", "press enquiry", "the paper wants a statement"),
            checks_referral_first=True,
        ),
    )
}

SET_A = """\
- text: the boy has marks on his arms
  flow: safeguarding_concern
  kind: indirect
- text: mum is unhappy with the social worker and wants to complain
  flow: lgo_complaint
  kind: indirect
- text: a reporter from the local paper called
  flow: media_interest
  kind: direct
- text: what time is the team meeting
  flow: null
  kind: offtopic
"""
SET_B = """\
- text: carer accused of hitting a child
  flow: safeguarding_concern
  kind: direct
- text: complaint about children's services
  flow: lgo_complaint
  kind: short
- text: a journalist wants a comment and the council complaint
  flow: null
  kind: ambiguous
  plausible: [media_interest, lgo_complaint]
- text: where is the canteen
  flow: null
  kind: offtopic
"""


def bench(folder: Path) -> Path:
    folder.mkdir()
    (folder / "routing_training.yaml").write_text(
        "test_sets:\n  - routing_listed_test.yaml\nskip_suffixes: [_second_reader]\n",
        encoding="utf-8",
    )
    (folder / "routing_a.yaml").write_text(SET_A, encoding="utf-8")
    (folder / "routing_b.yaml").write_text(SET_B, encoding="utf-8")
    (folder / "routing_listed_test.yaml").write_text(SET_A, encoding="utf-8")
    (folder / "routing_marked.yaml").write_text("# role: test set\n" + SET_B, encoding="utf-8")
    (folder / "routing_a_second_reader.yaml").write_text("[]\n", encoding="utf-8")
    return folder


def trained(folder: Path, out: Path) -> RoutingModel:
    data = RoutingData.load(knowledge_dir() / "routing.yaml")
    model = train(
        FLOWS, data, folder, "safeguarding_concern", echo=lambda _: None, candidates=[Features()]
    )
    model.save(out)
    return RoutingModel.load(out)


def test_the_same_inputs_give_the_same_weights_byte_for_byte(tmp_path: Path) -> None:
    folder = bench(tmp_path / "bench")
    trained(folder, tmp_path / "first.npz")
    trained(folder, tmp_path / "second.npz")
    assert (tmp_path / "first.npz").read_bytes() == (tmp_path / "second.npz").read_bytes()


def test_test_sets_listed_or_marked_in_their_header_are_never_trained_on(tmp_path: Path) -> None:
    model = trained(bench(tmp_path / "bench"), tmp_path / "weights.npz")
    assert model.provenance.trained_on == ("routing_a.yaml", "routing_b.yaml")
    assert "routing_a.yaml" in model.provenance.figures["leave_one_set_out"]


def test_a_changed_set_changes_the_recorded_input_hash(tmp_path: Path) -> None:
    folder = bench(tmp_path / "bench")
    before = trained(folder, tmp_path / "before.npz").provenance
    (folder / "routing_a.yaml").write_text(SET_A.replace("marks", "bruises"), encoding="utf-8")
    after = trained(folder, tmp_path / "after.npz").provenance
    assert before.flows == after.flows and before.sets != after.sets


def test_router_train_without_labelled_sets_says_what_is_missing(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from bot.cli import app

    result = CliRunner().invoke(app, ["router", "train", "--bench", str(tmp_path)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "routing_training.yaml" in result.stderr and "Traceback" not in result.output
