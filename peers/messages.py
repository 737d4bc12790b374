"""Messages in a room: store and publish, hold for the mentor, and the mentor's say over
messages (release, discard, hide, pin). What danger in a message sets off is safeguarding's
(moderation/safeguarding/actions.py), as everywhere she writes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chat.core import streams
from chat.core.appender import Appended, Touch
from chat.core.clock import now
from chat.core.models import Event, Stream
from chat.core.uow import Change
from moderation.alerts import risk_summary
from moderation.types import Verdict
from peers.errors import RoomError
from peers.models import RoomHeldMessage, RoomParticipant, RoomPin, RoomSession
from peers.rooms import iso, participant_sender, room_event, subject
from peers.runtime import RoomsRuntime

# Messages go into a room session only while it is open (correlated to streams.id).
# Open, and a mentor is in it (peers/presence.py keeps `mentors_present` exact across nodes).
ROOM_OPEN = exists().where(
    RoomSession.id == Stream.id, RoomSession.status == "open", RoomSession.mentors_present > 0
)
# When she last wrote (slow mode); stored with her message, in the same batch.
_WROTE = (
    update(RoomParticipant)
    .where(RoomParticipant.id == bindparam("participant"))
    .values(last_message_at=bindparam("at", type_=RoomParticipant.__table__.c.last_message_at.type))
)


async def post(
    runtime: RoomsRuntime,
    session_id: int,
    *,
    sender: str,
    client_id: str,
    body: str,
    participant_id: int | None,
    name: str,
    role: str,
) -> Appended:
    """Store a message in the room and publish it; a repeated client_id changes nothing.

    Her standing (present, not muted) is on her seat; the appender's guard checks that the
    session is still open when the message is stored.
    """
    at = now()
    payload = {
        "type": "room_message",
        "stream_id": session_id,
        "client_id": client_id,
        "sender": role,
        "participant": participant_id,
        "name": name,
        "body": body,
        "at": iso(at),
    }
    touch = None
    if participant_id is not None:
        touch = Touch(_WROTE, {"participant": participant_id, "at": at})
    try:
        return await runtime.services.appender.append(
            session_id, payload, sender=sender, client_id=client_id, guard=ROOM_OPEN, touch=touch
        )
    except streams.StreamClosed:
        raise RoomError("not_in_room", ref="room_message") from None


async def hold(
    runtime: RoomsRuntime,
    session_id: int,
    participant_id: int,
    name: str,
    client_id: str,
    verdict: Verdict,
    tx: Change | None = None,
) -> RoomHeldMessage:
    """Keep the message back for the mentor to release or discard; mentors are told at once.

    A resend returns the row kept the first time, whatever the mentor has done with it since.
    """
    async with runtime.services.change(tx) as tx:
        db = tx.session
        existing = await db.scalar(
            select(RoomHeldMessage).where(
                RoomHeldMessage.participant_id == participant_id,
                RoomHeldMessage.client_id == client_id,
            )
        )
        if existing is not None:
            return existing
        held = RoomHeldMessage(
            session_id=session_id,
            participant_id=participant_id,
            client_id=client_id,
            body=verdict.body,
            reason=verdict.reason or "held_for_mentor",
            risk=risk_summary(verdict),
            status="held",
            held_at=now(),
        )
        db.add(held)
        await db.flush()
        await room_event(tx, session_id, "room_held", held_view(held, name), staff_only=True)
    return held


def held_view(held: RoomHeldMessage, name: str) -> dict[str, Any]:
    return {
        "held_id": held.id,
        "participant": held.participant_id,
        "name": name,
        "client_id": held.client_id,
        "body": held.body,
        "reason": held.reason,
        "risk": held.risk,
        "at": iso(held.held_at),
    }


# --- the mentor's say over messages -----------------------------------------------------------


async def _held_in(db: AsyncSession, session_id: int, held_id: int, ref: str) -> RoomHeldMessage:
    held = await db.get(RoomHeldMessage, held_id)
    if held is None or held.session_id != session_id:
        raise RoomError("not_found", "no such held message in this room", ref=ref)
    if held.status != "held":
        raise RoomError("not_found", "that message has already been dealt with", ref=ref)
    return held


@dataclass(frozen=True)
class Decided:
    participant_id: int
    client_id: str
    seq: int | None


async def release(runtime: RoomsRuntime, actor: str, session_id: int, held_id: int) -> Decided:
    """The mentor lets a held message into the room, as if it had gone straight through."""
    async with runtime.services.change() as tx:
        held = await _held_in(tx.session, session_id, held_id, "room_release")
        participant = await tx.session.get(RoomParticipant, held.participant_id)
        assert participant is not None
        message = await room_event(
            tx,
            session_id,
            "room_message",
            {
                "client_id": held.client_id,
                "sender": "participant",
                "participant": participant.id,
                "name": participant.pseudonym,
                "body": held.body,
                "at": iso(now()),
            },
            sender=participant_sender(participant.id),
            client_id=held.client_id,
        )
        held.status, held.body, held.decided_at, held.decided_by = "released", "", now(), actor
        await room_event(
            tx,
            session_id,
            "room_held_decided",
            {"held_id": held.id, "decision": "released", "message_seq": message["seq"]},
            staff_only=True,
        )
        tx.audit(actor, "room.release", subject(session_id), details={"held_id": held.id})
    return Decided(held.participant_id, held.client_id, int(message["seq"]))


async def discard(
    runtime: RoomsRuntime, actor: str, session_id: int, held_id: int, reason: str
) -> Decided:
    async with runtime.services.change() as tx:
        held = await _held_in(tx.session, session_id, held_id, "room_discard")
        held.status, held.body, held.decided_at, held.decided_by = "discarded", "", now(), actor
        await room_event(
            tx,
            session_id,
            "room_held_decided",
            {"held_id": held.id, "decision": "discarded", "message_seq": None},
            staff_only=True,
        )
        tx.audit(actor, "room.discard", subject(session_id), reason, {"held_id": held.id})
    return Decided(held.participant_id, held.client_id, None)


async def _message_event(db: AsyncSession, session_id: int, seq: int, ref: str) -> Event:
    event = await db.scalar(
        select(Event).where(
            Event.stream_id == session_id, Event.seq == seq, Event.type == "room_message"
        )
    )
    if event is None:
        raise RoomError("not_found", "no such message in this room", ref=ref)
    return event


async def hide(runtime: RoomsRuntime, actor: str, session_id: int, seq: int, reason: str) -> None:
    """Take a message out of the room: its text is removed from storage too, so a resume
    never brings it back."""
    async with runtime.services.change() as tx:
        db = tx.session
        event = await _message_event(db, session_id, seq, "room_hide")
        payload = dict(event.payload)
        participant = payload.get("participant")
        payload.update(body="", hidden=True)
        event.payload = payload
        pin = await db.scalar(
            select(RoomPin).where(RoomPin.session_id == session_id, RoomPin.seq == seq)
        )
        if pin is not None:
            await db.delete(pin)
            await room_event(tx, session_id, "room_unpinned", {"message_seq": seq})
        await room_event(tx, session_id, "room_hidden", {"message_seq": seq})
        tx.audit(
            actor,
            "room.hide",
            subject(session_id),
            reason,
            {"message_seq": seq, "participant": participant},
        )


async def pin(runtime: RoomsRuntime, actor: str, session_id: int, seq: int) -> None:
    async with runtime.services.change() as tx:
        db = tx.session
        event = await _message_event(db, session_id, seq, "room_pin")
        if event.payload.get("hidden"):
            raise RoomError("not_found", "a hidden message cannot be pinned", ref="room_pin")
        pins = await db.scalar(
            select(func.count()).select_from(RoomPin).where(RoomPin.session_id == session_id)
        )
        already = await db.scalar(
            select(RoomPin.id).where(RoomPin.session_id == session_id, RoomPin.seq == seq)
        )
        if already is not None:
            return
        if (pins or 0) >= runtime.tuning.max_pins:
            raise RoomError(
                "invalid",
                f"at most {runtime.tuning.max_pins} messages can be pinned; unpin one first",
                ref="room_pin",
            )
        db.add(RoomPin(session_id=session_id, seq=seq, pinned_by=actor, pinned_at=now()))
        await room_event(
            tx,
            session_id,
            "room_pinned",
            {
                "message_seq": seq,
                "name": event.payload.get("name"),
                "body": event.payload.get("body", ""),
            },
        )
        tx.audit(actor, "room.pin", subject(session_id), details={"message_seq": seq})


async def unpin(runtime: RoomsRuntime, actor: str, session_id: int, seq: int) -> None:
    async with runtime.services.change() as tx:
        db = tx.session
        pinned = await db.scalar(
            select(RoomPin).where(RoomPin.session_id == session_id, RoomPin.seq == seq)
        )
        if pinned is None:
            raise RoomError("not_found", "that message is not pinned", ref="room_unpin")
        await db.delete(pinned)
        await room_event(tx, session_id, "room_unpinned", {"message_seq": seq})
        tx.audit(actor, "room.unpin", subject(session_id), details={"message_seq": seq})


async def is_room_message(runtime: RoomsRuntime, session_id: int, seq: int) -> bool:
    async with runtime.services.db.read() as db:
        found = await db.scalar(
            select(Event.id).where(
                Event.stream_id == session_id,
                Event.seq == seq,
                Event.type == "room_message",
                Event.audience == "all",
            )
        )
    return found is not None
