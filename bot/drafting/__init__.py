"""Referral drafts rendered with Jinja2 in a sandbox: answers are data, never template code."""

from bot.drafting.render import DraftRenderer, TemplateProblem

__all__ = ["DraftRenderer", "TemplateProblem"]
