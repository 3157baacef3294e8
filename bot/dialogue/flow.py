"""A protocol flow as data: the steps a member of staff is walked through, each citing clauses.

Step kinds (exactly one per step):
  ask    a question; ``type`` text | yesno | choice | date | council, with validation and a
         re-ask message (a council is matched against the local authority directory;
         ``many: true`` takes several, separated by commas)
  say    guidance; ``cite`` the clauses it rests on (required unless ``plain: true``)
  call   run another flow, then come back to ``next``
  link   hand over to another flow (this one ends)
  draft  render a Jinja2 template from the answers and cited clauses
``next`` is a step id, ``end``, or a list of branches ``{if: {answer: value(s)}, then: step}``
closed by ``{else: step}``; a date answer is tested with ``"more than N days ago"``, and
``called_from: flow_id`` holds when this flow was called by that flow (so a called flow need
not ask what its caller already knows).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

END = "end"
SAFEGUARDING = "safeguarding_concern"  # the flow every possible risk to a child leads to
STEP_ID = re.compile(r"^[a-z][a-z0-9_]*$")
# a condition on a date answer: {sent_on: "more than 14 days ago"}, counted from today
DAYS_AGO = re.compile(r"^more than (\d+) days? ago$")
# a condition on the flow that called this one: {called_from: media_interest}
CALLED_FROM = "called_from"


def _as_text(value: Any) -> str:
    # YAML reads yes/no as booleans; answers are always text
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value)


class Branch(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    when: dict[str, tuple[str, ...]] | None = Field(default=None, alias="if")
    then: str | None = None
    otherwise: str | None = Field(default=None, alias="else")

    @field_validator("when", mode="before")
    @classmethod
    def _values_are_text(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {
                str(k): tuple(_as_text(x) for x in (v if isinstance(v, list) else [v]))
                for k, v in value.items()
            }
        return value

    @model_validator(mode="after")
    def _shape(self) -> Branch:
        if (self.when is None) == (self.otherwise is None):
            raise ValueError("a branch is either {if: ..., then: step} or {else: step}")
        if self.when is not None and not self.then:
            raise ValueError("an 'if' branch needs 'then: <step id>'")
        return self

    @property
    def target(self) -> str:
        return self.then if self.when is not None else self.otherwise  # type: ignore[return-value]

    def matches(
        self,
        answers: dict[str, str],
        today: dt.date | None = None,
        called_from: str | None = None,
    ) -> bool:
        if self.when is None:
            return True
        return all(
            (called_from in values)
            if key == CALLED_FROM
            else (
                answers.get(key) in values
                or any(_days_ago(value, answers.get(key), today) for value in values)
            )
            for key, values in self.when.items()
        )


def _days_ago(condition: str, answer: str | None, today: dt.date | None) -> bool:
    """Whether a date answer (ISO text) satisfies a condition like "more than 14 days ago"."""
    match = DAYS_AGO.match(condition)
    if match is None or not answer:
        return False
    try:
        when = dt.date.fromisoformat(answer)
    except ValueError:
        return False
    return ((today or dt.date.today()) - when).days > int(match.group(1))


class Choice(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    value: str
    label: str

    @field_validator("value", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str:
        return _as_text(value)


class Validation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min_length: int = 1
    max_length: int = 2000
    pattern: str | None = None
    not_future: bool = False  # dates
    not_past: bool = False
    within_days: int | None = None  # a recent date: at most this many days ago
    max_age: int | None = None  # a date of birth (or an age in years): at most this old
    needs_email: bool = False  # text that must include an email address


AskType = Literal["text", "yesno", "choice", "date", "council"]


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    ask: str | None = None
    say: str | None = None
    call: str | None = None
    link: str | None = None
    draft: str | None = None

    type: AskType = "text"
    options: tuple[Choice, ...] = ()
    validate_: Validation = Field(default_factory=Validation, alias="validate")
    reask: str | None = None
    optional: bool = False
    label: str | None = None  # short name of the answer in summaries and forms
    multiline: bool = False
    personal: bool = False  # a case detail: never echoed into a shared channel
    plain: bool = False  # a say step that states no protocol requirement (no citation needed)
    many: bool = False  # a council question that takes several councils
    # a question asking whether a child may be at risk of harm: yes/no, or a choice with a
    # "no" option; any answer but "no" ("yes", "not sure") means a risk was signalled. kb check
    # insists every path through a flow other than safeguarding passes one
    screens_risk: bool = False
    # answers to this question that mean the concern is about someone who works with children
    # (staff, a carer, a manager): the safety card on leaving then names the LADO
    implicates_worker: tuple[str, ...] = ()
    cite: tuple[str, ...] = ()
    title: str | None = None  # draft title
    filename: str | None = None  # draft file name
    next: str | tuple[Branch, ...] | None = None

    @field_validator("implicates_worker", mode="before")
    @classmethod
    def _answers_are_text(cls, value: Any) -> Any:
        return tuple(_as_text(v) for v in (value if isinstance(value, list | tuple) else [value]))

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not STEP_ID.match(value) or value in {END, CALLED_FROM}:
            raise ValueError(
                f"step id {value!r} must be lower_snake_case and not 'end' or {CALLED_FROM!r}"
            )
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> Step:
        kinds = [k for k in ("ask", "say", "call", "link", "draft") if getattr(self, k)]
        if len(kinds) != 1:
            raise ValueError(f"step {self.id!r} must have exactly one of ask/say/call/link/draft")
        if self.ask and self.type == "choice" and len(self.options) < 2:
            raise ValueError(f"step {self.id!r}: a choice needs at least two options")
        if self.options and not (self.ask and self.type == "choice"):
            raise ValueError(f"step {self.id!r}: options belong to 'ask' steps of type choice")
        if self.many and not (self.ask and self.type == "council"):
            raise ValueError(f"step {self.id!r}: 'many' belongs to 'ask' steps of type council")
        rules = self.validate_
        if rules.within_days is not None and self.type != "date":
            raise ValueError(f"step {self.id!r}: within_days belongs to date questions")
        if rules.max_age is not None and self.type not in {"date", "text"}:
            raise ValueError(f"step {self.id!r}: max_age belongs to date or text questions")
        if rules.needs_email and self.type != "text":
            raise ValueError(f"step {self.id!r}: needs_email belongs to text questions")
        if self.screens_risk and not (self.ask and "no" in {c.value for c in self.choices()}):
            raise ValueError(
                f"step {self.id!r}: screens_risk belongs to a yes/no question, or a choice "
                "with a 'no' option"
            )
        unknown = set(self.implicates_worker) - {c.value for c in self.choices()}
        if self.implicates_worker and unknown:
            raise ValueError(
                f"step {self.id!r}: implicates_worker names {sorted(unknown)}, which are not "
                "answers to this question (it belongs to a yes/no or choice question)"
            )
        if self.draft and not self.title:
            raise ValueError(f"step {self.id!r}: a draft step needs a title")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in ("ask", "say", "call", "link", "draft") if getattr(self, k))

    @property
    def answer_label(self) -> str:
        return self.label or self.id.replace("_", " ")

    def choices(self) -> tuple[Choice, ...]:
        if self.type == "yesno":
            return (Choice(value="yes", label="Yes"), Choice(value="no", label="No"))
        return self.options

    def targets(self) -> list[str]:
        if self.next is None:
            return []
        if isinstance(self.next, str):
            return [self.next]
        return [b.target for b in self.next]

    def next_step(
        self,
        answers: dict[str, str],
        today: dt.date | None = None,
        called_from: str | None = None,
    ) -> str:
        """The step after this one; ``called_from``: the flow that called this one, if any."""
        if self.next is None:
            return END
        if isinstance(self.next, str):
            return self.next
        for branch in self.next:
            if branch.matches(answers, today, called_from):
                return branch.target
        return END  # the validator insists on a closing else, so this is not reached


class Flow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str
    description: str
    triggers: tuple[str, ...] = Field(min_length=3)
    steps: tuple[Step, ...] = Field(min_length=1)
    # The flow's subject is itself a child protection case (press interest in one, say), and
    # within its first steps it asks whether the concern has been referred, running the
    # safeguarding flow if not. Risk words in a message then do not pre-empt it when the
    # message is clearly about this flow; the loader checks the early call is there.
    checks_referral_first: bool = False
    # why this flow need not ask about risk to a child on every path (kb check lists these);
    # without it every path must pass a question marked screens_risk
    risk_check_exempt: str | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not STEP_ID.match(value):
            raise ValueError(f"flow id {value!r} must be lower_snake_case")
        return value

    @property
    def start(self) -> str:
        return self.steps[0].id

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(f"{self.id}: no step {step_id!r}")

    def asks(self) -> dict[str, Step]:
        return {s.id: s for s in self.steps if s.ask}


def parse_date(text: str, today: dt.date) -> dt.date | None:
    """Dates as staff type them: 2026-11-23, 23/11/2026, 23 Nov 2026, today, yesterday."""
    text = text.strip().lower()
    if text in {"today", "now"}:
        return today
    if text == "yesterday":
        return today - dt.timedelta(days=1)
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d %b %Y", "%d %B %Y", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None
