"""Logging an unexpected exception without its message.

An exception's message can quote the data it failed on, and here that may be what a member
of staff typed about a child. Logs keep the exception's type and where it happened (the
traceback's files, lines and source), which is what a maintainer needs, and drop the message
and any chained exceptions.
"""

from __future__ import annotations

from types import TracebackType

__all__ = ["Withheld", "without_message"]


class Withheld(Exception):
    """Stands in, in a log record, for an exception whose message is not logged."""


def without_message(
    exc: BaseException,
) -> tuple[type[BaseException], BaseException, TracebackType | None]:
    """``exc_info`` for ``log.error(..., exc_info=without_message(exc))``."""
    kind = type(exc)
    stand_in = Withheld(f"{kind.__module__}.{kind.__qualname__} (message withheld)")
    return Withheld, stand_in, exc.__traceback__
