"""Routing: which flow a free-text message means, from a trained classifier run with numpy.

Imports the knowledge base's text helpers, never the dialogue engine or a channel; the
engine hands it the flows. Training (`protocolbot router train`, the `train` extra) is in
:mod:`bot.routing.training`, which only the command line imports.
"""

from __future__ import annotations

from bot.routing.model import RoutingModel
from bot.routing.policy import Route, Thresholds
from bot.routing.router import Router
from bot.routing.words import Phrases, RoutingData, WordList

__all__ = [
    "Phrases",
    "Route",
    "Router",
    "RoutingData",
    "RoutingModel",
    "Thresholds",
    "WordList",
]
