"""The local authority directory: councils, the names staff use for them, and their contacts.

The directory is data the administrator maintains (``knowledge/local_authorities.yaml``,
format in docs/local-authority-directory.md). A typed name is matched forgivingly about
form ("tower hamlet", "LB Tower Hamlets", "Kent CC") and strictly about meaning: a name
that is not clearly one council matches nothing (close candidates are offered as
suggestions), so a draft is never addressed to the wrong council. Drafts see a council only
through a :class:`CouncilCard`, which prints directory data or a clear placeholder and can
print nothing else: the bot never invents a contact.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

from bot.kb.documents import KnowledgeError, read_yaml

__all__ = [
    "CONTACT_FIELDS",
    "DIRECTORY_FILE",
    "ROLES",
    "Contact",
    "Council",
    "CouncilCard",
    "Directory",
    "Match",
    "core_name",
    "load_directory",
    "parse_directory",
    "read_directory",
    "split_councils",
    "summary",
]

DIRECTORY_FILE = "local_authorities.yaml"  # in the knowledge folder
# contact role -> how a placeholder names it when the directory lacks it
ROLES: dict[str, str] = {
    "front_door": "front door (MASH) contact",
    "out_of_hours": "out-of-hours contact",
    "lado": "LADO contact",
    "complaints": "complaints contact",
    "registration_checks": "registration checks contact",
}
REACH = ("phone", "email", "address", "website")  # a contact needs at least one of these
CONTACT_FIELDS = frozenset({*REACH, "team", "hours", "notes", "source", "verified", "case_data"})
# whether a role's contact may receive personal data about a case, unless its entry says
# otherwise (``case_data: false`` for, say, a front door listed as a general enquiries box):
# the front door, out-of-hours team, LADO and checks contact take cases; complaints does not
CASE_DATA_ROLES = frozenset({"front_door", "out_of_hours", "lado", "registration_checks"})
COUNCIL_FIELDS = frozenset({"name", "aliases", "example", "contacts", "notes"})

MATCH_AT = 88  # fuzz.ratio between the cores of a typed name and a directory name
MARGIN = 5  # and how far ahead of any other council it must be
SUGGEST_AT = 72  # worth suggesting
MIN_FUZZY = 3  # shorter cores must match exactly

_PHONE = re.compile(r"^\+?[0-9 ()\-]{6,24}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)
_EXAMPLE_EMAIL = re.compile(r"@(?:[^@\s]+\.)?(?:example\.(?:invalid|com|org|net)|invalid)$")
# words that say *which* council, not *that* it is one: dropped before comparing names
_GENERIC = re.compile(
    r"\b(?:london borough of|royal borough of|metropolitan borough of|borough of|city of|"
    r"county of|city and county of|the|council|city|county|borough|metropolitan|district|"
    r"unitary|authority|local|lb|rb|mbc|cc|bc|dc|cbc|mash|lado|edt|"
    r"childrens services|childrens social care|childrens social services|social care|"
    r"social services|children and families|front door)\b"
)
# a fuzzy match must agree on these: West Sussex is not East Sussex however close the spelling
_DISTINGUISHING = frozenset(
    {"north", "south", "east", "west", "central", "mid", "greater", "upper", "lower", "new"}
)


def _normal(text: str) -> str:
    text = text.lower().replace("&", " and ")
    text = re.sub(r"['’`]", "", text)
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def core_name(text: str) -> str:
    """The part of a council's name that tells it apart: 'LB Tower Hamlets' -> 'tower hamlets'."""
    normal = _normal(text)
    core = " ".join(_GENERIC.sub(" ", normal).split())
    return core or normal


def split_councils(text: str) -> list[str]:
    """Several council names typed in one answer, separated by commas, semicolons or lines."""
    return [part.strip() for part in re.split(r"[;,\n]+", text) if part.strip()]


# ---------------------------------------------------------------------------------------------
# the data
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Contact:
    role: str
    source: str
    verified: bool
    case_data: bool = False  # may receive personal data about a case
    team: str = ""
    phone: str = ""
    email: str = ""
    address: str = ""
    website: str = ""
    hours: str = ""

    def text(self) -> str:
        """'Duty and Advice - phone 01632 960021, email ...' (the role is the reader's label)."""
        reach = ", ".join(
            f"{name} {value}"
            for name, value in (
                ("phone", self.phone),
                ("email", self.email),
                ("website", self.website),
                ("address", self.address),
            )
            if value
        )
        hours = f" ({self.hours})" if self.hours else ""
        return f"{self.team} - {reach}{hours}" if self.team else f"{reach}{hours}"


@dataclass(frozen=True)
class Council:
    name: str
    aliases: tuple[str, ...] = ()
    example: bool = False
    contacts: Mapping[str, Contact] = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class Match:
    """What a typed name resolved to: one council, or none plus close candidates."""

    typed: str
    council: Council | None = None
    candidates: tuple[Council, ...] = ()


def _exact_keys(name: str) -> set[str]:
    """The forms of a name an answer must read as to match it exactly; two councils may not
    share one (parse_directory checks), or match() could not tell them apart."""
    return {_normal(name), core_name(name)}


class Directory:
    def __init__(self, councils: Iterable[Council] = (), *, source: str = "") -> None:
        self.councils = tuple(councils)
        self.source = source
        self._keys: list[tuple[str, Council]] = []
        self._exact: dict[str, Council] = {}
        for council in self.councils:
            for name in council.names:
                for key in _exact_keys(name):
                    self._exact.setdefault(key, council)
                self._keys.append((core_name(name), council))

    def __len__(self) -> int:
        return len(self.councils)

    def match(self, typed: str) -> Match:
        typed = " ".join(typed.split())
        normal = _normal(typed)
        if not normal:
            return Match(typed)
        core = core_name(typed)
        for key in (normal, core):
            if key in self._exact:
                return Match(typed, self._exact[key])
        best: dict[str, tuple[float, Council]] = {}  # council name -> best ratio over its names
        suggest: dict[str, tuple[float, Council]] = {}
        words = set(core.split())
        for key, council in self._keys:
            ratio = fuzz.ratio(core, key)
            same_kind = words & _DISTINGUISHING == set(key.split()) & _DISTINGUISHING
            if same_kind and ratio > best.get(council.name, (-1.0, council))[0]:
                best[council.name] = (ratio, council)
            hint = max(ratio, fuzz.token_set_ratio(core, key) - 10)
            if hint > suggest.get(council.name, (-1.0, council))[0]:
                suggest[council.name] = (hint, council)
        ranked = sorted(best.values(), key=lambda pair: -pair[0])
        if ranked and len(core) >= MIN_FUZZY and ranked[0][0] >= MATCH_AT:
            top, council = ranked[0]
            rivals = [s for name, (s, _) in suggest.items() if name != council.name]
            if not rivals or top - max(rivals) >= MARGIN:
                return Match(typed, council)
        close = sorted(
            (pair for pair in suggest.values() if pair[0] >= SUGGEST_AT), key=lambda p: -p[0]
        )
        return Match(typed, None, tuple(c for _, c in close[:3]))

    def card(
        self, typed: Any, *, notes: list[str] | None = None, case_data: bool = False
    ) -> CouncilCard:
        """A council as a draft may show it: directory data or placeholders (see CouncilCard
        for ``notes`` and ``case_data``)."""
        text = str(typed or "").strip()
        if not text or text.lower() in {"not known", "unknown", "skip"}:
            return CouncilCard(
                text or "not known", None, given=False, notes=notes, case_data=case_data
            )
        return CouncilCard(text, self.match(text).council, notes=notes, case_data=case_data)

    def cards(
        self, typed: Any, *, notes: list[str] | None = None, case_data: bool = False
    ) -> list[CouncilCard]:
        """Several councils stored in one answer (``; ``-separated)."""
        text = str(typed or "").strip()
        parts = [p.strip() for p in text.split(";") if p.strip()]
        made = [self.card(p, notes=notes, case_data=case_data) for p in parts]
        return made or [self.card("", notes=notes, case_data=case_data)]


class CouncilCard:
    """What a template may print about a council. Every contact is from the directory, or a
    placeholder saying it is missing; there is no way to print anything else.

    For a letter, ``notes`` collects what the reviewer must check (an unverified contact is
    then printed as it would be sent, without a tag, and its check goes to the notes), and
    ``case_data`` (the letter carries personal data about a case) prints a placeholder in
    place of any contact not meant for case data.
    """

    def __init__(
        self,
        typed: str,
        council: Council | None,
        *,
        given: bool = True,
        notes: list[str] | None = None,
        case_data: bool = False,
    ) -> None:
        self.typed = typed
        self.known = council is not None
        self.given = given
        self.example = bool(council and council.example)
        self.name = council.name if council else typed
        self._council = council
        self._notes = notes
        self._case_data = case_data

    def _tell(self, line: str) -> None:
        if self._notes is not None and line not in self._notes:
            self._notes.append(line)

    def _tell_source(self) -> None:
        """Where this council's contacts came from, unless all are from checked entries."""
        council = self._council
        if (
            council is None
            or council.example
            or any(not c.verified for c in council.contacts.values())
        ):
            self._tell(self.note)

    def __str__(self) -> str:
        return self.name

    def has(self, role: str) -> bool:
        return bool(self._council and role in self._council.contacts)

    def contact(self, role: str) -> str:
        if role not in ROLES:
            raise ValueError(f"unknown contact role {role!r}; one of {', '.join(ROLES)}")
        label = ROLES[role]
        self._tell_source()
        if self._council is None:
            why = f"{self.name} is not in the directory" if self.given else "council not known"
            return f"[{label}: {why} - look it up before sending]"
        found = self._council.contacts.get(role)
        if found is None:
            return f"[{label}: not in the directory - look it up before sending]"
        if self._case_data and not found.case_data:
            self._tell(
                f"The directory's {label} for {self.name} is not a route for case data, so "
                "the letter has a placeholder: find the council's secure route for it."
            )
            return f"[{label}: the directory's one is not for case data - find the secure route]"
        if self._council.example:
            return f"{found.text()} [EXAMPLE DATA - not a real contact]"
        if found.verified or self._notes is not None:  # a letter: checks go to the notes
            return found.text()
        return f"{found.text()} [unverified]"

    @property
    def front_door(self) -> str:
        return self.contact("front_door")

    @property
    def out_of_hours(self) -> str:
        return self.contact("out_of_hours")

    @property
    def lado(self) -> str:
        return self.contact("lado")

    @property
    def complaints(self) -> str:
        return self.contact("complaints")

    @property
    def registration_checks(self) -> str:
        """Where registration checks go: the council's checks contact, else its front door."""
        if self.has("registration_checks") or not self.has("front_door"):
            return self.contact("registration_checks")
        return self.contact("front_door")

    @property
    def note(self) -> str:
        """One line for the foot of a draft about where these contacts came from."""
        if not self.given:
            return "The council is not known yet: find it and its contacts before sending."
        if self._council is None:
            return (
                f"{self.name} is not in the local authority directory: look its contacts up "
                "before sending."
            )
        if self.example:
            return (
                f"The directory entry for {self.name} is EXAMPLE DATA with placeholder "
                "contacts: replace them with the council's real contacts before sending."
            )
        unverified = sorted({c.source for c in self._council.contacts.values() if not c.verified})
        if unverified:
            return (
                f"Contacts for {self.name} are from the local authority directory and not yet "
                f"verified: check them against {'; '.join(unverified)} before sending."
            )
        return f"Contacts for {self.name} are from the local authority directory."


# ---------------------------------------------------------------------------------------------
# reading and checking the file
# ---------------------------------------------------------------------------------------------
def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _contact(role: str, raw: Any, where: str, example: bool, problems: list[str]) -> Contact | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a mapping of phone/email/... with source and verified")
        return None
    for key in sorted(set(raw) - CONTACT_FIELDS):
        problems.append(
            f"{where}: unknown field {key!r} (one of {', '.join(sorted(CONTACT_FIELDS))})"
        )
    if not _text(raw.get("source")):
        problems.append(f"{where}: needs a 'source' (where the contact was found)")
    if "verified" not in raw:
        problems.append(f"{where}: needs 'verified' (false until an administrator has checked it)")
    elif not isinstance(raw["verified"], bool):
        problems.append(f"{where}: 'verified' must be true or false")
    if "case_data" in raw and not isinstance(raw["case_data"], bool):
        problems.append(f"{where}: 'case_data' must be true or false")
    if not any(_text(raw.get(k)) for k in REACH):
        problems.append(f"{where}: needs at least one of {', '.join(REACH)}")
    phone, email = _text(raw.get("phone")), _text(raw.get("email"))
    if phone and (not _PHONE.match(phone) or sum(ch.isdigit() for ch in phone) < 3):
        problems.append(f"{where}: phone {phone!r} is not a phone number")
    if email and not _EMAIL.match(email):
        problems.append(f"{where}: email {email!r} is not an email address")
    if email and example and not _EXAMPLE_EMAIL.search(email.lower()):
        problems.append(
            f"{where}: an example entry must use a placeholder email (…@example.invalid), "
            f"not {email!r}"
        )
    return Contact(
        role=role,
        source=_text(raw.get("source")),
        verified=raw.get("verified") is True,
        case_data=raw["case_data"] is True if "case_data" in raw else role in CASE_DATA_ROLES,
        team=_text(raw.get("team")),
        phone=phone,
        email=email,
        address=_text(raw.get("address")),
        website=_text(raw.get("website")),
        hours=_text(raw.get("hours")),
    )


def parse_directory(raw: Any, where: str = "local_authorities.yaml") -> tuple[Directory, list[str]]:
    """The directory and every problem with it (an empty list when it is sound)."""
    problems: list[str] = []
    if raw is None:
        return Directory(source=where), problems
    if not isinstance(raw, dict) or not isinstance(raw.get("councils", []), list):
        return Directory(source=where), [f"{where}: expected a mapping with a 'councils:' list"]
    file_example = raw.get("example", False)
    if not isinstance(file_example, bool):
        problems.append(f"{where}: 'example' must be true or false")
    councils: list[Council] = []
    owner: dict[str, str] = {}  # normalised name -> the council that uses it
    for number, entry in enumerate(raw.get("councils") or [], start=1):
        here = f"{where}: council #{number}"
        if not isinstance(entry, dict):
            problems.append(f"{here}: must be a mapping with name, aliases and contacts")
            continue
        name = _text(entry.get("name"))
        if not name:
            problems.append(f"{here}: needs a 'name' (the council's official name)")
            continue
        here = f"{where}: {name!r}"
        for key in sorted(set(entry) - COUNCIL_FIELDS):
            problems.append(
                f"{here}: unknown field {key!r} (one of {', '.join(sorted(COUNCIL_FIELDS))})"
            )
        aliases_raw = entry.get("aliases") or []
        if not isinstance(aliases_raw, list):
            problems.append(f"{here}: 'aliases' must be a list of names")
            aliases_raw = []
        aliases = tuple(a for a in (_text(x) for x in aliases_raw) if a)
        example = entry.get("example", file_example)
        if not isinstance(example, bool):
            problems.append(f"{here}: 'example' must be true or false")
            example = True
        if file_example and not example:
            problems.append(f"{here}: the file is marked as an example, so every entry must be too")
        for alias in (name, *aliases):
            for key in _exact_keys(alias):
                if key in owner and owner[key] != name:
                    problems.append(
                        f"{here}: name {alias!r} reads the same as one of {owner[key]!r}'s; "
                        "names and aliases must tell councils apart"
                    )
                owner.setdefault(key, name)
        contacts_raw = entry.get("contacts") or {}
        if not isinstance(contacts_raw, dict):
            problems.append(f"{here}: 'contacts' must map roles ({', '.join(ROLES)}) to details")
            contacts_raw = {}
        contacts: dict[str, Contact] = {}
        for role, details in contacts_raw.items():
            if role not in ROLES:
                problems.append(f"{here}: unknown contact {role!r} (one of {', '.join(ROLES)})")
                continue
            if details is None:  # listed but left empty: the same as missing
                continue
            made = _contact(role, details, f"{here} {role}", bool(example), problems)
            if made is not None:
                contacts[role] = made
        councils.append(Council(name, aliases, bool(example), contacts))
    return Directory(councils, source=where), problems


def read_directory(path: Path) -> tuple[Directory, list[str]]:
    """The directory at ``path`` and its problems; a missing file is an empty directory."""
    if not path.exists():
        return Directory(source=path.name), []
    try:
        raw = read_yaml(path, "the local authority directory")
    except KnowledgeError as exc:
        # the problem names the file as the directory's other problems do; the cause is
        # the OSError or YAMLError read_yaml caught
        return Directory(source=path.name), [f"{path.name}: cannot read: {exc.__cause__}"]
    return parse_directory(raw, path.name)


def load_directory(path: Path) -> Directory:
    """The directory at ``path``, refusing to load one with problems (every council then
    gets placeholders if the file is missing)."""
    directory, problems = read_directory(path)
    if problems:
        raise KnowledgeError(
            "the local authority directory has problems:\n  " + "\n  ".join(problems)
        )
    return directory


def summary(directory: Directory) -> str:
    """One line for `kb check`."""
    if not directory.councils:
        return (
            f"local authority directory: no councils ({directory.source} missing or empty; "
            "every council gets placeholders)"
        )
    examples = sum(c.example for c in directory.councils)
    contacts = sum(len(c.contacts) for c in directory.councils)
    unverified = sum(not x.verified for c in directory.councils for x in c.contacts.values())
    line = (
        f"local authority directory: {len(directory)} councils, {contacts} contacts "
        f"({unverified} not yet verified)"
    )
    if examples:
        line += f"; {examples} EXAMPLE entries with placeholder contacts, not real ones"
    return line
