"""The conversation engine: one inbound message in, the replies out. Knows no platform."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

from bot.dialogue.answers import check_answer, control_free
from bot.dialogue.audit import AuditEvent, AuditLog
from bot.dialogue.flow import END, SAFEGUARDING, Flow, Step
from bot.dialogue.messages import NAVIGATION, Draft, DraftField, Inbound, Option, Reply
from bot.dialogue.router import Router
from bot.dialogue.safety import SafetyNote, conversation_note, note_of, safety_card, signals_risk
from bot.dialogue.session import Mark, Session, SessionUnreadable
from bot.dialogue.stale import stale_reason
from bot.dialogue.store import SessionStore, StoreUnavailable
from bot.drafting.notes import reviewer_notes
from bot.drafting.render import DraftRenderer, TemplateProblem
from bot.kb import ClauseIndex, QueryError, look_up
from bot.kb.model import Citation

log = logging.getLogger(__name__)

MAX_TRIES = 3
SWEEP_SECONDS = 60.0  # how often a busy engine deletes idle sessions it is not serving
MAX_STEPS_PER_TURN = 200
# the longest message taken at all (longer than any answer a flow accepts); routing and look-up
# read only the start of a message, so their cost stays small whatever is sent
MAX_MESSAGE = 10_000
MAX_ROUTED = 2_000
MAX_QUERY = 500
LOOKUP_PREFIX = re.compile(r"^(?:\?|look ?up\b|lookup:|clause\b|/clause\b)\s*", re.IGNORECASE)
COMMANDS = {
    "back": "nav:back",
    "why": "nav:why",
    "why?": "nav:why",
    "restart": "nav:restart",
    "start again": "nav:restart",
    "cancel": "nav:cancel",
    "stop": "nav:cancel",
    "quit": "nav:cancel",
    "help": "nav:help",
    "menu": "nav:menu",
    "flows": "nav:menu",
    "resume": "nav:resume",
    "continue": "nav:resume",
}
HELP = (
    "I walk you through the inter-agency protocols step by step and quote the clause behind "
    "each step; at the end I draft the referral or reply for you to check and send yourself.\n"
    "At any point type: back (change your last answer), why (the full clauses behind this "
    "step), restart, cancel, menu, or ? followed by a question to look up a clause; then "
    "resume to carry on where you were."
)
# typed replies to a question before leaving a flow (buttons send the actions themselves)
LEAVE_WORDS = {
    "cancel": {"yes": "cancel", "y": "cancel", "cancel": "cancel"},
    "restart": {"yes": "restart", "y": "restart", "restart": "restart"},
    "resume": {"yes": "resume", "y": "resume", "resume": "resume"},
    "switch": {"pause": "pause", "keep": "pause", "discard": "discard", "delete": "discard"},
}
STAY_WORDS = {"no", "n", "carry on", "stay", "continue", "resume"}
UNCLEAR_WORDS = {"yes", "y", "ok", "okay", "sure"}  # to "pause, discard or carry on?"
SHARED_NOTE = (
    "This needs case details, so I'll continue with you in a private message. "
    "Please don't post details about a child here."
)


class Engine:
    def __init__(
        self,
        *,
        index: ClauseIndex,
        flows: Mapping[str, Flow],
        router: Router,
        renderer: DraftRenderer,
        store: SessionStore,
        audit: AuditLog | None = None,
        today: Callable[[], dt.date] = dt.date.today,
    ) -> None:
        """``today``: the date answers, branches and drafts are reckoned from (a test fixes
        it, so conversations with dates in them mean the same on any day they are run)."""
        self.index = index
        self.today = today
        # a concern about a child's safety comes first, in every menu and on the Home tab
        self.flows = dict(sorted(flows.items(), key=lambda item: item[0] != SAFEGUARDING))
        self.router = router
        self.renderer = renderer
        self.store = store
        self.audit = audit
        self._last_sweep = time.monotonic()

    # ====================================================================================
    # the one entry point
    # ====================================================================================
    def handle(self, inbound: Inbound) -> list[Reply]:
        longest = max([len(inbound.text), *map(len, (inbound.edits or {}).values())])
        if longest > MAX_MESSAGE:
            # refused before the store is touched: one user's huge paste must not hold the
            # database (and every other user's turn) while it is cleaned, routed or checked
            return [
                Reply(
                    f"That message is {longest:,} characters long; the most I take in one "
                    f"message is {MAX_MESSAGE:,}. Nothing was saved: please send a shorter one.",
                    kind="error",
                )
            ]
        inbound = _well_formed(inbound)
        # the conversation is held for the whole turn: a double click is worked through
        # after the first, and a turn's writes are kept together or not at all
        try:
            with self.store.turn(inbound.conversation.key):
                replies, event = self._handle(inbound)
        except StoreUnavailable as exc:
            return [self._store_fault(exc, "for a turn")]
        if event is not None:  # after the commit: the audit never costs the user the turn
            self._record(event)
        self._sweep()
        return replies

    def _sweep(self) -> None:
        """Now and then, delete every idle session, not just the ones their users come back to."""
        if time.monotonic() - self._last_sweep < SWEEP_SECONDS:
            return
        self._last_sweep = time.monotonic()
        try:
            gone = self.store.expire()
        except StoreUnavailable:
            log.warning("idle sessions not swept: the store is unavailable")
            return
        if gone:
            log.info("deleted %d idle session(s)", gone)

    def _record(self, event: AuditEvent) -> None:
        if self.audit is None:
            return
        try:
            self.audit.record(event)
        except Exception as exc:  # any backend's failure; the turn itself is already saved
            log.error("audit event not recorded (%s); the turn was saved", type(exc).__name__)

    def _handle(self, inbound: Inbound) -> tuple[list[Reply], AuditEvent | None]:
        """The turn's replies, and its audit event if the turn was saved."""
        key = inbound.conversation.key
        unreadable = False
        try:
            session, expired = self.store.load(key)
        except StoreUnavailable as exc:
            return [self._store_fault(exc, "on load")], None
        except SessionUnreadable:  # the store has deleted it, with this turn
            log.warning("an unreadable session was deleted")
            session, expired, unreadable = None, False, True
        changed = stale_reason(session, self.flows) if session else None
        if changed is not None:
            log.warning("a session the flows no longer fit was reset")
            session = None
        flow_before = session.flow if session else None
        turn = _Turn(self, session or Session(key=key), inbound)
        if unreadable or changed is not None:
            turn.say(
                "Your earlier conversation could not be carried on "
                + (
                    f"because {changed} (the protocols were updated since you started)"
                    if changed
                    else "because it was saved by another version of the bot or was damaged"
                )
                + ", so it has been deleted, answers and all. Let's start again.",
                kind="notice",
            )
        left = None
        if session is None:
            try:
                left = self.store.safety_note(key)
            except StoreUnavailable as exc:
                return [self._store_fault(exc, "on load")], None
        if expired or (left is not None and not (unreadable or changed is not None)):
            turn.say(
                "Your earlier conversation was idle too long and has been deleted, "
                "answers and all. Let's start again.",
            )
        if left is not None:  # a risk was signalled in it: where the concern must go
            turn.session.noted = left  # shown now, so the note is dropped after the turn
            turn.show_card(SafetyNote.from_json(left), "Before it was deleted:")
        try:
            turn.run()
        except TemplateProblem:
            log.exception("a draft template failed")
            return [
                Reply(
                    "Sorry, I could not render that draft. Your answers are kept; "
                    "please tell an administrator.",
                    kind="error",
                )
            ], None
        s = turn.session
        turn.replies = _stale_options_dropped(turn.replies, s.flow)
        try:
            self._keep_note(s)
            if s.mode == "idle" and not (s.flow or s.pending_text or s.paused or s.risk):
                self.store.delete(key)  # nothing worth keeping: no answers linger
            else:
                self.store.save(s)
        except StoreUnavailable as exc:
            return [self._store_fault(exc, "on save")], None
        if not turn.replies:  # e.g. a chat opened with nothing to resume: nothing happened
            return [], None
        flow = turn.session.flow or flow_before
        return turn.replies, AuditEvent.of_turn(inbound.conversation, flow, turn.replies)

    def _keep_note(self, session: Session) -> None:
        """Keep the store's safety note in step with the session: while a risk signalled in
        the conversation has not been answered with the safety card, the note outlives the
        session, so a user whose answers expire is still shown the card when they return."""
        flagged = session.risk or bool(session.paused and session.paused.get("risk"))
        note = conversation_note(session, self.flows, self.renderer.directory) if flagged else None
        wanted = note.to_json() if note is not None else ""
        if wanted == session.noted:
            return
        if wanted:
            self.store.keep_safety_note(session.key, wanted)
        else:
            self.store.drop_safety_note(session.key)
        session.noted = wanted

    @staticmethod
    def _store_fault(exc: StoreUnavailable, when: str) -> Reply:
        """What the user is told when the store fails: try again for a passing fault, tell an
        administrator for one that will not clear. The log names the class of fault only."""
        if exc.permanent:
            log.error("session store fault %s: %s (permanent)", when, exc.fault)
            return Reply(
                "Sorry, the bot cannot save conversations at the moment because of a fault in "
                "its database that will not clear by itself, so nothing has changed. Please "
                "tell an administrator; trying again will not help until it is fixed.",
                kind="error",
            )
        log.warning("session store unavailable %s: %s", when, exc.fault)
        return Reply(
            "Sorry, I couldn't save your progress just now, so nothing has changed. "
            "Please try again in a moment.",
            kind="error",
        )

    # --- services used by turns --------------------------------------------------------
    def cite(self, clause_ids: list[str] | tuple[str, ...]) -> tuple[Citation, ...]:
        return tuple(self.index.kb.cite(c) for c in clause_ids)

    def menu_options(self) -> tuple[Option, ...]:
        options = [Option(f.title, f"flow:{f.id}") for f in self.flows.values()]
        return (*options, Option("Look up a clause", "cmd:lookup"))


def _stale_options_dropped(replies: list[Reply], in_hand: str | None) -> list[Reply]:
    """Options only on replies of the flow in hand at the end of the turn (or of none): a
    called flow's "Edit the answers" on its drafts, once its caller has taken over, would
    change the caller's answers, not the ones those drafts were written from."""
    return [
        dataclasses.replace(r, options=()) if r.options and r.flow not in {None, in_hand} else r
        for r in replies
    ]


def _quoted(heading: str, citations: tuple[Citation, ...]) -> str:
    """Clauses in full under a heading, each with its currency notes beside it."""
    lines = [heading]
    for c in citations:
        lines.append(f"\n{c.citation} [{c.clause_id}]\n{c.text}")
        for note in c.notes:
            flag = "" if note.verified else ", not yet verified"
            lines.append(f"Currency note ({note.source}{flag}): {note.text}")
    return "\n".join(lines)


_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPE_OR_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _well_formed(inbound: Inbound) -> Inbound:
    """Lone surrogates (a bad JSON escape, undecodable terminal bytes) cannot be encoded, so
    they could not be stored, hashed or sent; they become U+FFFD, as a decoder would make them.
    Terminal escape sequences and control characters go from typed text: a look-up or a
    menu echoes what was typed, and an echoed sequence would retitle or clear the terminal."""
    if _ESCAPE_OR_CONTROL.search(inbound.text):
        inbound = dataclasses.replace(inbound, text=control_free(inbound.text))
    if not (
        _SURROGATE.search(inbound.text)
        or _SURROGATE.search(inbound.action or "")
        or any(_SURROGATE.search(v) for v in (inbound.edits or {}).values())
    ):
        return inbound
    return dataclasses.replace(
        inbound,
        text=_SURROGATE.sub("\ufffd", inbound.text),
        action=_SURROGATE.sub("\ufffd", inbound.action) if inbound.action else inbound.action,
        edits={k: _SURROGATE.sub("\ufffd", v) for k, v in inbound.edits.items()}
        if inbound.edits
        else inbound.edits,
    )


def _shown(step: Step, value: str) -> str:
    """An answer as the user saw it: the option's label, a date written out, or what they typed."""
    for choice in step.choices():
        if choice.value == value:
            return choice.label
    if step.type == "date" and value:
        try:
            return dt.date.fromisoformat(value).strftime("%-d %B %Y")  # 30 November 2026
        except ValueError:
            return value
    return value or "not known"


class _Turn:
    """One inbound message worked through against one session."""

    def __init__(self, engine: Engine, session: Session, inbound: Inbound) -> None:
        self.engine = engine
        self.session = session
        self.inbound = inbound
        self.replies: list[Reply] = []
        self.pending_leave = ""  # the question before leaving that this turn answers, if any

    # --- small helpers -----------------------------------------------------------------
    @property
    def flow(self) -> Flow:
        assert self.session.flow is not None
        return self.engine.flows[self.session.flow]

    @property
    def step(self) -> Step:
        assert self.session.step is not None
        return self.flow.step(self.session.step)

    @property
    def caller(self) -> str | None:
        """The flow that called the current one, if any (branches and texts may ask)."""
        return self.session.stack[-1][0] if self.session.stack else None

    def say(self, text: str, **fields: Any) -> None:
        fields.setdefault("flow", self.session.flow)
        fields.setdefault("step", self.session.step)
        self.replies.append(Reply(text, **fields))

    def context(self, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        answers = self.session.flow_answers()
        # called_from: the flow that called this one; risk_already_referred: the user
        # confirmed a concern that came up is already referred (a draft may say so)
        known = {
            "called_from": self.caller or "",
            "risk_already_referred": self.session.risk_referred,
            # a possible risk to a child came up in this conversation (the safety card is owed)
            "risk_signalled": self.session.risk,
            **(extra or {}),
        }
        return self.engine.renderer.context(
            answers, self.flow.asks(), known, today=self.engine.today()
        )

    def text_of(self, text: str) -> str:
        if "{" not in text:  # plain text: no answers to gather
            return text.strip()
        return self.engine.renderer.render_text(text, self.context()).strip()

    # --- dispatch ----------------------------------------------------------------------
    def run(self) -> None:
        inbound = self.inbound
        action = inbound.action or ""
        text = inbound.text.strip()
        # a question before leaving a flow is answered now, or set aside by whatever is done
        pending, self.session.confirming = self.session.confirming, ""
        self.pending_leave = pending
        if pending and not action:
            kind = pending.split(":", 1)[0]
            word = text.lower().rstrip("!. ")
            if word in LEAVE_WORDS.get(kind, {}):
                action = f"leave:{LEAVE_WORDS[kind][word]}"
            elif word in STAY_WORDS:
                action = "leave:stay"
            elif kind == "switch" and word in UNCLEAR_WORDS:  # not an answer to the question below
                action = "leave:again"
        if not action:
            command = COMMANDS.get(text.lower().rstrip("!. "))
            if command:
                action = command
            elif text == "?":  # a look-up with no question yet: say how, keep the place
                self.lookup("")
                if self.session.flow and self.session.mode != "done":
                    self.resume()
                return
            elif LOOKUP_PREFIX.match(text):
                action, text = "cmd:lookup", LOOKUP_PREFIX.sub("", text, count=1)
        if action not in {"cmd:return", "nav:resume"}:
            # anything else the user does shows they have what the last turn drafted
            self.session.recent_drafts = []
        if action.startswith("nav:"):
            self.navigate(action[4:])
        elif action == "cmd:start":
            self.say(HELP, kind="help")
            self.menu("What would you like to do?")
        elif action == "cmd:return":
            self.welcome_back()
        elif action == "cmd:lookup":
            self.lookup(text or self.session.pending_text)
        elif action == "cmd:protocol":
            self.protocol(text)
        elif action.startswith("flow:"):
            self.start_flow(action[5:])
        elif action.startswith("ans:"):
            step_id, _, value = action[4:].partition(":")
            if self.session.mode != "asking" or self.session.step != step_id:
                self.say(
                    "That button belongs to a question that has already been answered.",
                    kind="notice",
                    refused=True,
                )
                self.resume()
            else:
                self.answer(value, from_button=True)
        elif action == "draft:confirm":
            self.confirm()
        elif action == "draft:edit":
            self.choose_edit()
        elif action.startswith("edit:"):
            self.edit(action[5:])
        elif action == "draft:edited":
            self.apply_edits(inbound.edits or {})
        elif action.startswith("leave:"):
            self.leave(action[6:], pending)
        elif action.startswith("risk:"):
            self.after_risk_check(action[5:])
        elif action:
            self.say(
                "That button is no longer valid. Here is where we are.", kind="notice", refused=True
            )
            self.resume()
        elif self.session.mode == "asking" and self.session.flow:
            self.answer(text, from_button=False)
        elif self.session.mode == "risk" and self.session.flow:
            self.offer_risk_check(note="Please choose one of these first.")
        elif self.session.mode == "summary" and self.session.flow:
            if text.lower().rstrip(".! ") in {"yes", "y", "ok", "confirm", "draft", "draft it"}:
                self.confirm()
            elif text.lower() in {"edit", "change", "no"}:
                self.choose_edit()
            else:
                self.show_summary(note="Please confirm the answers or choose one to change.")
        else:
            self.free_text(text)

    # --- navigation --------------------------------------------------------------------
    def navigate(self, command: str) -> None:
        s = self.session
        if command == "menu":
            self.menu("Here is what I can help with.")
        elif command == "help":
            self.say(HELP, kind="help", navigation=NAVIGATION if s.flow else ())
            if s.flow:
                self.resume()
        elif command == "cancel":
            self.cancel(confirmed=self.pending_leave == "cancel")
        elif s.flow and s.mode == "done" and command in {"back", "why"}:
            self.after_the_end(command)
        elif not s.flow and command == "resume" and s.paused:
            self.unpause()
        elif not s.flow:
            self.say("There is no protocol in progress.", kind="notice")
            self.menu("Choose one to start:")
        elif command == "restart":
            self.restart(confirmed=self.pending_leave == "restart")
        elif command == "back":
            self.back()
        elif command == "why":
            self.why()
        else:  # resume
            self.resume()

    def menu(self, text: str) -> None:
        self.say(text, kind="menu", options=self.menu_options(), flow=None, step=None)

    def menu_options(self) -> tuple[Option, ...]:
        """The protocols, with the paused flow first when nothing else is in hand."""
        s = self.session
        options = self.engine.menu_options()
        if s.paused and (not s.flow or s.mode == "done"):
            title = self.engine.flows[s.paused["flow"]].title
            options = (Option(f"Resume “{title}”", "nav:resume"), *options)
        return options

    # --- leaving a flow: asked first, and the safety card before anything is deleted ----
    def titles_in_hand(self) -> list[str]:
        """The flow in hand and the flows it was called from, innermost first."""
        s = self.session
        titles = [self.engine.flows[f].title for f, _ in s.stack if f in self.engine.flows]
        if s.flow:
            titles.append(self.flow.title)
        return list(reversed(titles))

    def answers_at_stake(self) -> bool:
        """Whether leaving now would lose answers the user may still want: those of a flow
        in hand, or of a finished one whose drafts can still be changed and re-drafted."""
        s = self.session
        if not s.has_answers():
            return False
        return s.mode != "done" or any(k.startswith(f"{s.flow}/draft:") for k in s.seen_says)

    def show_card(self, note: SafetyNote | None, heading: str) -> None:
        if note is None:
            return
        renderer = self.engine.renderer
        self.say(
            safety_card(note, heading, renderer.directory, renderer.shown_contacts),
            kind="notice",
            meta={"safety_card": "yes"},
        )

    def card_owed(self, heading: str) -> None:
        """The safety card, if a risk was signalled in the flow being left; then it is paid."""
        s = self.session
        self.show_card(note_of(s, self.engine.flows, self.engine.renderer.directory), heading)
        s.risk = False

    def ask_to_leave(self, pending: str, text: str, options: tuple[Option, ...]) -> None:
        self.session.confirming = pending
        self.say(text, kind="question", options=options, navigation=NAVIGATION)

    def cancel(self, *, confirmed: bool) -> None:
        s = self.session
        if not s.flow and s.paused:
            self.discard_paused(confirmed=confirmed)
            return
        titles = self.titles_in_hand()
        named = " and ".join(f"“{t}”" for t in titles)
        if self.answers_at_stake() and not confirmed:
            self.ask_to_leave(
                "cancel",
                f"Cancel {named}? {'All their' if len(titles) > 1 else 'Its'} answers will "
                "be deleted.",
                (
                    Option("Yes, cancel and delete", "leave:cancel"),
                    Option("No, carry on", "leave:stay"),
                ),
            )
            return
        self.card_owed("Before the answers are deleted:")
        s.reset()
        self.say(
            f"Cancelled{f' {named}' if named else ''}. "
            f"{'All their' if len(titles) > 1 else 'Your'} answers have been deleted.",
            kind="notice",
            flow=None,
            step=None,
        )
        self.menu("Anything else?")

    def restart(self, *, confirmed: bool) -> None:
        s = self.session
        flow_id = s.history[0].flow if s.history else s.flow
        assert flow_id is not None
        if self.answers_at_stake() and not confirmed:
            self.ask_to_leave(
                "restart",
                f"Start “{self.engine.flows[flow_id].title}” again from the beginning? Your "
                "answers will be deleted.",
                (Option("Yes, start again", "leave:restart"), Option("No, carry on", "leave:stay")),
            )
            return
        self.card_owed("Before the answers are deleted:")
        s.reset()
        self.say("Starting again from the beginning; earlier answers are deleted.", kind="notice")
        self.start_flow(flow_id)

    def discard_paused(self, *, confirmed: bool) -> None:
        s = self.session
        paused = s.paused_session()
        assert paused is not None and paused.flow is not None
        title = self.engine.flows[paused.flow].title
        if not confirmed:
            self.ask_to_leave(
                "cancel",
                f"Discard the paused “{title}”? Its answers will be deleted.",
                (Option("Yes, discard it", "leave:cancel"), Option("No, keep it", "leave:stay")),
            )
            return
        self.show_card(
            note_of(paused, self.engine.flows, self.engine.renderer.directory),
            "Before the answers are deleted:",
        )
        s.paused = None
        self.say(f"Discarded “{title}”; its answers have been deleted.", kind="notice")
        self.menu("Anything else?")

    def leave(self, choice: str, pending: str) -> None:
        """The user's answer to a question before leaving a flow."""
        s = self.session
        kind, _, target = pending.partition(":")
        flow_id, _, risk = target.partition(":")
        if choice == "again" and kind == "switch" and flow_id in self.engine.flows:
            self.say("Please choose one of these.", kind="notice")
            self.offer_to_leave(self.engine.flows[flow_id], bool(risk))
        elif choice == "stay" and pending:
            if risk or flow_id == SAFEGUARDING:  # a concern raised stays with the flow in hand
                s.risk = True
            self.resume()
        elif choice == "cancel" and kind == "cancel":
            self.cancel(confirmed=True)
        elif choice == "restart" and kind == "restart":
            self.restart(confirmed=True)
        elif choice == "resume" and kind == "resume":
            self.card_owed("Before the answers are deleted:")
            self.unpause()
        elif choice in {"pause", "discard"} and kind == "switch" and flow_id in self.engine.flows:
            titles = " and ".join(f"“{t}”" for t in self.titles_in_hand())
            if choice == "pause" and s.paused is None:
                s.pause()
                self.say(
                    f"{titles} is paused with its answers; type resume to come back to it.",
                    kind="notice",
                )
            else:
                self.card_owed("Before the answers are deleted:")
                s.reset()
                self.say(f"Discarded {titles}; its answers have been deleted.", kind="notice")
            self.start_flow(flow_id, risk=bool(risk))
        else:
            self.say(
                "That button is no longer valid. Here is where we are.", kind="notice", refused=True
            )
            self.resume()

    def unpause(self) -> None:
        s = self.session
        s.unpause()
        self.say(f"Back to “{self.flow.title}”, where you left off.", kind="notice")
        self.resume()

    def welcome_back(self) -> None:
        """A user opens the chat again: an unfinished flow is named before anything is typed
        into it; with none and nothing expired, nothing is said (the channel greets)."""
        s = self.session
        if s.flow and s.mode != "done":
            self.say(
                f"You have an unfinished “{self.flow.title}” from earlier; we carry on from "
                "where you were. Type cancel to drop it, or menu for the other protocols.",
                kind="notice",
            )
            self.resume()
        elif s.recent_drafts and s.flow in self.engine.flows:
            self.say(
                f"The drafts from “{self.flow.title}” are kept: type resume to see them again, "
                "or cancel to delete them and your answers now.",
                kind="notice",
                options=(Option("Resume", "nav:resume"),),
            )
        elif s.paused:
            title = self.engine.flows[s.paused["flow"]].title
            self.menu(f"You have “{title}” paused from earlier. Type resume to carry on with it.")
        elif self.replies:  # the earlier conversation had expired, and was just said so
            self.menu("What would you like to do?")

    def drafts_again(self) -> bool:
        """Show again the drafts of the last turn that drafted (committed before the channel
        showed them: a crash in between would lose them otherwise); True if there were any."""
        s = self.session
        kept = []
        for marker in s.recent_drafts:
            flow_id, _, step_id = marker.partition("/draft:")
            flow = self.engine.flows.get(flow_id)
            if flow is not None and any(st.id == step_id and st.draft for st in flow.steps):
                kept.append((flow_id, step_id))
        if not kept:
            return False
        self.say(
            "Here again are the drafts from your last turn, in case they did not reach you.",
            kind="notice",
        )
        current = s.flow
        for flow_id, step_id in kept:
            s.flow = flow_id  # a called flow's draft is rendered from its own answers
            try:
                self.render_draft(self.flow.step(step_id))
            finally:
                s.flow = current
        return True

    def resume(self) -> None:
        s = self.session
        if s.recent_drafts and self.drafts_again() and s.mode == "done" and not s.paused:
            return
        if s.paused and s.flow and s.mode == "done" and self.answers_at_stake():
            title = self.engine.flows[s.paused["flow"]].title
            self.ask_to_leave(
                "resume",
                f"“{self.flow.title}” has finished. Resume “{title}”? The answers of "
                f"“{self.flow.title}” will be deleted.",
                (Option(f"Yes, resume “{title}”", "leave:resume"), Option("No", "leave:stay")),
            )
        elif s.paused and (not s.flow or s.mode == "done"):
            self.unpause()
        elif not s.flow or s.mode == "done":
            self.menu("There is nothing to resume. What would you like to do?")
        elif s.mode == "summary":
            self.show_summary()
        elif s.mode == "risk":
            self.offer_risk_check(note="Carrying on where we were.")
        else:
            self.ask(self.step, note="Carrying on where we were.")

    def back(self) -> None:
        s = self.session
        if not s.history:
            self.ask(
                self.step, note="This is the first question, so there is nothing to go back to."
            )
            return
        mark = s.history.pop()
        s.flow, s.step, s.stack = mark.flow, mark.step, list(mark.stack)
        previous = s.flow_answers().pop(mark.step, None)
        s.mode, s.retries, s.confirmed, s.editing = "asking", 0, False, False
        s.risk_check, s.last_cites = "", []
        note = "Going back."
        if previous is not None and not self.step.personal:
            note += f" You answered: {_shown(self.step, previous)}."
        elif previous is not None:
            note += " Your previous answer has been cleared; please answer again."
        self.ask(self.step, note=note)

    def after_the_end(self, command: str) -> None:
        """why and back once a flow has finished: the clauses behind its last step, and the
        answers that can still be changed (the closing message promises both)."""
        s = self.session
        title = self.flow.title
        if command == "why" and s.last_cites:
            citations = self.engine.cite(s.last_cites)
            self.say(
                _quoted(f"The clauses behind the last step of “{title}”, in full:", citations),
                kind="why",
                citations=citations,
            )
            return
        if command == "back" and self.answered():
            drafted = any(k.startswith(f"{s.flow}/draft:") for k in s.seen_says)
            self.say(
                f"“{title}” has finished, so there is no question to go back to; you can "
                f"change an answer{' and re-draft' if drafted else ''}.",
                kind="notice",
            )
            self.choose_edit()
            return
        self.say(f"“{title}” has finished.", kind="notice")
        self.menu("Choose one to start:")

    def why(self) -> None:
        s = self.session
        step = self.step
        cites = list(step.cite) or list(s.last_cites)
        if not cites:
            self.say(
                "This step asks for information the draft needs; it rests on no single clause.",
                kind="why",
                navigation=NAVIGATION,
            )
        else:
            citations = self.engine.cite(cites)
            self.say(
                _quoted("The clauses behind this step, in full:", citations),
                kind="why",
                citations=citations,
                navigation=NAVIGATION,
            )
        self.resume()

    # --- routing and look-up -----------------------------------------------------------
    def free_text(self, text: str) -> None:
        if not text:
            self.menu("Tell me what has happened, or choose a protocol:")
            return
        if len(text) > MAX_ROUTED:
            self.say(
                f"That is a long message: I used its first {MAX_ROUTED:,} characters to find "
                "the protocol.",
                kind="notice",
            )
        route = self.engine.router.route(text[:MAX_ROUTED])
        if route.small_talk:
            self.menu("Hello. I help you follow the inter-agency protocols. What has happened?")
            return
        if route.lookup:
            self.lookup(text, from_free_text=True)
            return
        if route.flow:
            others = [self.engine.flows[f].title for f in route.offer if f != route.flow]
            if route.risk and self.engine.flows[route.flow].checks_referral_first:
                self.say(
                    "This mentions a possible risk to a child. This protocol first checks that "
                    "the concern itself has been referred, and takes you through "
                    f"“{self.engine.flows[SAFEGUARDING].title}” if it has not.",
                    kind="notice",
                )
            elif route.risk and others:
                self.say(
                    "This suggests a child may be at risk, so we start with safeguarding. "
                    f"Afterwards you can choose “{others[0]}” from the menu.",
                    kind="notice",
                )
            elif route.close_runner_up:
                # a close call: say what else it might be, so a wrong guess costs one word
                self.say(
                    f"This looks like “{self.engine.flows[route.flow].title}”. If you meant "
                    f"“{self.engine.flows[route.close_runner_up].title}” or another protocol, "
                    "type menu to choose it.",
                    kind="notice",
                )
            self.start_flow(route.flow, risk=route.risk)
            return
        self.session.pending_text = text
        if not route.offer:
            self.menu(
                "I couldn't match that to a protocol. Choose one, or look it up in the documents:"
            )
            return
        options = [Option(self.engine.flows[f].title, f"flow:{f}") for f in route.offer]
        options.append(Option("Look up a clause", "cmd:lookup"))
        self.say(
            "I'm not sure which protocol this is. Which fits best?",
            kind="menu",
            options=tuple(options),
            flow=None,
            step=None,
        )

    def protocol(self, text: str) -> None:
        if not text:
            self.menu("Which protocol do you need?")
            return
        self.free_text(text)

    def lookup(self, query: str, *, from_free_text: bool = False) -> None:
        s = self.session
        nav = NAVIGATION if s.flow else ()
        if not query.strip():
            self.say(
                "What would you like to look up? Type ? followed by your question, "
                "for example: ? what does the CQC MoU say about FOI requests",
                kind="lookup",
                navigation=nav,
            )
            return
        if len(query) > MAX_QUERY:
            query = query[:MAX_QUERY].rsplit(" ", 1)[0]
            self.say(
                f"That question is long: I looked up its first {len(query):,} characters.",
                kind="notice",
                navigation=nav,
            )
        try:
            answer = look_up(self.engine.index, query, k=3)
        except QueryError as exc:
            self.say(f"I can't look that up: {exc}.", kind="error", navigation=nav)
            return
        result = answer.result
        if not answer.shows_anything and from_free_text:
            self.menu(
                "I couldn't match that to a protocol or a clause. Choose a protocol, or "
                "type ? and your question to search the documents:"
            )
            return
        if not answer.shows_anything:
            self.say(
                "I found nothing in the five documents that answers that. Try other words "
                "(e.g. 'ombudsman decisions', 'FOI requests CQC'), a reference such as "
                "'lgo 17', or choose a protocol from the menu.",
                kind="lookup",
                navigation=nav,
                options=() if s.flow else self.engine.menu_options(),
            )
        else:
            citations = self.engine.cite([h.clause.id for h in result.hits if result.useful])
            self.say(
                # where others read, the typed question is not echoed: it may name a case
                _quoted(answer.heading(echo=not self.inbound.shared), citations),
                kind="lookup",
                citations=citations,
                navigation=nav,
            )
        if s.flow:
            where = "the summary" if s.mode == "summary" else "the same question"
            self.say(
                f"We're still in “{self.flow.title}” at {where}. Type resume to carry on.",
                kind="notice",
                options=(Option("Resume", "nav:resume"),),
            )

    # --- flows -------------------------------------------------------------------------
    def start_flow(self, flow_id: str, *, risk: bool = False) -> None:
        """Start a flow; ``risk``: the message that chose it suggests a child may be at risk.
        A flow in hand with answers is never dropped unasked: the user chooses to pause it,
        discard it or carry on with it."""
        if flow_id not in self.engine.flows:
            self.say("I don't know that protocol.", kind="error")
            self.menu("These are the ones I know:")
            return
        if self.inbound.shared:
            self.say(
                SHARED_NOTE,
                kind="notice",
                flow=None,
                step=None,
                meta={"continue_privately": f"flow:{flow_id}"},
            )
            return
        s = self.session
        target = self.engine.flows[flow_id]
        if s.flow == flow_id and s.mode != "done" and not s.stack:
            s.risk = s.risk or risk
            self.say(f"We're already in “{target.title}”.", kind="notice")
            self.resume()
            return
        if self.answers_at_stake():
            self.offer_to_leave(target, risk)
            return
        if s.flow:  # nothing answered yet, or finished with nothing to re-draft
            self.card_owed("Before leaving it:")
            titles = " and ".join(f"“{t}”" for t in self.titles_in_hand())
            gone = "; its answers are deleted" if s.has_answers() else ""
            self.say(f"Leaving {titles}{gone}.", kind="notice")
        s.reset()
        s.flow, s.step, s.mode = flow_id, target.start, "running"
        s.risk = risk or flow_id == SAFEGUARDING  # choosing it says there is a concern
        self.say(f"{self.flow.title}: {self.flow.description}", kind="notice")
        self.advance()

    def offer_to_leave(self, target: Flow, risk: bool) -> None:
        s = self.session
        titles = " and ".join(f"“{t}”" for t in self.titles_in_hand())
        done = s.mode == "done"
        text = (
            f"{titles} has finished, and its answers are kept for changing and re-drafting."
            if done
            else f"You are part-way through {titles}, with answers given."
        )
        if risk:
            text = (
                "What you typed suggests a child may be at risk, so "
                f"“{target.title}” comes first. {text}"
            )
        options = []
        if s.paused is None:
            text += " Keep it paused (type resume to come back to it), or discard it?"
            options.append(Option(f"Pause it and start “{target.title}”", "leave:pause"))
        else:
            paused = self.engine.flows[s.paused["flow"]].title
            text += f" “{paused}” is already paused, so it can only be discarded now."
        options += [
            Option(f"Discard it and start “{target.title}”", "leave:discard"),
            Option(f"Carry on with {titles}", "leave:stay"),
        ]
        self.ask_to_leave(f"switch:{target.id}{':risk' if risk else ''}", text, tuple(options))

    def advance(self, fast_forward: bool = False) -> None:
        """Walk the flow from the current step until it needs the user again."""
        s = self.session
        for _ in range(MAX_STEPS_PER_TURN):
            if s.step == END:
                if not self.finish_flow():
                    return
                continue
            step = self.step
            answers = s.flow_answers()
            if step.ask:
                if fast_forward and step.id in answers:
                    s.step = step.next_step(answers, self.engine.today(), self.caller)
                    s.last_cites = []  # the guidance before an answered question is behind us
                    continue
                self.ask(step)
                return
            if step.say:
                key = f"{s.flow}/{step.id}"
                if not (fast_forward and key in s.seen_says):
                    self.say(
                        self.text_of(step.say),
                        kind="guidance",
                        citations=self.engine.cite(step.cite),
                    )
                    s.seen_says.append(key)
                if step.cite:
                    s.last_cites = list(step.cite)
                s.step = step.next_step(answers, self.engine.today(), self.caller)
            elif step.call:
                back_to = step.next_step(answers, self.engine.today(), self.caller)
                if fast_forward and step.call in s.done_calls:
                    s.step = back_to
                    continue
                s.stack.append((self.flow.id, back_to))
                callee = self.engine.flows[step.call]
                self.say(
                    f"First, “{callee.title}”. When it's done we'll come back to "
                    f"“{self.flow.title}”.",
                    kind="notice",
                )
                s.flow, s.step, s.last_cites = callee.id, callee.start, []
                # a flow calls safeguarding because a possible risk to a child came up
                s.risk = s.risk or callee.id == SAFEGUARDING
            elif step.link:
                target = self.engine.flows[step.link]
                self.say(f"This is covered by “{target.title}”; continuing there.", kind="notice")
                s.stack.clear()
                s.flow, s.step, s.last_cites = target.id, target.start, []
            else:  # draft
                if not s.confirmed:
                    s.mode, s.editing = "summary", False
                    self.show_summary()
                    return
                self.render_draft(step)
                s.last_cites = list(step.cite)  # why, after the end: the draft's clauses
                s.step = step.next_step(answers, self.engine.today(), self.caller)
        self.say(
            "This protocol seems to go round in circles; please tell an administrator.",
            kind="error",
        )
        s.reset()

    def finish_flow(self) -> bool:
        """The current flow ended; True if a calling flow carries on."""
        s = self.session
        finished = self.flow
        if s.stack:
            s.done_calls.append(finished.id)
            caller, back_to = s.stack.pop()
            s.flow, s.step, s.last_cites = caller, back_to, []
            s.confirmed = False
            self.say(f"That's “{finished.title}” done. Back to “{self.flow.title}”.", kind="notice")
            return True
        s.mode, s.step = "done", END
        drafted = any(k.startswith(f"{finished.id}/draft:") for k in s.seen_says)
        if drafted:
            text = (
                f"That's the end of “{finished.title}”. Check, copy and send the drafts "
                "yourself. You can still change an answer and re-draft; type cancel to delete "
                "your answers now (they are deleted anyway after a period of inactivity)."
            )
            options = (Option("Change an answer", "draft:edit"), *self.menu_options())
        else:
            text = (
                f"That's the end of “{finished.title}”; nothing needs drafting on this path. "
                "Type cancel to delete your answers now (they are deleted anyway after a "
                "period of inactivity)."
            )
            options = self.menu_options()
        self.card_owed("Before you go:")
        self.say(text, kind="notice", flow=finished.id, step=END, options=options)
        return False

    def ask(self, step: Step, note: str = "") -> None:
        s = self.session
        s.step, s.mode = step.id, "asking"
        if step.cite:
            s.last_cites = list(step.cite)
        question = self.text_of(step.ask or "")
        if (
            step.optional
            and step.type in {"text", "date", "council"}
            and "skip" not in question.lower()
        ):
            question += " (type skip if not known)"
        text = f"{note}\n{question}" if note else question
        options = tuple(Option(c.label, f"ans:{step.id}:{c.value}") for c in step.choices())
        self.say(
            text,
            kind="question",
            options=options,
            navigation=NAVIGATION,
            citations=self.engine.cite(step.cite),
        )

    def answer(self, text: str, *, from_button: bool) -> None:
        s = self.session
        step = self.step
        checked = check_answer(
            step, text, self.engine.today(), directory=self.engine.renderer.directory
        )
        if checked.value is None:
            if (
                not from_button
                and self.engine.router.looks_like_lookup(text[:MAX_ROUTED])
                and step.type != "text"
            ):
                self.lookup(text)
                return
            s.retries += 1
            if s.retries >= MAX_TRIES:
                s.retries = 0
                choices = step.choices()
                way_out = (
                    "You can also type back, cancel, menu, or ? and a question to look "
                    "something up."
                )
                msg = f"Let's make this easier. {checked.problem}"
                if choices:  # each channel shows them as it shows options: numbers, buttons
                    msg += "\nChoose one of these:"
                self.say(
                    f"{msg}\n{way_out}",
                    kind="question",
                    options=tuple(Option(c.label, f"ans:{step.id}:{c.value}") for c in choices),
                    navigation=NAVIGATION,
                )
                return
            # check_answer says what was wrong: the question's own re-ask where it has one,
            # or the rule broken (too long, too old) where the re-ask would mislead
            self.ask(step, note=checked.problem)
            return
        s.retries = 0
        answers = s.flow_answers()
        answers[step.id] = checked.value
        if checked.note:  # e.g. a council with no directory entry: said plainly, not hidden
            self.say(checked.note, kind="notice")
        s.history.append(Mark(self.flow.id, step.id, list(s.stack)))
        s.confirmed = False
        s.mode = "running"
        s.last_cites = []  # the guidance before this question is behind us
        s.risk = s.risk or signals_risk(self.flow.id, step, checked.value)
        how = "replay" if s.editing else "next"
        if not from_button and step.type == "text" and self.rescreen([checked.value], how):
            return
        self.carry_on(how)

    def carry_on(self, how: str) -> None:
        """Go on from the answer just given: to the next step, or, after an answer changed
        from the summary ("replay") or the draft form ("redraft"), replay from the start."""
        s = self.session
        if how == "next":
            s.step = self.step.next_step(s.flow_answers(), self.engine.today(), self.caller)
            self.advance()
            return
        if how == "redraft":  # the answers were just reviewed in the form: no summary again
            s.confirmed, s.editing = True, False
        self.drop_unreachable()  # the editing flag stays on until the summary comes round
        s.step = self.flow.start
        self.advance(fast_forward=True)

    # --- the risk re-screen -----------------------------------------------------------
    def rescreen(self, typed: list[str], how: str) -> bool:
        """Typed answers outside the safeguarding flow are screened for risk words as the
        router screens a first message. True when a hit stops the flow to ask what to do."""
        s = self.session
        if s.flow == SAFEGUARDING or not any(self.engine.router.has_risk(t) for t in typed):
            return False
        s.risk = True
        if s.risk_referred or SAFEGUARDING not in self.engine.flows:
            self.say(
                "What you typed also suggests a child may be at risk. "
                + (
                    "You said the concern has already been referred; if this is a new "
                    "concern, refer it too."
                    if s.risk_referred
                    else "Make sure the concern reaches children's social care or the police."
                ),
                kind="notice",
            )
            return False
        s.risk_check = how
        self.offer_risk_check()
        return True

    def offer_risk_check(self, note: str = "") -> None:
        s = self.session
        s.mode = "risk"
        title = self.engine.flows[SAFEGUARDING].title
        lines = [note] if note else []
        lines.append(
            "What you typed suggests a child may be at risk. A concern about a child's safety "
            f"comes first: deal with it now (I'll take you through “{title}”, then bring you "
            f"back here to “{self.flow.title}” with your answers kept), or carry on if it has "
            "already been referred to children's social care or the police."
        )
        if SAFEGUARDING in s.done_calls:
            lines.append(
                f"You went through “{title}” earlier in this conversation; if this is the "
                "same concern and it has been referred, carry on."
            )
        self.say(
            "\n".join(lines),
            kind="question",
            options=(
                Option("Deal with the concern first", "risk:first"),
                Option("It's already referred: carry on", "risk:referred"),
            ),
            navigation=NAVIGATION,
        )

    def after_risk_check(self, choice: str) -> None:
        s = self.session
        if s.mode != "risk" or not s.risk_check or choice not in {"first", "referred"}:
            self.say(
                "That button is no longer valid. Here is where we are.", kind="notice", refused=True
            )
            self.resume()
            return
        how, s.risk_check, s.mode = s.risk_check, "", "running"
        if choice == "referred":
            s.risk_referred = True
            self.say("Noted: the concern has already been referred. Carrying on.", kind="notice")
            self.carry_on(how)
            return
        if how == "next":
            back_to = self.step.next_step(s.flow_answers(), self.engine.today(), self.caller)
        else:  # after an edit: come back where a replay from the start would stop
            s.editing = s.confirmed = False
            self.drop_unreachable()
            back_to = self.replay_point()
        self.call_safeguarding(back_to)

    def replay_point(self) -> str:
        """The first step a replay of the flow from its start would stop at."""
        s = self.session
        answers = s.flow_answers()
        step_id = self.flow.start
        for _ in range(MAX_STEPS_PER_TURN):
            if step_id == END:
                return step_id
            step = self.flow.step(step_id)
            seen = step.say is not None and f"{s.flow}/{step.id}" in s.seen_says
            if (step.ask and step.id in answers) or seen or step.call in s.done_calls:
                step_id = step.next_step(answers, self.engine.today(), self.caller)
                continue
            return step_id
        return self.flow.start

    def call_safeguarding(self, back_to: str) -> None:
        """Run the safeguarding flow now, then come back to ``back_to`` in the flow in hand."""
        s = self.session
        callee = self.engine.flows[SAFEGUARDING]
        # a fresh run: answers from an earlier run would leak into the new referral
        s.answers.pop(SAFEGUARDING, None)
        s.seen_says = [k for k in s.seen_says if not k.startswith(f"{SAFEGUARDING}/")]
        s.history = [m for m in s.history if m.flow != SAFEGUARDING]
        s.stack.append((self.flow.id, back_to))
        self.say(
            f"First, “{callee.title}”. When it's done we'll come back to “{self.flow.title}”, "
            "where you left off.",
            kind="notice",
        )
        s.flow, s.step, s.mode, s.last_cites = callee.id, callee.start, "running", []
        self.advance()

    def drop_unreachable(self) -> None:
        """After an edit, forget answers to questions the new answers no longer lead to.

        From a question not answered yet every branch is still possible, so answers along
        any of them are kept; the replay then asks only what is missing.
        """
        s = self.session
        answers = s.flow_answers()
        on_path: set[str] = set()
        todo = [self.flow.start]
        while todo:
            step_id = todo.pop()
            if step_id == END or step_id in on_path:
                continue
            step = self.flow.step(step_id)
            on_path.add(step.id)
            if step.link:
                continue
            undecided = step.ask is not None and step.id not in answers
            todo.extend(
                step.targets()
                if undecided
                else [step.next_step(answers, self.engine.today(), self.caller)]
            )
        for key in [k for k in answers if k not in on_path]:
            del answers[key]
        s.history = [m for m in s.history if m.flow != s.flow or m.step in answers]

    # --- summary, drafts, edits ------------------------------------------------------------
    def answered(self) -> list[tuple[Step, str]]:
        answers = self.session.flow_answers()
        return [(st, answers[st.id]) for st in self.flow.steps if st.ask and st.id in answers]

    def show_summary(self, note: str = "") -> None:
        lines = [note] if note else []
        lines.append("Before I draft anything, please check your answers:")
        for step, value in self.answered():
            lines.append(f"• {step.answer_label}: {_shown(step, value)}")
        self.say(
            "\n".join(lines),
            kind="summary",
            options=(
                Option("Yes, draft it", "draft:confirm"),
                Option("Change an answer", "draft:edit"),
            ),
            navigation=NAVIGATION,
        )

    def confirm(self) -> None:
        s = self.session
        if s.mode != "summary" or not s.flow:
            self.say("There is nothing waiting for confirmation.", kind="notice", refused=True)
            self.resume()
            return
        s.confirmed, s.mode = True, "running"
        # questions after a draft that were answered before an edit are not asked again
        self.advance(fast_forward=True)

    def choose_edit(self) -> None:
        s = self.session
        if not s.flow:
            self.resume()
            return
        options = tuple(Option(st.answer_label, f"edit:{st.id}") for st, _ in self.answered())
        self.say(
            "Which answer would you like to change?",
            kind="question",
            options=options,
            navigation=NAVIGATION,
        )

    def edit(self, step_id: str) -> None:
        s = self.session
        if not s.flow or step_id not in self.flow.asks():
            self.say("That answer can't be changed now.", kind="notice")
            self.resume()
            return
        s.editing, s.confirmed, s.risk_check = True, False, ""
        s.flow_answers().pop(step_id, None)
        s.history = [m for m in s.history if not (m.flow == s.flow and m.step == step_id)]
        self.ask(self.flow.step(step_id), note="Changing this answer.")

    def apply_edits(self, edits: Mapping[str, str]) -> None:
        s = self.session
        if not s.flow:
            self.say(
                "That conversation has ended, so the draft can't be re-rendered. "
                "Edit the text directly.",
                kind="notice",
            )
            return
        if s.mode == "risk":  # a risk that came up waits for the user's choice first
            self.offer_risk_check(note="First, please choose one of these.")
            return
        asks = self.flow.asks()
        answers = s.flow_answers()
        problems = []
        typed: list[str] = []  # changed free-text answers, to screen for risk
        for key, value in edits.items():
            if key not in asks:
                continue
            checked = check_answer(
                asks[key], value, self.engine.today(), directory=self.engine.renderer.directory
            )
            if checked.value is None:
                problems.append(f"{asks[key].answer_label}: {checked.problem}")
            else:
                changed = answers.get(key) != checked.value
                answers[key] = checked.value
                s.risk = s.risk or signals_risk(self.flow.id, asks[key], checked.value)
                if changed and asks[key].type == "text":
                    typed.append(checked.value)
        if problems:
            self.say("Some changes were not accepted:\n" + "\n".join(problems), kind="error")
        s.mode = "running"
        if typed and self.rescreen(typed, "redraft"):
            return
        # the user has just reviewed the answers in the form: re-draft without another summary
        self.carry_on("redraft")

    def render_draft(self, step: Step) -> None:
        s = self.session
        citations = self.engine.cite(step.cite)
        rendered = self.engine.renderer.render_file(
            step.draft or "", self.context({"citations": citations, "flow": self.flow.title})
        )
        if rendered.relied is not None:  # only the clauses its text rested on, given the answers
            citations = tuple(c for c in citations if c.clause_id in rendered.relied)
        text = rendered.text
        notes = reviewer_notes(text, rendered.notes, citations, case_data=rendered.case_data)
        answers = s.flow_answers()
        fields = tuple(
            DraftField(st.id, st.answer_label, answers.get(st.id, ""), st.multiline)
            for st in self.flow.steps
            if st.ask and st.type == "text" and st.id in answers
        )
        draft = Draft(step.title or "Draft", text, step.filename or f"{step.id}.txt", fields, notes)
        digest = hashlib.sha256(text.encode()).hexdigest()[:12]
        marker = f"{s.flow}/draft:{step.id}"
        if marker not in s.seen_says:
            s.seen_says.append(marker)
        if marker not in s.recent_drafts:
            s.recent_drafts.append(marker)
        self.say(
            f"{draft.title} (draft {digest}). Check it, copy it and send it yourself.",
            kind="draft",
            draft=draft,
            citations=citations,
            step=step.id,
            options=(Option("Edit the answers", "draft:edit"),),
            meta={"draft_sha": digest},
        )
