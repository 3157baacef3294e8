"""The dependency rules of ../shared/ARCHITECTURE.md, checked by walking every import."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parent.parent / "bot"
SDKS = ("slack_bolt", "slack_sdk", "telegram")


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def modules(folder: str) -> list[Path]:
    return sorted((BOT / folder).glob("*.py"))


def hits(names: set[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(n for n in names if n.split(".")[0] in prefixes or n.startswith(prefixes))


@pytest.mark.parametrize("path", modules("kb") + modules("drafting"), ids=lambda p: p.name)
def test_kb_and_drafting_know_no_dialogue_and_no_channel(path: Path) -> None:
    assert not hits(imports_of(path), ("bot.dialogue", "bot.channels", "bot.cli", *SDKS))


@pytest.mark.parametrize("path", modules("dialogue"), ids=lambda p: p.name)
def test_dialogue_knows_no_channel_and_no_platform(path: Path) -> None:
    assert not hits(imports_of(path), ("bot.channels", "bot.cli", *SDKS))


@pytest.mark.parametrize(
    "path", [p for p in modules("routing") if p.name != "training.py"], ids=lambda p: p.name
)
def test_routing_runs_without_dialogue_channels_or_the_training_libraries(path: Path) -> None:
    used = ("bot.dialogue", "bot.channels", "bot.cli", *SDKS, "sklearn", "scipy", "joblib")
    assert not hits(imports_of(path), used)


@pytest.mark.parametrize(
    ("name", "allowed"),
    [
        ("console.py", ()),
        ("lookup_view.py", ()),
        ("slack.py", ("slack_bolt", "slack_sdk")),
        ("slack_blocks.py", ()),
        ("telegram.py", ("telegram",)),
        ("telegram_render.py", ()),
    ],
)
def test_each_channel_uses_at_most_its_own_platform(name: str, allowed: tuple[str, ...]) -> None:
    used = {n.split(".")[0] for n in hits(imports_of(BOT / "channels" / name), SDKS)}
    assert used <= set(allowed), f"{name} imports {sorted(used - set(allowed))}"


# the only other places that look at the environment: the XDG base directories for the
# default session file and the look-up cache, and the switch that turns the cache off
ENVIRONMENT_READERS = {"config.py", "cli.py", "dialogue/__init__.py", "kb/cache.py"}


def test_only_config_and_cli_read_settings_from_the_environment() -> None:
    for path in BOT.rglob("*.py"):
        where = str(path.relative_to(BOT))
        text = path.read_text(encoding="utf-8")
        if where not in ENVIRONMENT_READERS:
            assert "os.environ" not in text and "getenv" not in text, (
                f"{where} reads the environment"
            )


@pytest.mark.parametrize("package", ["bot.kb", "bot.dialogue", "bot.drafting", "bot.routing"])
def test_each_package_names_its_public_surface(package: str) -> None:
    import importlib

    module = importlib.import_module(package)
    public = getattr(module, "__all__", None)
    assert public, f"{package} has no __all__"
    missing = [name for name in public if not hasattr(module, name)]
    assert not missing, f"{package}.__all__ names what it does not have: {missing}"
    assert list(public) == sorted(public), f"{package}.__all__ is not sorted"
