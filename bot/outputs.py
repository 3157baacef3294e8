"""Files the bot writes for a user (drafts, audit exports): private, and whole or not at all.

A draft or an export holds case details or user ids, so it is created readable by its owner
only, and written to a temporary file beside the target that replaces it in one rename: a
full disk or a crash leaves the old file (or none), never half of the new one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

__all__ = ["private_writer", "write_private"]


@contextlib.contextmanager
def private_writer(path: Path) -> Iterator[IO[str]]:
    """A text handle whose contents become ``path`` (mode 0600) when the block ends without
    an error; on any error the temporary file is removed and ``path`` is untouched."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def write_private(path: Path, text: str) -> None:
    """``path`` holds exactly ``text``, readable by its owner only."""
    with private_writer(path) as file:
        file.write(text)
