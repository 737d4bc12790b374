"""The message pipeline: one pure function from a draft and its context to a verdict.

Stages, in order: plain text -> limits -> abuse -> personal details -> risk. Risk is worked
out for every non-empty message from a visitor or participant, whatever the other stages
decide, because staff must hear about danger even in a message that is held or refused:
the verdict then carries the assessment and the caller alerts staff from it.

A message showing high or imminent risk is never refused for being sent too fast or
repeated: a woman typing "help" three times in a row must get through.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from moderation.abuse import find_abuse
from moderation.limits import (
    LIMIT_REASONS,
    REASON_EMPTY,
    REASON_REPEATED,
    REASON_TOO_FAST,
    REASON_TOO_LONG,
    Limits,
    Place,
    SenderHistory,
    check_limits,
)
from moderation.loaded import Rules
from moderation.pii import find_pii
from moderation.risk import assess
from moderation.sanitize import plain_text
from moderation.types import NO_RISK, Action, RiskAssessment, RiskLevel, Verdict

# How many of her earlier messages the server keeps (in memory only) to read with the next.
PREVIOUS_KEPT = 3

Role = Literal["visitor", "participant", "adviser", "mentor", "supervisor", "admin"]
PLACES: tuple[Place, ...] = ("conversation", "room")
ROLES: tuple[Role, ...] = ("visitor", "participant", "adviser", "mentor", "supervisor", "admin")
STAFF_ROLES = frozenset({"adviser", "mentor", "supervisor", "admin"})

REASON_HELD_FOR_MENTOR = "held_for_mentor"
REASON_PERSONAL_DETAILS = "personal_details"
# Every reason a verdict can carry; each needs an entry in every language catalogue.
REASON_CODES: tuple[str, ...] = (*LIMIT_REASONS, REASON_HELD_FOR_MENTOR, REASON_PERSONAL_DETAILS)

_WAIVED_WHEN_AT_RISK = frozenset({REASON_TOO_FAST, REASON_REPEATED})
# Risk phrases sit anywhere in a message, but an over-long one is only read this far.
_RISK_SCAN_FACTOR = 2
# Far beyond the limit even if much of it were hidden characters: cleaning megabytes just
# to refuse them would stall the event loop.
_HOPELESS_FACTOR = 8

DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class MessageContext:
    """Who sent the message, where, and what the pipeline needs to know about them.

    `pii_confirmed` is true when she has already been asked about personal details in this
    message and chose to send it anyway (or without them). `known_names` are the
    pseudonyms shown in the room, so "@Rose" is not mistaken for a social-media handle.
    `previous` are her last few messages, oldest first, read with this one as a situation
    ("I've saved them up" ... "tonight").
    """

    place: Place
    sender_role: Role
    language: str | None
    now: float
    history: SenderHistory = field(default_factory=SenderHistory)
    # One shared instance: Limits is frozen, and validating a new one per message cost more
    # than the limits themselves.
    limits: Limits = DEFAULT_LIMITS
    pii_confirmed: bool = False
    known_names: frozenset[str] = frozenset()
    previous: tuple[str, ...] = ()
    # The app's loaded rules (its settings' extra lexicons and word lists); the shipped ones
    # when None.
    rules: Rules | None = None

    def __post_init__(self) -> None:
        if self.place not in PLACES:
            raise ValueError(f"MessageContext.place must be one of {PLACES}, not {self.place!r}")
        if self.sender_role not in ROLES:
            raise ValueError(
                f"MessageContext.sender_role must be one of {ROLES}, not {self.sender_role!r}"
            )

    @property
    def from_staff(self) -> bool:
        return self.sender_role in STAFF_ROLES


def remember(previous: tuple[str, ...], body: str) -> tuple[str, ...]:
    """Her last few messages with this one added, for `MessageContext.previous`."""
    return (*previous, body)[-PREVIOUS_KEPT:] if body else previous


def check(text: str, ctx: MessageContext) -> Verdict:
    """What to do with one message: deliver, deliver and flag, hold, or refuse (and why)."""
    max_length = ctx.limits.max_length(ctx.place)
    if len(text) > _HOPELESS_FACTOR * max_length:
        head = plain_text(text[: _RISK_SCAN_FACTOR * max_length])
        return Verdict(Action.REFUSE, body="", reason=REASON_TOO_LONG, risk=_risk(head, ctx))
    body = plain_text(text)
    reason = check_limits(body, ctx.history, ctx.limits, ctx.now, ctx.place)
    risk = _risk(body, ctx) if reason != REASON_EMPTY else NO_RISK
    if reason in _WAIVED_WHEN_AT_RISK and risk.level.rank >= RiskLevel.HIGH.rank:
        reason = None
    if reason is not None:
        return Verdict(Action.REFUSE, body="", reason=reason, risk=risk)
    if ctx.from_staff:
        return Verdict(Action.DELIVER, body)
    return _check_sender_content(body, ctx, risk)


def _risk(body: str, ctx: MessageContext) -> RiskAssessment:
    if ctx.from_staff:
        return NO_RISK
    if not body:
        return NO_RISK
    limit = _RISK_SCAN_FACTOR * ctx.limits.max_length(ctx.place)
    previous = tuple(p[:limit] for p in ctx.previous)
    if ctx.rules is not None:
        return ctx.rules.detector.assess(body[:limit], ctx.language, previous)
    return assess(body[:limit], ctx.language, previous)


def _check_sender_content(body: str, ctx: MessageContext, risk: RiskAssessment) -> Verdict:
    abuse = find_abuse(body, ctx.language, ctx.rules.wordlists if ctx.rules else None)
    # In a room others would read a full name, so it is asked about; 1:1 the adviser needs it.
    pii = find_pii(body, allowed_handles=ctx.known_names, names=ctx.place == "room")
    if ctx.place == "room":
        # Others in the room would read it at once, so the mentor looks first.
        if abuse:
            return Verdict(Action.HOLD, body, REASON_HELD_FOR_MENTOR, risk, pii, abuse)
        if pii and not ctx.pii_confirmed:
            return Verdict(Action.HOLD, body, REASON_PERSONAL_DETAILS, risk, pii, abuse)
        action = Action.FLAG if risk.flagged else Action.DELIVER
        return Verdict(action, body, None, risk, pii, abuse)
    # One to one, the adviser is the only reader: deliver, and warn the adviser.
    flagged = risk.flagged or bool(abuse) or bool(pii)
    return Verdict(Action.FLAG if flagged else Action.DELIVER, body, None, risk, pii, abuse)
