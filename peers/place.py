"""A room as the message pipeline sees it (chat/core/pipeline.py): a participant's seat, or
a mentor's.

Her standing (mute, slow mode) is read from her seat, never from the database, so a room
message makes no read before its write.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chat.core import streams
from chat.core.appender import Appended
from chat.core.channels import staff_sender
from chat.core.clock import now
from chat.core.pipeline import Held, Place, Sending
from chat.core.protocol import ProtocolError
from chat.core.uow import Change
from moderation.pipeline import REASON_PERSONAL_DETAILS
from moderation.types import RiskLevel, Verdict
from peers import messages, rooms
from peers.errors import RoomError
from peers.models import RoomHeldMessage, RoomParticipant
from peers.rooms import aware, iso
from peers.runtime import RoomsRuntime, Seat

if TYPE_CHECKING:
    from chat.core.models import Staff
    from chat.core.transport import Connection

REF = "room_message"


def _ack(stream_id: int, client_id: str, seq: int, duplicate: bool) -> dict[str, Any]:
    return {
        "type": "ack",
        "stream_id": stream_id,
        "client_id": client_id,
        "seq": seq,
        "duplicate": duplicate,
    }


def held_event(client_id: str, reason: str, kinds: list[str] | None = None) -> dict[str, Any]:
    return {"type": "held", "client_id": client_id, "reason": reason, "kinds": kinds or []}


class _InRoom(Place):
    kind = "room"
    runtime: RoomsRuntime

    @property
    def ref(self) -> str:
        return REF

    def ack(self, client_id: str, seq: int, duplicate: bool) -> dict[str, Any]:
        return _ack(self.stream_id, client_id, seq, duplicate)

    def refused(self, verdict: Verdict, retry: float | None) -> ProtocolError:
        fields: dict[str, Any] = {"reason": verdict.reason}
        if retry is not None:
            fields["retry_after"] = retry
        return RoomError("refused", ref=REF, **fields)

    async def _stored(self, client_id: str) -> dict[str, Any] | None:
        async with self.runtime.services.db.read() as db:
            return await streams.find_by_client_id(db, self.stream_id, self.sender, client_id)

    async def answered_before(self, client_id: str) -> dict[str, Any] | None:
        stored = await self._stored(client_id)
        return None if stored is None else self.ack(client_id, int(stored["seq"]), True)

    async def _post(
        self, client_id: str, body: str, participant_id: int | None, name: str
    ) -> Appended:
        return await messages.post(
            self.runtime,
            self.stream_id,
            sender=self.sender,
            client_id=client_id,
            body=body,
            participant_id=participant_id,
            name=name,
            role=self.role,
        )


class RoomPlace(_InRoom):
    """A participant writes in the room she holds a seat in."""

    role = "participant"

    def __init__(self, connection: Connection, runtime: RoomsRuntime, seat: Seat) -> None:
        self.runtime = runtime
        self.services = runtime.services
        self.seat = seat
        self.stream_id = seat.session_id
        self.sender = seat.sender
        self.sending = seat.sending
        self.visitor = connection.visitor
        self.language = runtime.catalogue[seat.room_id].languages[0]
        self.card_for = seat.sender

    def refusal(self, verdict: Verdict) -> ProtocolError | None:
        at = now()
        until = aware(self.seat.muted_until)
        if until is not None and until > at:
            return RoomError("muted", ref=REF, until=iso(until))
        slow, last = self.seat.slow_mode_seconds, aware(self.seat.last_message_at)
        # Slow mode never stops a woman in danger from being heard.
        if slow > 0 and last is not None and not _at_high_risk(verdict):
            wait = slow - (at - last).total_seconds()
            if wait > 0:
                return RoomError("slow_mode", ref=REF, retry_after=math.ceil(wait))
        return None

    async def known_names(self) -> frozenset[str] | None:
        async with self.runtime.services.db.read() as db:
            return frozenset(await rooms.present_names(db, self.stream_id))

    async def answered_before(self, client_id: str) -> dict[str, Any] | None:
        before = await super().answered_before(client_id)
        if before is not None:
            return before
        async with self.runtime.services.db.read() as db:
            held = await db.scalar(
                select(RoomHeldMessage).where(
                    RoomHeldMessage.participant_id == self.seat.participant_id,
                    RoomHeldMessage.client_id == client_id,
                )
            )
        return None if held is None else held_event(client_id, held.reason)

    async def append(self, client_id: str, body: str) -> Appended:
        seat = self.seat
        return await self._post(client_id, body, seat.participant_id, seat.pseudonym)

    def stored(self, message: dict[str, Any]) -> None:
        self.seat.last_message_at = now()

    async def hold(self, client_id: str, verdict: Verdict, tx: Change) -> Held:
        if verdict.reason == REASON_PERSONAL_DETAILS:
            # Nothing is kept: she is asked whether to send it without the details.
            kinds = sorted({finding.kind.value for finding in verdict.pii})
            return Held(held_event(client_id, REASON_PERSONAL_DETAILS, kinds), None)
        seat = self.seat
        held = await messages.hold(
            self.runtime,
            seat.session_id,
            seat.participant_id,
            seat.pseudonym,
            client_id,
            verdict,
            tx,
        )
        if held.status == "released":
            # A resend of a message the mentor has let through since: its ack.
            stored = await streams.find_by_client_id(
                tx.session, self.stream_id, self.sender, client_id
            )
            if stored is not None:
                return Held(self.ack(client_id, int(stored["seq"]), True), None)
        return Held(held_event(client_id, held.reason), held.id)

    async def raise_risk(self, session: AsyncSession, level: RiskLevel) -> RiskLevel | None:
        participant = await session.get(RoomParticipant, self.seat.participant_id)
        if participant is None:
            return None
        shown = RiskLevel(participant.risk_level)
        if level.rank > shown.rank:
            participant.risk_level = level.value
        return shown

    def _fields(self, concern: dict[str, Any]) -> dict[str, Any]:
        risk_keys = ("level", "categories", "stance", "phrases", "pii", "abuse")
        return {
            "participant": self.seat.participant_id,
            "name": self.seat.pseudonym,
            "message_seq": concern["message_seq"],
            "held_id": concern["held_id"],
            "risk": {key: concern[key] for key in risk_keys},
            # The same step-by-step guidance an adviser gets for each category.
            "guidance": concern["guidance"],
            "at": concern["at"],
        }

    def flag(self, concern: dict[str, Any]) -> dict[str, Any]:
        return {"type": "room_alert", "stream_id": self.stream_id, **self._fields(concern)}

    def alert(self, concern: dict[str, Any]) -> dict[str, Any]:
        room = self.runtime.catalogue.get(self.seat.room_id)
        return {
            "type": "room_alert",
            "room": self.seat.room_id,
            "room_name": room.name if room else self.seat.room_id,
            "session_id": self.stream_id,
            **self._fields(concern),
        }


class MentorPlace(_InRoom):
    """A mentor writes to the room she holds: only the length limit applies, as for any staff."""

    role = "mentor"
    limited = False

    def __init__(
        self, connection: Connection, runtime: RoomsRuntime, staff: Staff, session_id: int
    ) -> None:
        self.runtime = runtime
        self.services = runtime.services
        self.staff = staff
        self.stream_id = session_id
        self.sender = staff_sender(staff.id)
        self.sending = connection.state(Sending)
        self.language = None

    async def append(self, client_id: str, body: str) -> Appended:
        return await self._post(client_id, body, None, self.staff.display_name)


def _at_high_risk(verdict: Verdict) -> bool:
    return verdict.risk.level.rank >= RiskLevel.HIGH.rank
