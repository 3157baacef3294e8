"""The local authority directory: forgiving matching that never picks the wrong council,
cards that print directory data or placeholders and nothing else, and `kb check` on the file."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import Result

from bot.kb import KnowledgeError
from bot.kb.directory import (
    DIRECTORY_FILE,
    ROLES,
    Directory,
    core_name,
    load_directory,
    parse_directory,
    read_directory,
)
from bot.paths import knowledge_dir

Cli = Callable[..., Result]
TOWER_HAMLETS = "London Borough of Tower Hamlets"


def contact(**fields: Any) -> dict[str, Any]:
    return {"source": "a test", "verified": False, **fields}


def council(name: str, *aliases: str, **contacts: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "aliases": list(aliases), "contacts": contacts}


def made(*councils: dict[str, Any], example: bool = False) -> Directory:
    found, problems = parse_directory({"example": example, "councils": list(councils)})
    assert problems == []
    return found


def problems_of(*councils: Any, **top: Any) -> str:
    return "\n".join(parse_directory({**top, "councils": list(councils)})[1])


# --- matching -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "typed",
    [
        "Tower Hamlets",
        "tower hamlet",
        "LB Tower Hamlets",
        "london borough of tower hamlets",
        "Tower Hamlets Council",
        "TOWER HAMLETS",
        "  Tower   Hamlets. ",
        "Tower Hamlts",
        "Tower Hamlets MASH",
        "Tower Hamlets children's services",
        "LBTH",
    ],
)
def test_forgiving_names_find_tower_hamlets(directory: Directory, typed: str) -> None:
    found = directory.match(typed).council
    assert found is not None and found.name == TOWER_HAMLETS


@pytest.mark.parametrize(
    ("typed", "official"),
    [
        ("Kent CC", "Kent County Council"),
        ("Kent County", "Kent County Council"),
        ("kent", "Kent County Council"),
        ("KCC", "Kent County Council"),
        ("Leeds", "Leeds City Council"),
        ("Leds", "Leeds City Council"),
        ("leeds city", "Leeds City Council"),
        ("Manchestr City Council", "Manchester City Council"),
        ("Birmingam", "Birmingham City Council"),
        # the Trust runs Birmingham's children's services: an alias in the example file
        ("Birmingham Children's Trust", "Birmingham City Council"),
        ("Birmingham Childrens Trust", "Birmingham City Council"),
    ],
)
def test_other_councils_by_their_everyday_names(
    directory: Directory, typed: str, official: str
) -> None:
    found = directory.match(typed).council
    assert found is not None and found.name == official


@pytest.mark.parametrize(
    ("typed", "suggested"),
    [
        ("Kentucky", []),
        ("Leeds Beckett University", ["Leeds City Council"]),
        ("Greater Manchester", ["Manchester City Council"]),
        ("Manchester United", ["Manchester City Council"]),
        ("West Kent", ["Kent County Council"]),
        ("Kant", ["Kent County Council"]),
        ("Tower", [TOWER_HAMLETS]),
        ("Bradford Council", []),
        ("Bristol City Council", []),
        ("Leek", []),
        ("Gotham", []),
        ("the council", []),
        ("London", []),
        ("", []),
        ("   ", []),
        ("??", []),
    ],
)
def test_unrelated_or_unclear_names_match_nothing(
    directory: Directory, typed: str, suggested: list[str]
) -> None:
    match = directory.match(typed)
    assert match.council is None
    assert [c.name for c in match.candidates] == suggested


def test_a_trust_is_not_its_council_unless_the_directory_says_so() -> None:
    plain = made(council("Birmingham City Council", "Birmingham"))
    match = plain.match("Birmingham Children's Trust")
    assert match.council is None
    assert [c.name for c in match.candidates] == ["Birmingham City Council"]


def test_a_compass_point_is_never_fuzzed_away() -> None:
    sussex = made(council("West Sussex County Council"))
    assert sussex.match("West Sussex").council is not None
    assert sussex.match("East Sussex").council is None
    assert sussex.match("Wset Sussex").council is None  # a typo here is not worth the risk
    both = made(council("North Yorkshire Council"), council("North Lincolnshire Council"))
    assert both.match("North Yorkshre").council.name == "North Yorkshire Council"  # type: ignore[union-attr]


def test_two_councils_equally_close_match_neither() -> None:
    twins = made(council("Ashford Borough Council"), council("Ashfold Borough Council"))
    assert twins.match("Ashford").council.name == "Ashford Borough Council"  # type: ignore[union-attr]
    match = twins.match("Ashfod")
    assert match.council is None
    assert {c.name for c in match.candidates} == {
        "Ashford Borough Council",
        "Ashfold Borough Council",
    }


def test_core_name_drops_only_the_generic_words() -> None:
    assert core_name("The London Borough of Tower Hamlets Council") == "tower hamlets"
    assert core_name("Royal Borough of Kensington & Chelsea") == "kensington and chelsea"
    assert core_name("City of Bradford Metropolitan District Council") == "bradford"
    assert core_name("Council") == "council"  # never empty


# every name and alias in the shipped file, dressed up the ways staff type them
DRESSING = st.sampled_from(
    [
        "{}",
        "{} Council",
        "the {}",
        "{} council.",
        "LB {}",
        "{} children's services",
        "  {}  ",
        "{} (MASH)",
    ]
)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), dressing=DRESSING, upper=st.booleans())
def test_every_name_in_the_directory_finds_its_own_council(
    directory: Directory, data: st.DataObject, dressing: str, upper: bool
) -> None:
    entry = data.draw(st.sampled_from(directory.councils))
    name = data.draw(st.sampled_from(entry.names))
    typed = dressing.format(name.upper() if upper else name)
    found = directory.match(typed).council
    assert found is not None and found.name == entry.name, typed


# --- cards: directory data or placeholders, nothing else --------------------------------------
def test_a_known_council_prints_its_contacts_marked_as_example(directory: Directory) -> None:
    card = directory.card("tower hamlet")
    assert card.known and card.example and card.name == TOWER_HAMLETS
    assert card.front_door == (
        "Multi-Agency Safeguarding Hub (MASH) - phone 01632 960001, "
        "email mash@tower-hamlets.example.invalid [EXAMPLE DATA - not a real contact]"
    )
    assert "EXAMPLE DATA" in card.note


def test_a_missing_contact_is_a_placeholder(directory: Directory) -> None:
    assert directory.card("Leeds").lado == (
        "[LADO contact: not in the directory - look it up before sending]"
    )
    assert directory.card("Manchester").complaints == (
        "[complaints contact: not in the directory - look it up before sending]"
    )


def test_an_unknown_or_missing_council_is_a_placeholder(directory: Directory) -> None:
    card = directory.card("Gotham")
    assert not card.known and card.given and card.name == "Gotham"
    assert card.lado == "[LADO contact: Gotham is not in the directory - look it up before sending]"
    assert "Gotham is not in the local authority directory" in card.note
    for empty in ("", None, "not known", "skip"):
        blank = directory.card(empty)
        assert not blank.given
        assert blank.front_door == (
            "[front door (MASH) contact: council not known - look it up before sending]"
        )


def test_registration_checks_fall_back_to_the_front_door_only(directory: Directory) -> None:
    assert "ofsted.checks@kent" in directory.card("Kent").registration_checks
    assert "mash@tower-hamlets" in directory.card("Tower Hamlets").registration_checks
    lonely = made(council("Rutland County Council", lado=contact(phone="01632 960099")))
    assert lonely.card("Rutland").registration_checks.startswith(
        "[registration checks contact: not in the directory"
    )


def test_unverified_and_verified_real_entries() -> None:
    real = made(
        council(
            "Rutland County Council",
            front_door=contact(phone="01632 960098", source="rutland.example page"),
            lado={"phone": "01632 960097", "source": "phoned them", "verified": True},
        )
    )
    card = real.card("Rutland")
    assert card.front_door == "phone 01632 960098 [unverified]"
    assert card.lado == "phone 01632 960097"
    assert "not yet verified: check them against rutland.example page" in card.note


def test_each_contact_says_whether_it_may_receive_case_data() -> None:
    found = made(
        council(
            "Rutland County Council",
            front_door=contact(phone="01632 960098"),
            out_of_hours=contact(phone="01632 960097", case_data=False),  # a general line
            complaints=contact(phone="01632 960096"),
        )
    )
    contacts = found.councils[0].contacts
    assert contacts["front_door"].case_data  # a front door takes cases
    assert not contacts["out_of_hours"].case_data  # unless its entry says otherwise
    assert not contacts["complaints"].case_data  # complaints does not
    # a letter that carries case data shows a placeholder in place of a route not for it,
    # prints an unverified contact as it would be sent, and puts its check in the notes
    notes: list[str] = []
    card = found.card("Rutland", notes=notes, case_data=True)
    assert card.front_door == "phone 01632 960098"
    assert card.out_of_hours.startswith("[out-of-hours contact: the directory's one is not for")
    assert any("not a route for case data" in n for n in notes)
    assert any("not yet verified: check them against" in n for n in notes)
    assert found.card("Rutland").out_of_hours == "phone 01632 960097 [unverified]"


def test_the_shipped_file_says_which_contacts_take_case_data(directory: Directory) -> None:
    for council in directory.councils:
        for role, found in council.contacts.items():
            assert found.case_data == (role != "complaints"), (council.name, role)


def test_an_unknown_contact_role_is_a_template_error(directory: Directory) -> None:
    with pytest.raises(ValueError, match="unknown contact role"):
        directory.card("Kent").contact("director")


def test_several_councils_in_one_answer(directory: Directory) -> None:
    cards = directory.cards("Kent County Council; Gotham")
    assert [c.name for c in cards] == ["Kent County Council", "Gotham"]
    assert [c.known for c in cards] == [True, False]
    assert [c.given for c in directory.cards("")] == [False]


PHONE_OR_EMAIL = re.compile(r"\d{3}|@")
DIRECTORY_VALUES = {
    value
    for c in load_directory(knowledge_dir() / DIRECTORY_FILE).councils
    for x in c.contacts.values()
    for value in (x.phone, x.email)
    if value
}


@settings(max_examples=200, deadline=None)
@given(typed=st.text(alphabet=st.characters(blacklist_characters="0123456789@"), max_size=40))
def test_a_card_never_invents_a_contact(directory: Directory, typed: str) -> None:
    card = directory.card(typed)
    for role in ROLES:
        text = card.contact(role)
        if card.known:
            numbers = re.findall(r"phone ([0-9 ]+\d)|email (\S+@\S+)", text)
            for phone, email in numbers:
                assert (phone or email) in DIRECTORY_VALUES
        else:
            assert text.startswith("[") and text.endswith("look it up before sending]")
            assert not PHONE_OR_EMAIL.search(text)


# --- the file and its checks --------------------------------------------------------------------
def test_the_shipped_file_is_sound_and_marked_as_an_example() -> None:
    path = knowledge_dir() / DIRECTORY_FILE
    found, problems = read_directory(path)
    assert problems == []
    assert len(found) >= 5 and all(c.example for c in found.councils)
    raw = path.read_text(encoding="utf-8")
    assert raw.startswith("# ====") and "EXAMPLE DATA - NOT REAL CONTACTS" in raw[:200]
    assert yaml.safe_load(raw)["example"] is True
    for entry in yaml.safe_load(raw)["councils"]:
        assert entry["example"] is True
        for details in entry["contacts"].values():
            assert details["verified"] is False
            assert "example" in details["source"]
            assert details.get("phone", "01632 960").startswith("01632 960")
            assert details.get("email", "x@y.example.invalid").endswith(".example.invalid")
    missing = {(c.name, role) for c in found.councils for role in ROLES if role not in c.contacts}
    assert ("Leeds City Council", "lado") in missing  # so placeholders get exercised


def test_a_missing_file_is_an_empty_directory(tmp_path: Path) -> None:
    empty = load_directory(tmp_path / DIRECTORY_FILE)
    assert len(empty) == 0 and empty.match("Kent").council is None


def test_a_faulty_file_refuses_to_load(tmp_path: Path) -> None:
    path = tmp_path / DIRECTORY_FILE
    path.write_text("councils:\n  - aliases: [Kent]\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="needs a 'name'"):
        load_directory(path)
    path.write_text("councils: [\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="cannot read"):
        load_directory(path)


@pytest.mark.parametrize(
    ("councils", "top", "expected"),
    [
        ([{"aliases": ["Kent"]}], {}, "needs a 'name'"),
        (["Kent"], {}, "must be a mapping"),
        ([{"name": "Kent County Council", "website": "x"}], {}, "unknown field 'website'"),
        (
            [council("Kent County Council", "Kent"), council("Leeds City Council", "Kent")],
            {},
            "name 'Kent' reads the same as one of 'Kent County Council''s",
        ),
        (
            [council("Kent County Council"), council("Kent Council")],
            {},
            "reads the same as one of 'Kent County Council''s",
        ),
        ([{"name": "Kent", "aliases": "Kent CC"}], {}, "'aliases' must be a list"),
        (
            [council("Kent", lado={"phone": "01632 960000", "verified": False})],
            {},
            "needs a 'source'",
        ),
        ([council("Kent", lado={"phone": "01632 960000", "source": "x"})], {}, "needs 'verified'"),
        (
            [council("Kent", lado={"phone": "01632 960000", "source": "x", "verified": "no"})],
            {},
            "'verified' must be true or false",
        ),
        ([council("Kent", lado=contact(team="LADO"))], {}, "needs at least one of phone, email"),
        ([council("Kent", lado=contact(phone="call the office"))], {}, "is not a phone number"),
        ([council("Kent", lado=contact(email="lado at kent"))], {}, "is not an email address"),
        ([council("Kent", lado=contact(phone="0", fax="1"))], {}, "unknown field 'fax'"),
        (
            [council("Kent", director=contact(phone="01632 960000"))],
            {},
            "unknown contact 'director'",
        ),
        ([{"name": "Kent", "contacts": ["lado"]}], {}, "'contacts' must map roles"),
        ([council("Kent", lado="01632 960000")], {}, "must be a mapping of phone/email"),
        (
            [{**council("Kent", lado=contact(email="lado@kent.gov.uk")), "example": True}],
            {},
            "an example entry must use a placeholder email",
        ),
        ([{**council("Kent"), "example": False}], {"example": True}, "every entry must be too"),
        ([{**council("Kent"), "example": "yes"}], {}, "'example' must be true or false"),
        (
            [council("Kent", lado=contact(phone="01632 960000", case_data="yes"))],
            {},
            "'case_data' must be true or false",
        ),
    ],
)
def test_directory_problems_are_named(
    councils: list[Any], top: dict[str, Any], expected: str
) -> None:
    assert expected in problems_of(*councils, **top)


def test_the_file_must_hold_a_list_of_councils() -> None:
    assert "expected a mapping with a 'councils:' list" in "\n".join(
        parse_directory({"councils": {"Kent": {}}})[1]
    )
    assert parse_directory(None)[1] == []


def test_an_empty_contact_is_the_same_as_a_missing_one() -> None:
    found = made(council("Kent County Council", lado=None))  # type: ignore[arg-type]
    assert found.card("Kent").lado.startswith("[LADO contact: not in the directory")


# --- `protocolbot kb check` -----------------------------------------------------------------------
def test_kb_check_reports_the_directory(kb_check: Cli) -> None:
    result = kb_check(knowledge_dir())
    assert result.exit_code == 0, result.output
    assert (
        "local authority directory: 5 councils, 15 contacts (15 not yet verified); "
        "5 EXAMPLE entries with placeholder contacts, not real ones"
    ) in result.stdout


def test_kb_check_fails_on_a_faulty_directory(kb_check: Cli, knowledge_copy: Path) -> None:
    path = knowledge_copy / DIRECTORY_FILE
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["councils"][2]["aliases"].append("Tower Hamlets")  # Leeds claims Tower Hamlets' name
    del raw["councils"][0]["contacts"]["lado"]["verified"]
    raw["councils"][1]["contacts"]["front_door"]["phone"] = "ring the office"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    result = kb_check(knowledge_copy)
    assert result.exit_code == 1, result.output
    for text in (
        "'Leeds City Council': name 'Tower Hamlets' reads the same as one of "
        "'London Borough of Tower Hamlets''s",
        "'London Borough of Tower Hamlets' lado: needs 'verified'",
        "'Kent County Council' front_door: phone 'ring the office' is not a phone number",
    ):
        assert text in result.stderr, result.stderr


def test_kb_check_without_a_directory_says_every_council_gets_placeholders(
    kb_check: Cli, knowledge_copy: Path
) -> None:
    (knowledge_copy / DIRECTORY_FILE).unlink()
    result = kb_check(knowledge_copy)
    assert "local authority directory: no councils" in result.stdout
    assert "every council gets placeholders" in result.stdout
