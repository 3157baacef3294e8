"""An on-disk cache of the built look-up index, so the command line starts fast.

The key is a hash of the knowledge folder's resolved path, of every knowledge file the index
is built from and of the code version (every module of bot/kb), so an edited glossary or a
rebuilt clause index is never served stale, and one folder's index (which remembers its
folder) is never served for another folder with the same contents. A cache that cannot
be read or written is ignored: the index is simply built. Writing a folder's new index
deletes that folder's older ones, so the cache holds one index per knowledge folder.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import bot

T = TypeVar("T")
INPUTS = ("documents.yaml", "clauses.json", "glossary.yaml", "clause_topics.yaml")


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "protocolbot"


def _folder(root: Path) -> str:
    """The part of the file name that says which knowledge folder an index is for."""
    return hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:12]


def _key(root: Path) -> str:
    digest = hashlib.sha256(bot.__version__.encode())
    digest.update(str(root.resolve()).encode() + b"\0")
    for module in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(module.name.encode() + module.read_bytes())
    for name in INPUTS:
        path = root / name
        digest.update(name.encode() + (path.read_bytes() if path.exists() else b"-"))
    return digest.hexdigest()[:32]


def cached(root: Path, build: Callable[[], T]) -> T:
    if os.environ.get("PROTOCOLBOT_NO_CACHE"):
        return build()
    path: Path | None = None
    try:
        path = cache_dir() / f"index-{_folder(root)}-{_key(root)}.pickle"
        with path.open("rb") as stored:
            return pickle.load(stored)  # type: ignore[no-any-return]
    except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError):
        pass
    value = build()
    if path is None:  # the key could not be made: nowhere to store the index
        return value
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=path.parent, delete=False) as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(handle.name, path)
        for stale in path.parent.glob(f"index-{_folder(root)}-*.pickle"):
            if stale != path:
                stale.unlink(missing_ok=True)
    except (OSError, pickle.PickleError):
        pass
    return value
