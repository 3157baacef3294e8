"""`kb check` rules for flow authors (issue 12): risk asked on every path, case data only to
case-data routes, and no contact typed into a flow. Each rule fails on a test flow that
breaks it (tests/dialogue/rule_flows/), naming the file and the step."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bot.cli import app
from bot.dialogue import load_contacts
from bot.dialogue.checks import full_check
from bot.dialogue.contact_rules import contacts_say_case_data
from bot.dialogue.loading import read_flows
from bot.dialogue.screening import check_risk_screening
from bot.paths import flows_dir, knowledge_dir

RULE_FLOWS = Path(__file__).parent / "rule_flows"


def kb_check(folder: Path) -> Result:
    env = {"PROTOCOLBOT_KNOWLEDGE": str(knowledge_dir()), "PROTOCOLBOT_FLOWS": str(folder)}
    return CliRunner().invoke(app, ["kb", "check"], env=env)


def problems(folder: Path) -> list[str]:
    return full_check(knowledge_dir(), folder).errors


# --- (a) risk asked on every path ------------------------------------------------------------
def test_flows_that_ask_link_call_or_declare_an_exemption_pass_and_exemptions_are_listed() -> None:
    result = kb_check(RULE_FLOWS / "risk_screened")
    assert result.exit_code == 0, result.output
    assert "risk screening: 3 flows ask about risk to a child on every path" in result.stdout
    assert (
        "exempt by declaration: exempt: checks an adult applicant's paperwork; no child's "
        "case is ever discussed"
    ) in result.stdout


def test_a_branch_that_ends_without_asking_about_risk_fails_naming_file_and_step() -> None:
    result = kb_check(RULE_FLOWS / "risk_unscreened")
    assert result.exit_code == 1
    assert (
        "half.yaml: step 'advice': the flow ends here without asking whether a child may be "
        "at risk (topic -> advice)"
    ) in result.stderr
    assert "step 'risk'" not in result.stderr  # the branch that asks is fine


def test_a_link_counts_as_the_linked_flows_paths_and_an_exempt_flow_screens_nothing() -> None:
    flows = read_flows(RULE_FLOWS / "risk_screened")
    assert not check_risk_screening(flows).problems
    # the same link to a flow that does not ask is an unscreened path
    exempt_target = {
        **flows,
        "links": (
            flows["links"][0].model_copy(
                update={
                    "steps": (
                        flows["links"][0].steps[0],
                        flows["links"][0].steps[1].model_copy(update={"link": "exempt"}),
                    )
                }
            ),
            "links.yaml",
        ),
    }
    [problem] = check_risk_screening(exempt_target).problems
    assert problem.startswith("links.yaml: step 'over': the flow hands over to 'exempt' here")


def test_the_real_flows_are_screened_where_they_mark_their_risk_question() -> None:
    screening = check_risk_screening(read_flows(flows_dir()))
    for flow_id in ("child_advocacy", "cqc_joint_working", "lgo_complaint"):
        assert flow_id in screening.screened, screening.problems


# --- (b) case data only to a case-data route ------------------------------------------------
def test_case_data_addressed_to_a_general_mailbox_fails_naming_file_and_step() -> None:
    result = kb_check(RULE_FLOWS / "case_data")
    assert result.exit_code == 1
    assert (
        "to_cqc.yaml: step 'draft_note': template to_cqc_mailbox.txt.j2 carries case data "
        "but names contacts.cqc.email, which is not a route for case data"
    ) in result.stderr
    assert "contacts.cqc.name" not in result.stderr  # a name is not a route
    assert (
        "to_cqc.yaml: step 'draft_silent': template silent.txt.j2 does not say whether it "
        "carries personal data about a case"
    ) in result.stderr


def test_a_general_contact_named_in_the_body_for_the_reader_is_not_an_address(
    tmp_path: Path,
) -> None:
    flow = (RULE_FLOWS / "case_data" / "to_cqc.yaml").read_text(encoding="utf-8")
    (tmp_path / "to_cqc.yaml").write_text(
        flow.replace("    next: draft_silent\n", "    next: end\n").split("  - id: draft_silent")[
            0
        ],
        encoding="utf-8",
    )
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "to_cqc_mailbox.txt.j2").write_text(
        "{% set case_data = true %}\n"
        "To: [CQC nominated lead for joint work: look up before sending]\n"
        "Child: {{ child }}\n"
        "Questions about this note: {{ contacts.ofsted.phone }}.\n",
        encoding="utf-8",
    )
    assert problems(tmp_path) == []


def test_every_contact_says_whether_it_takes_case_data() -> None:
    assert contacts_say_case_data(load_contacts(knowledge_dir() / "contacts.yaml")) == []
    [problem] = contacts_say_case_data({"cqc": {"name": "CQC", "email": "a@b.example"}})
    assert problem.startswith("contacts.yaml: 'cqc' needs 'case_data: true' or")


def test_the_real_drafts_address_case_data_only_to_case_data_routes() -> None:
    found = problems(flows_dir())
    assert not [p for p in found if "case data" in p or "names the" in p], found


# --- (c) no contact typed into a flow -----------------------------------------------------------
def test_contacts_not_in_the_contacts_file_fail_naming_file_and_step() -> None:
    result = kb_check(RULE_FLOWS / "unknown_contacts")
    assert result.exit_code == 1
    errors = result.stderr
    for expected in (
        "typed.yaml: step 'ring': names the phone number '0161 618 8524'",
        "typed.yaml: step 'ring': names the web address 'www.childline.org.uk'",
        "templates/letter.txt.j2 (the draft of typed.yaml step 'draft_letter'): names the "
        "email address 'help@nspcc.example.org.uk'",
        "names the email address 'advice@childline.org.uk'",
    ):
        assert expected in errors, errors
    # known contacts, made-up example details and template comments are fine
    for fine in ("03000 616161", "01632 960123", "sam@ofsted.example.invalid", "elsewhere"):
        assert fine not in errors


@pytest.mark.parametrize(
    "text",
    [
        "Ring 0161 618 8524.",
        "Ring +44 161 618 8524.",
        "Call 111 for advice.",
        "See https://www.nspcc.org.uk/report.",
        "Email someone@council.gov.uk.",
    ],
)
def test_each_way_of_writing_a_contact_is_caught(tmp_path: Path, text: str) -> None:
    (tmp_path / "one.yaml").write_text(
        "id: one\ntitle: One\ndescription: One flow.\nrisk_check_exempt: a test\n"
        "triggers: [one a, one b, one c]\n"
        f"steps:\n  - id: tell\n    say: {text!r}\n    plain: true\n    next: end\n",
        encoding="utf-8",
    )
    found = problems(tmp_path)
    assert any(p.startswith("one.yaml: step 'tell': names the ") for p in found), found


@pytest.mark.parametrize(
    "text",
    [
        "Section 117 of the Act, paragraph 101, 2026-11-30, 30/11/2026, URN SC123456.",
        "Call {{ contacts.emergency.phone }} or 999; the non-emergency line is 101.",
        "The LGO: www.lgo.org.uk, 0300 061 0614.",
    ],
)
def test_numbers_that_are_not_contacts_and_known_contacts_pass(tmp_path: Path, text: str) -> None:
    (tmp_path / "one.yaml").write_text(
        "id: one\ntitle: One\ndescription: One flow.\nrisk_check_exempt: a test\n"
        "triggers: [one a, one b, one c]\n"
        f"steps:\n  - id: tell\n    say: {text!r}\n    plain: true\n    next: end\n",
        encoding="utf-8",
    )
    assert problems(tmp_path) == []
