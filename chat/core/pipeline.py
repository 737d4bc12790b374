"""The one message pipeline: every place someone writes (a 1:1 chat, a room) goes through it.

A feature describes the place (a `Place`: who writes, where, her standing there, how a message
is stored) and the pipeline does the rest in one order everywhere:

1. a resend of a message already acked is answered with its ack (`duplicate: true`), before
   any limit, from what this node remembers;
2. standing (may she write here now) and the limits, and the pure check
   (`moderation.pipeline.check`), which also assesses risk in what will be refused;
3. a refusal looks once in storage for an earlier copy (a resend from another connection is
   still a duplicate), otherwise tells her why, and when to retry if she was too fast;
4. append (the group-commit appender: no read before the write) and ack;
5. the verdict's effects, which other features register (safeguarding: flag, alert, helplines
   card, priority).

Only what was stored or held counts in her rate window, so refused attempts never lock a
retrying client out. A visitor's window is also counted for her session as a whole, across
her sockets and the nodes (`floods.MESSAGES`), so a fresh socket does not start it again.
This module imports no feature.
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from chat.core import floods
from chat.core.appender import Appended
from chat.core.protocol import ProtocolError
from moderation.limits import REASON_TOO_FAST, Limits, SenderHistory, record, retry_after
from moderation.limits import Place as PlaceKind
from moderation.loaded import Rules
from moderation.pii import redact
from moderation.pipeline import REASON_PERSONAL_DETAILS, MessageContext, Role, check, remember
from moderation.types import Action, PiiKind, RiskLevel, Verdict

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from chat.core.models import VisitorSession
    from chat.core.services import Services
    from chat.core.uow import Change

# Acks remembered per sender, enough for every message a page keeps pending across a drop.
RECENT_ACKS = 256

Reply = Callable[[dict[str, Any]], None]


@dataclass
class Sending:
    """One sender's recent past on this node: her rate history and the acks she was given."""

    history: SenderHistory = field(default_factory=SenderHistory)
    # Her last few messages, read with the next one as a situation by the risk check.
    previous: tuple[str, ...] = ()
    acked: dict[tuple[int, str], int] = field(default_factory=dict)

    def acked_seq(self, stream_id: int, client_id: str) -> int | None:
        return self.acked.get((stream_id, client_id))

    def remember(self, stream_id: int, client_id: str, seq: int) -> None:
        self.acked[(stream_id, client_id)] = seq
        while len(self.acked) > RECENT_ACKS:
            del self.acked[next(iter(self.acked))]


@dataclass(frozen=True)
class Held:
    """A message kept back: what she is told once it is committed, and the held row's id
    (None when nothing was kept: she is asked about personal details first)."""

    reply: dict[str, Any]
    held_id: int | None


@dataclass(frozen=True)
class Draft:
    client_id: str
    body: str
    # She was told the message holds personal details and chose to send it without them.
    without_details: bool = False


class Place(ABC):
    """Where one message is written, as the feature that owns the place describes it."""

    kind: PlaceKind
    services: Services
    stream_id: int
    sender: str  # the sender as the stream stores it ("visitor", "participant:17", "staff:3")
    role: Role
    language: str | None
    sending: Sending
    visitor: VisitorSession | None = None
    # Whether her rate history counts (staff keep no history: only the length limit applies).
    limited: bool = True

    @abstractmethod
    def ack(self, client_id: str, seq: int, duplicate: bool) -> dict[str, Any]:
        """The ack as this place's clients expect it."""

    def refusal(self, verdict: Verdict) -> ProtocolError | None:
        """Her standing here, if it stops this message now (muted, slow mode)."""
        return None

    def refused(self, verdict: Verdict, retry: float | None) -> ProtocolError:
        fields: dict[str, Any] = {"reason": verdict.reason}
        if retry is not None:
            fields["retry_after"] = retry
        return ProtocolError("refused", ref=self.ref, extra=fields)

    @property
    def ref(self) -> str:
        return "message"

    async def known_names(self) -> frozenset[str] | None:
        """Names shown in this place, so "@Rose" is not taken for a social-media handle
        (None: a place where nobody goes by a chosen name)."""
        return None

    @abstractmethod
    async def answered_before(self, client_id: str) -> dict[str, Any] | None:
        """What she was told when this client_id came before (a read; refusals only)."""

    @abstractmethod
    async def append(self, client_id: str, body: str) -> Appended:
        """Store the message through the appender (no read before the write)."""

    async def hold(self, client_id: str, verdict: Verdict, tx: Change) -> Held:
        """Keep it back for someone to look at first, in `tx` (places that never hold deliver
        instead)."""
        raise NotImplementedError

    def stored(self, message: dict[str, Any]) -> None:
        """The message is stored: note what standing needs (slow mode's last message)."""
        return None

    def ack_extra(self, verdict: Verdict) -> dict[str, Any]:
        return {}

    # --- what the verdict's effects need of this place (safeguarding fills them in) -----

    # The one reader her helplines card is for, or None for everyone in the stream.
    card_for: str | None = None
    # How this place's events name their stream ("conversation_id", "stream_id").
    stream_key: str = "stream_id"

    async def raise_risk(self, session: AsyncSession, level: RiskLevel) -> RiskLevel | None:
        """Record danger on the place's own row (in the open transaction); the level she had
        been shown before, or None where nothing is recorded (then nothing follows)."""
        return None

    def flag(self, concern: dict[str, Any]) -> dict[str, Any]:
        """The staff-only event stored in the stream for this concern."""
        raise NotImplementedError

    def alert(self, concern: dict[str, Any]) -> dict[str, Any]:
        """What supervisors are told of this concern."""
        raise NotImplementedError

    async def risk_noted(self) -> None:
        """After the effects committed: news the place owes (e.g. the queue's order)."""
        return None


@dataclass(frozen=True)
class Written:
    """What the verdict's effects act on: where, what was decided, and what was stored."""

    place: Place
    verdict: Verdict
    message: dict[str, Any] | None
    held_id: int | None = None
    # The unit of work to join (a held message and its effects are one commit).
    tx: Change | None = None


Effect = Callable[[Written], Awaitable[None]]


@dataclass
class MessagePipeline:
    """One per app; features register the verdict's effects at install."""

    effects: list[Effect] = field(default_factory=list)

    def on_written(self, effect: Effect) -> None:
        if effect not in self.effects:
            self.effects.append(effect)

    async def write(self, place: Place, draft: Draft, reply: Reply) -> None:
        seq = place.sending.acked_seq(place.stream_id, draft.client_id)
        if seq is not None:
            reply(place.ack(draft.client_id, seq, duplicate=True))
            return
        now = time.monotonic()
        verdict, limits = await _verdict(place, draft, now)
        refusal = (
            place.refusal(verdict)
            or _refusal(place, verdict, draft, limits, now)
            or await _session_refusal(place, verdict)
        )
        if refusal is not None:
            await self._refuse(place, draft, verdict, refusal, reply)
            return
        if verdict.action is Action.HOLD:
            await self._hold(place, draft, verdict, reply)
            if verdict.reason != REASON_PERSONAL_DETAILS:
                await _count(place, verdict, now)
            return
        appended = await place.append(draft.client_id, verdict.body)
        seq = int(appended.payload["seq"])
        place.sending.remember(place.stream_id, draft.client_id, seq)
        reply({**place.ack(draft.client_id, seq, appended.duplicate), **place.ack_extra(verdict)})
        if appended.duplicate:
            return
        await _count(place, verdict, now)
        place.stored(appended.payload)
        await self._effects(Written(place, verdict, appended.payload))

    async def _hold(self, place: Place, draft: Draft, verdict: Verdict, reply: Reply) -> None:
        """Held and its effects (the mentors alerted) are one commit; she hears after it."""
        async with place.services.change() as tx:
            held = await place.hold(draft.client_id, verdict, tx)
            await self._effects(Written(place, verdict, None, held.held_id, tx))
        reply(held.reply)

    async def _refuse(
        self, place: Place, draft: Draft, verdict: Verdict, refusal: ProtocolError, reply: Reply
    ) -> None:
        before = await place.answered_before(draft.client_id)
        if before is not None:
            if before.get("type") == "ack":
                place.sending.remember(place.stream_id, draft.client_id, int(before["seq"]))
            reply(before)
            return
        await self._effects(Written(place, verdict, None))
        refusal.extra.setdefault("client_id", draft.client_id)
        raise refusal

    async def _effects(self, written: Written) -> None:
        for effect in self.effects:
            await effect(written)


async def _verdict(place: Place, draft: Draft, now: float) -> tuple[Verdict, Limits]:
    history = place.sending.history if place.limited else SenderHistory()
    # The lexicons and word lists this app loaded from its settings (None: the shipped ones).
    rules = place.services.features.find(Rules)
    context = MessageContext(
        place.kind,
        place.role,
        place.language,
        now=now,
        history=history,
        rules=rules,
        previous=place.sending.previous if place.limited else (),
    )
    verdict = check(draft.body, context)
    if _handle_found(verdict):
        # A "@name" may be someone here: only then are the names looked up.
        names = await place.known_names()
        if names:
            context = replace(context, known_names=names)
            verdict = check(draft.body, context)
    if draft.without_details and _asks_about_details(verdict):
        # She chose to send it without the details: take them out, then look again.
        verdict = check(redact(verdict.body, verdict.pii), replace(context, pii_confirmed=True))
    return verdict, context.limits


def _asks_about_details(verdict: Verdict) -> bool:
    return verdict.action is Action.HOLD and verdict.reason == REASON_PERSONAL_DETAILS


def _handle_found(verdict: Verdict) -> bool:
    return _asks_about_details(verdict) and any(f.kind is PiiKind.HANDLE for f in verdict.pii)


def _refusal(
    place: Place, verdict: Verdict, draft: Draft, limits: Limits, now: float
) -> ProtocolError | None:
    if verdict.action is not Action.REFUSE:
        return None
    retry = None
    if verdict.reason == REASON_TOO_FAST:
        # Whole seconds, never 0: a client that waits this long is let through.
        retry = max(1, math.ceil(retry_after(draft.body, place.sending.history, limits, now)))
    return place.refused(verdict, retry)


async def _session_refusal(place: Place, verdict: Verdict) -> ProtocolError | None:
    """`too_fast` when her session as a whole is over its rate, whichever socket she uses."""
    if not place.limited or place.visitor is None:
        return None
    allowed = await place.services.throttle.check(floods.MESSAGES, str(place.visitor.id))
    if allowed.allowed:
        return None
    too_fast = replace(verdict, action=Action.REFUSE, reason=REASON_TOO_FAST)
    return place.refused(too_fast, allowed.retry_after)


async def _count(place: Place, verdict: Verdict, now: float) -> None:
    """Only what went through counts in her rate window (and her session's); called after
    her ack, so counting never delays it."""
    if not place.limited:
        return
    place.sending.history = record(place.sending.history, verdict.body, now)
    place.sending.previous = remember(place.sending.previous, verdict.body)
    if place.visitor is not None:
        await place.services.throttle.hit(floods.MESSAGES, str(place.visitor.id))
