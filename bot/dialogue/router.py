"""The router the engine asks which flow a message means: it lives in :mod:`bot.routing`."""

from __future__ import annotations

from bot.routing import Phrases, Route, Router, RoutingData, WordList

__all__ = ["Phrases", "Route", "Router", "RoutingData", "WordList"]
