"""Where the bot's data lives: next to the package in a checkout, inside it when installed."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _data_root(name: str) -> Path:
    installed = _PACKAGE / "_data" / name
    if installed.is_dir():
        return installed
    checkout = _PACKAGE.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(
        f"cannot find the bot's {name}/ folder (looked in {installed} and {checkout}); "
        "reinstall the package or run from a checkout"
    )


def knowledge_dir() -> Path:
    return _data_root("knowledge")


def flows_dir() -> Path:
    return _data_root("flows")


def bench_dir() -> Path | None:
    """The labelled sets the router trains on: in a checkout only (a wheel carries none)."""
    checkout = _PACKAGE.parent / "bench"
    return checkout if checkout.is_dir() else None
