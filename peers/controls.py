"""A mentor's controls over people and the room, and what participants tell the mentor.

Every mentor action is one unit of work (chat/core/uow.py): the change, its room events and
its audit entry (who, what, when and why) commit together, and the room hears only after.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from chat.core.clock import now
from chat.core.models import Conversation, Event, VisitorSession
from chat.core.protocol import ProtocolError
from chat.core.uow import Change
from chat.helpline.continuity import carry_from_room
from chat.helpline.conversations import request_chat
from moderation.safeguarding.reports import ReportError, close_report, file_report, open_reports
from moderation.types import RiskLevel
from peers.errors import RoomError
from peers.messages import is_room_message
from peers.models import RoomHeldMessage, RoomParticipant, RoomSession
from peers.rooms import (
    aware,
    iso,
    leave_room,
    participant_sender,
    pins_of,
    room_event,
    subject,
)
from peers.runtime import CONTROL_CHANNEL, RoomsRuntime

PRIORITY_MOVED = 1
PRIORITY_URGENT = 2


async def _participant_in(
    runtime: RoomsRuntime, session_id: int, participant_id: int, ref: str
) -> RoomParticipant:
    async with runtime.services.db.read() as db:
        participant = await db.get(RoomParticipant, participant_id)
    if participant is None or participant.session_id != session_id:
        raise RoomError("not_found", "no such participant in this room", ref=ref)
    return participant


async def _present_in(
    runtime: RoomsRuntime, session_id: int, participant_id: int, ref: str
) -> RoomParticipant:
    participant = await _participant_in(runtime, session_id, participant_id, ref)
    if participant.left_at is not None:
        raise RoomError("not_found", "she is no longer in the room", ref=ref)
    return participant


# --- mute -------------------------------------------------------------------------------------


async def mute(
    runtime: RoomsRuntime,
    actor: str,
    session_id: int,
    participant_id: int,
    minutes: int | None,
    reason: str,
) -> RoomParticipant:
    """Pause her messages for `minutes` (None lifts a mute)."""
    await _present_in(runtime, session_id, participant_id, "room_mute")
    until = now() + timedelta(minutes=minutes) if minutes else None
    async with runtime.services.change() as tx:
        participant = await tx.session.get(RoomParticipant, participant_id)
        assert participant is not None
        participant.muted_until = until
        await room_event(
            tx,
            session_id,
            "room_participant",
            {
                "participant": participant.id,
                "name": participant.pseudonym,
                "status": "muted" if until else "unmuted",
                "muted_until": iso(until),
            },
            staff_only=True,
        )
        tx.audit(
            actor,
            "room.mute" if until else "room.unmute",
            subject(session_id),
            reason,
            {"participant": participant.id, "name": participant.pseudonym, "minutes": minutes},
        )
    return participant


def muted_until(participant: RoomParticipant, at: datetime) -> datetime | None:
    until = aware(participant.muted_until)
    return until if until is not None and until > at else None


# --- remove, ban, move to an adviser --------------------------------------------------------


async def remove(
    runtime: RoomsRuntime,
    actor: str,
    session_id: int,
    participant_id: int,
    reason: str,
    ban_minutes: int | None = None,
) -> RoomParticipant:
    """She leaves the session and may not come back to it (for `ban_minutes`, to the room)."""
    participant = await _present_in(
        runtime, session_id, participant_id, "room_ban" if ban_minutes else "room_remove"
    )
    async with runtime.services.change() as tx:
        left = await leave_room(
            runtime, participant.id, "banned" if ban_minutes else "removed", tx=tx
        )
        if left is None:
            raise RoomError("not_found", "she is no longer in the room", ref="room_remove")
        tx.audit(
            actor,
            "room.ban" if ban_minutes else "room.remove",
            subject(session_id),
            reason,
            {"participant": participant.id, "name": participant.pseudonym, "minutes": ban_minutes},
        )
    return left


async def visitor_of(runtime: RoomsRuntime, participant: RoomParticipant) -> VisitorSession:
    async with runtime.services.db.read() as db:
        visitor = await db.get(VisitorSession, participant.visitor_id)
    if visitor is None or visitor.ended_at is not None:
        raise RoomError("not_found", "her session has ended", ref="room_invite_adviser")
    return visitor


async def to_adviser(
    runtime: RoomsRuntime,
    actor: str,
    session_id: int,
    participant_id: int,
    note: str,
    urgent: bool,
) -> Conversation:
    """She leaves the room for the adviser queue, ahead of others, with a note for the adviser.

    The room sees only that she left. One commit: the conversation, her leaving and the audit
    entry are stored together, or nothing is.
    """
    ref = "room_invite_adviser" if actor.startswith("staff:") else "room_to_adviser"
    participant = await _present_in(runtime, session_id, participant_id, ref)
    visitor = await visitor_of(runtime, participant)
    at_risk = RiskLevel(participant.risk_level).rank >= RiskLevel.HIGH.rank
    priority = PRIORITY_URGENT if urgent or at_risk else PRIORITY_MOVED
    async with runtime.services.change() as tx:
        conversation = await _queue_her(runtime, visitor, priority, note, ref, tx)
        card = await _her_room_card(tx, participant)
        await carry_from_room(tx, conversation, participant.risk_level, card)
        if await leave_room(runtime, participant.id, "moved", tx=tx) is None:
            raise RoomError("not_found", "she is no longer in the room", ref=ref)
        tx.audit(
            actor,
            "room.to_adviser",
            subject(session_id),
            note,
            {
                "participant": participant.id,
                "name": participant.pseudonym,
                "conversation": conversation.id,
                "priority": priority,
            },
        )
    return conversation


async def _her_room_card(tx: Change, participant: RoomParticipant) -> dict[str, Any] | None:
    """The newest helplines card she was shown in the room (stored for her alone)."""
    found = await tx.session.execute(
        select(Event.payload)
        .where(
            Event.stream_id == participant.session_id,
            Event.type == "helplines",
            Event.sender == participant_sender(participant.id),
        )
        .order_by(Event.seq.desc())
        .limit(1)
    )
    payload = found.scalar_one_or_none()
    return dict(payload) if payload is not None else None


async def _queue_her(
    runtime: RoomsRuntime,
    visitor: VisitorSession,
    priority: int,
    note: str,
    ref: str,
    tx: Change,
) -> Conversation:
    try:
        return await request_chat(runtime.services, visitor, priority=priority, note=note, tx=tx)
    except ProtocolError as exc:
        if exc.code != "already_waiting":
            raise
        raise RoomError(
            "already_waiting", "she is already waiting for or talking with an adviser", ref=ref
        ) from None


# --- the room's settings -----------------------------------------------------------------------


async def change_settings(
    runtime: RoomsRuntime,
    actor: str,
    session_id: int,
    *,
    locked: bool | None = None,
    slow_mode_seconds: int | None = None,
    reason: str = "",
) -> RoomSession:
    async with runtime.services.change() as tx:
        room_session = await tx.session.get(RoomSession, session_id)
        if room_session is None or room_session.status != "open":
            raise RoomError("not_in_room")
        changes: dict[str, Any] = {}
        if locked is not None:
            room_session.locked = locked
            changes["locked"] = locked
        if slow_mode_seconds is not None:
            room_session.slow_mode_seconds = slow_mode_seconds
            changes["slow_mode_seconds"] = slow_mode_seconds
            # Announced first, so every node's seats in the room hold it before the room
            # hears of it (news goes out in the order collected).
            tx.announce(
                CONTROL_CHANNEL,
                {"op": "slow_mode", "session": session_id, "seconds": slow_mode_seconds},
            )
        await room_event(tx, session_id, "room_settings", settings_view(room_session))
        action = (
            "room.lock" if locked else "room.unlock" if locked is not None else "room.slow_mode"
        )
        tx.audit(actor, action, subject(session_id), reason, changes)
    return room_session


def settings_view(room_session: RoomSession) -> dict[str, Any]:
    return {"locked": room_session.locked, "slow_mode_seconds": room_session.slow_mode_seconds}


# --- what participants tell the mentor ----------------------------------------------------------


async def knows_someone(runtime: RoomsRuntime, session_id: int, participant_id: int) -> None:
    """Her private flag: only the room's mentors hear it."""
    async with runtime.services.change() as tx:
        participant = await tx.session.get(RoomParticipant, participant_id)
        if participant is None or participant.left_at is not None:
            raise RoomError("not_in_room", ref="room_know_someone")
        participant.knows_someone = True
        await room_event(
            tx,
            session_id,
            "room_known",
            {"participant": participant.id, "name": participant.pseudonym, "at": iso(now())},
            staff_only=True,
        )


async def report(
    runtime: RoomsRuntime,
    room_id: str,
    session_id: int,
    reporter: str,
    seq: int,
    reason: str,
) -> int:
    """File a report of a message in the room; it waits in the mentors' report queue."""
    if not await is_room_message(runtime, session_id, seq):
        raise RoomError("not_found", "no such message in this room", ref="room_report")
    async with runtime.services.change() as tx:
        filed = await file_report(
            runtime.services, reporter, "room", room_id, session_id, seq, reason, tx
        )
        await room_event(tx, session_id, "room_report_filed", report_view(filed), staff_only=True)
    return filed.id


def report_view(filed: Any) -> dict[str, Any]:
    return {
        "report_id": filed.id,
        "message_seq": filed.seq,
        "reason": filed.reason,
        "at": iso(filed.at),
    }


async def close_room_report(
    runtime: RoomsRuntime, actor: str, session_id: int, report_id: int, outcome: str
) -> None:
    """The mentor deals with a report; close_report writes the audit entry."""
    waiting = await open_reports(runtime.services, place="room")
    if not any(r.id == report_id and r.stream_id == session_id for r in waiting):
        raise RoomError("not_found", "no such open report in this room", ref="room_report_close")
    async with runtime.services.change() as tx:
        try:
            await close_report(runtime.services, report_id, actor, outcome, tx)
        except ReportError as exc:
            raise RoomError("not_found", str(exc), ref="room_report_close") from None
        await room_event(
            tx,
            session_id,
            "room_report_closed",
            {"report_id": report_id, "outcome": outcome},
            staff_only=True,
        )


# --- what a mentor sees on arrival -------------------------------------------------------------


async def mentor_state(runtime: RoomsRuntime, session_id: int) -> dict[str, Any]:
    """The room as a mentor needs it: who is here, what waits for her, what is pinned."""
    async with runtime.services.db.read() as db:
        room_session = await db.get(RoomSession, session_id)
        assert room_session is not None
        people = list(
            await db.scalars(
                select(RoomParticipant)
                .where(RoomParticipant.session_id == session_id, RoomParticipant.left_at.is_(None))
                .order_by(RoomParticipant.id)
            )
        )
        held = list(
            await db.scalars(
                select(RoomHeldMessage)
                .where(RoomHeldMessage.session_id == session_id, RoomHeldMessage.status == "held")
                .order_by(RoomHeldMessage.id)
            )
        )
        pins = await pins_of(db, session_id)
    names = {p.id: p.pseudonym for p in people}
    reports = [
        report_view(r)
        for r in await open_reports(runtime.services, place="room", place_id=room_session.room_id)
        if r.stream_id == session_id
    ]
    room = runtime.catalogue[room_session.room_id]
    return {
        "type": "room_state",
        "room": room.id,
        "name": room.name,
        "direction": room.direction,
        "stream_id": session_id,
        "opened_at": iso(room_session.opened_at),
        **settings_view(room_session),
        "capacity": room.capacity,
        "participants": [participant_view(p) for p in people],
        "held": [
            {
                "held_id": h.id,
                "participant": h.participant_id,
                "name": names.get(h.participant_id),
                "client_id": h.client_id,
                "body": h.body,
                "reason": h.reason,
                "risk": h.risk,
                "at": iso(h.held_at),
            }
            for h in held
        ],
        "reports": reports,
        "pins": pins,
    }


def participant_view(participant: RoomParticipant) -> dict[str, Any]:
    return {
        "participant": participant.id,
        "name": participant.pseudonym,
        "joined_at": iso(participant.joined_at),
        "muted_until": iso(participant.muted_until),
        "knows_someone": participant.knows_someone,
        "risk_level": participant.risk_level,
    }
