"""Referral drafts rendered with Jinja2 in a sandbox: answers are data, never template code.
Each draft is a letter (what would be sent) and the reviewer's notes beside it."""

from bot.drafting.notes import reviewer_notes
from bot.drafting.render import DraftRenderer, TemplateProblem

__all__ = ["DraftRenderer", "TemplateProblem", "reviewer_notes"]
