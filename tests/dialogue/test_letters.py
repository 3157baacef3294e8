"""Every draft of every flow is a letter and the reviewer's notes, apart (issue 12, obs. 4, 6).

The letter is exactly what would be sent: no clause ids, no "[unverified]" tags, no DRAFT
line, no instruction to the reviewer. What the reviewer must check goes to the notes: that
nothing was sent, the placeholders to fill in, the contacts to verify, a secure route where
the draft carries case data, and the clauses the draft's own step rests on.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flow_walk import FILLER, drafts_with

from bot.dialogue import Engine
from bot.drafting.render import DraftRenderer
from bot.kb.directory import parse_directory
from bot.paths import flows_dir

FLOW_IDS = sorted(p.stem for p in flows_dir().glob("*.yaml"))
DRAFTING = [
    f
    for f in FLOW_IDS
    if re.search(r"^\s*-?\s*draft:", (flows_dir() / f"{f}.yaml").read_text(), re.M)
]
CLAUSE_ID = re.compile(r"\b(?:la|lgo|cqc|cc|csci)-\d{4}/")
# Ofsted's own record of the concern, filed rather than sent: it names its basis by clause
RECORDS = {"safeguarding-case-note.txt"}


@pytest.mark.parametrize("flow_id", DRAFTING)
def test_each_letter_holds_only_what_would_be_sent(engine: Engine, flow_id: str) -> None:
    replies = drafts_with(engine, flow_id, FILLER)
    drafts = [r.draft for r in replies if r.draft]
    assert drafts
    for draft in drafts:
        letter = draft.text
        for reviewer_only in ("[unverified]", "DRAFT -", "Sources:", "Check before sending"):
            assert reviewer_only not in letter, f"{draft.filename}: {reviewer_only!r}\n{letter}"
        if draft.filename not in RECORDS:
            assert not CLAUSE_ID.search(letter), f"{draft.filename} quotes a clause id\n{letter}"
        notes = draft.notes
        assert "has not sent it anywhere" in notes, notes
        assert "\nSources:\n" in notes, notes
        for placeholder in re.findall(r"\[[^\[\]\n]{2,300}\]", letter):
            assert placeholder in notes, f"{draft.filename}: {placeholder} not in the notes"


@pytest.mark.parametrize("flow_id", DRAFTING)
def test_the_sources_are_only_the_drafts_own_steps_clauses(engine: Engine, flow_id: str) -> None:
    replies = drafts_with(engine, flow_id, FILLER)
    flow = engine.flows[flow_id]
    own = {c for s in flow.steps if s.draft for c in s.cite}
    for reply in replies:
        if reply.draft is None:
            continue
        listed = set(
            re.findall(r"\[([a-z]+-\d{4}/[^\]]+)\]", reply.draft.notes.split("Sources:")[1])
        )
        assert listed <= own, f"{reply.draft.filename}: {sorted(listed - own)} are not its own"
        assert {c.clause_id for c in reply.citations} <= own


def test_the_cqc_note_goes_to_a_named_placeholder_by_a_secure_route(engine: Engine) -> None:
    """Observation 6: case data was addressed to CQC's general enquiries mailbox."""
    [note] = [r.draft for r in drafts_with(engine, "cqc_joint_working", FILLER) if r.draft]
    assert (
        "To: Care Quality Commission – [CQC nominated lead for joint work: look up before sending]"
        in note.text
    )
    assert "enquiries@cqc.org.uk" not in note.text and "03000 616161" not in note.text
    assert "only by a secure route meant for case data" in note.notes
    assert "general enquiries line and mailbox are not for case data" in note.notes


# --- the renderer --------------------------------------------------------------------------
CONTACTS = {
    "helpline": {
        "name": "A helpline",
        "phone": "01632 960001",
        "source": "its web page",
        "verified": False,
        "case_data": False,
    },
    "casework": {
        "name": "A casework team",
        "email": "cases@casework.example.invalid",
        "source": "its web page",
        "verified": False,
        "case_data": True,
    },
}
DIRECTORY = {
    "councils": [
        {
            "name": "Testshire County Council",
            "contacts": {
                "front_door": {"phone": "01632 960100", "source": "s", "verified": False},
                "complaints": {
                    "email": "c@testshire.example.invalid",
                    "source": "s",
                    "verified": True,
                },
            },
        }
    ]
}


def renderer(tmp_path: Path, **templates: str) -> DraftRenderer:
    for name, text in templates.items():
        (tmp_path / f"{name}.txt.j2").write_text(text, encoding="utf-8")
    directory, problems = parse_directory(DIRECTORY)
    assert not problems
    return DraftRenderer(tmp_path, CONTACTS, directory)


def render(made: DraftRenderer, name: str) -> tuple[str, tuple[str, ...], bool]:
    context = made.context({}, [], {})
    text, _, notes, case_data = made.render_file(f"{name}.txt.j2", context)
    return text, notes, case_data


def test_note_records_a_line_for_the_reviewer_and_prints_nothing(tmp_path: Path) -> None:
    made = renderer(
        tmp_path,
        t='Dear team,\n{% do note("Check the date.") %}\nCall {{ contacts.helpline.phone }}.{{ note("Ask first.") }}\n',
    )
    text, notes, case_data = render(made, "t")
    assert text == "Dear team,\nCall 01632 960001.\n"
    assert notes[:2] == ("Check the date.", "Ask first.")
    assert "Not yet verified by an administrator: A helpline - phone 01632 960001." in notes[2]
    assert not case_data


def test_a_case_data_letter_is_addressed_to_no_route_that_is_not_for_case_data(
    tmp_path: Path,
) -> None:
    made = renderer(
        tmp_path,
        case="{% set case_data = true %}\n"
        "To: {{ contacts.casework.email }}\n"
        "Copy: {{ contacts.helpline.name }} ({{ contacts.helpline.phone }})\n"
        "  Council: {{ local_authority('Testshire').front_door }}\n"
        "\n"
        "Questions? Ring {{ contacts.helpline.phone }}.\n"
        "Complaints: {{ local_authority('Testshire').complaints }}\n",
        public="{% set case_data = false %}\nTo: {{ contacts.helpline.phone }}\n"
        "Complaints: {{ local_authority('Testshire').complaints }}\n",
    )
    text, notes, case_data = render(made, "case")
    assert case_data
    assert "To: cases@casework.example.invalid\n" in text
    # the helpline is not where a letter with case data may go...
    assert (
        "Copy: A helpline ([A helpline: not a route for case data - find the secure route])" in text
    )
    assert any("A helpline's phone is not a route for case data" in n for n in notes)
    # ...but may be named in the body, for the reader to use
    assert "Questions? Ring 01632 960001." in text
    assert "  Council: phone 01632 960100\n" in text  # a front door takes case data
    assert "c@testshire" not in text  # a council's complaints contact does not
    assert "[complaints contact: the directory's one is not for case data" in text
    assert any(
        "Testshire County Council are from the local authority directory and not yet verified" in n
        for n in notes
    )
    text, _, case_data = render(made, "public")
    assert not case_data and "To: 01632 960001" in text
    assert "Complaints: email c@testshire.example.invalid" in text


def test_a_template_says_whether_it_carries_case_data(tmp_path: Path) -> None:
    made = renderer(
        tmp_path, yes="{% set case_data = true %}x", no="{% set case_data = false %}x", silent="x"
    )
    assert (made.case_data("yes.txt.j2"), made.case_data("no.txt.j2")) == (True, False)
    assert made.case_data("silent.txt.j2") is None


def test_address_lines_are_the_to_lines_and_the_lines_indented_under_them() -> None:
    from bot.drafting.render import address_lines

    source = (
        "REFERRAL\n"
        "To: Children's social care\n"
        "  Front door: {{ la.front_door }}\n"
        "{% if lado %}\n"
        "  LADO: {{ la.lado }}\n"
        "{% endif %}\n"
        "Copy: the provider's council\n"
        "\n"
        "  Indented, but after a blank line: not an address\n"
        "Phone us on {{ contacts.ofsted.phone }}\n"
    )
    assert address_lines(source) == [1, 2, 4, 6]
