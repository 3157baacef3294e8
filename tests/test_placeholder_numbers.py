"""Example and placeholder phone numbers use Ofcom's drama ranges, never a real number.

Ofcom reserves 01632 960000-960999 and 07700 900000-900999 for fiction. A made-up number
with a real area code (01234 is Bedford, 0113 Leeds) could ring a stranger. The only other
numbers allowed are real published ones the knowledge base carries on purpose: those in the
source documents (historical) and in knowledge/contacts.yaml (current, with their source).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCANNED = ("knowledge", "flows", "docs", "tests", "bench", "bot", "README.md", "SECURITY.md")
SUFFIXES = {".py", ".yaml", ".yml", ".md", ".txt", ".j2", ".json"}
# a UK number written as one: an area code, a space or hyphen, then the rest
PHONE = re.compile(
    r"(?<![\d.])0[1-9]\d{1,3}[ -]\d{3,4}(?:[ -]?\d{3,4})?(?!\d)|(?<!\d)0[1-9]\d{9}(?!\d)"
)
DRAMA = re.compile(r"^(?:01632960|07700900)\d{0,3}$")  # a number, or its prefix in prose


def digits(number: str) -> str:
    return re.sub(r"\D", "", number)


def published() -> set[str]:
    """Real numbers the knowledge base quotes or lists with a source."""
    texts = [p.read_text(encoding="utf-8") for p in (ROOT / "knowledge" / "sources").glob("*")]
    texts.append((ROOT / "knowledge" / "contacts.yaml").read_text(encoding="utf-8"))
    return {digits(m) for text in texts for m in PHONE.findall(text)}


def scanned_files() -> list[Path]:
    files: list[Path] = []
    for name in SCANNED:
        path = ROOT / name
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files += [
                p
                for p in sorted(path.rglob("*"))
                if p.is_file()
                and p.suffix in SUFFIXES
                and "sources" not in p.parts
                and p != Path(__file__).resolve()  # its examples of wrong numbers
            ]
    return files


def test_the_pattern_finds_the_numbers_people_write() -> None:
    found = PHONE.findall(
        "call 01632 960001, 07700 900123, 0113 000 0000, 020 7448 9089 or 01632960002; "
        "not 0123456789 0123456789, LGO 24 001 234, 1.0 2 or 2023-12-22"
    )
    assert found == [
        "01632 960001",
        "07700 900123",
        "0113 000 0000",
        "020 7448 9089",
        "01632960002",
    ]
    assert DRAMA.match(digits("01632 960001")) and not DRAMA.match(digits("01234 000 001"))


@pytest.mark.parametrize("path", scanned_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_phone_number_is_fictional_or_published(path: Path) -> None:
    allowed = published()
    text = path.read_text(encoding="utf-8")
    wrong = sorted(
        {m for m in PHONE.findall(text) if not DRAMA.match(digits(m)) and digits(m) not in allowed}
    )
    assert not wrong, (
        f"{path.relative_to(ROOT)}: {wrong} - use Ofcom's drama ranges for made-up numbers "
        "(01632 960000-960999, 07700 900000-900999)"
    )
