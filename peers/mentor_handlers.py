"""A mentor's room events on the websocket: open and close, talk, and every control."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from chat.core.channels import staff_sender
from chat.core.models import VisitorSession
from chat.core.pipeline import Draft
from chat.core.sockets import SocketRoutes
from peers import controls, messages, rooms
from peers.errors import RoomError
from peers.events import (
    RoomBan,
    RoomClose,
    RoomDiscard,
    RoomHide,
    RoomInviteAdviser,
    RoomLock,
    RoomMessage,
    RoomMute,
    RoomOpen,
    RoomPin,
    RoomRelease,
    RoomRemove,
    RoomReportClose,
    RoomSlowMode,
    RoomUnmute,
    RoomUnpin,
)
from peers.place import MentorPlace
from peers.rooms import iso, session_ban_key
from peers.runtime import MentorSeat, RoomsRuntime
from peers.seats import (
    exit_event,
    leave_mentor_seat,
    mentor_of,
    room_state,
    runtime_of,
    take_mentor_seat,
)

if TYPE_CHECKING:
    from chat.core.transport import Connection


async def open_room(connection: Connection, event: RoomOpen) -> None:
    staff = connection.staff
    if staff is None or staff.role not in rooms.MENTOR_ROLES:
        raise RoomError("forbidden", "only mentors and supervisors open rooms", ref="room_open")
    runtime = runtime_of(connection)
    await runtime.listen()
    state = room_state(connection)
    current = state.mentor_seat
    staying = current is not None and current.room_id == event.room
    if current is not None and staying and await _still_open(runtime, current):
        connection.send(await controls.mentor_state(runtime, current.session_id))
        return
    # The room opens (or she joins it) in one commit before she lets go of the one she held,
    # so an open that fails leaves her mentoring where she was. Letting go is presence's:
    # the old room's mentors are recounted, and it closes if none is back within the grace.
    opened = await rooms.open_room(runtime, staff.id, event.room)
    if current is not None:
        await leave_mentor_seat(connection)
    # One room at a time: stop following the room this connection had before.
    followed, state.mentor_stream = state.mentor_stream, None
    if followed is not None and followed != opened.session.id:
        await connection.leave_stream(followed)
    seat = MentorSeat(opened.session.id, event.room)
    await take_mentor_seat(connection, seat)
    state.mentor_stream = seat.session_id
    connection.send(await controls.mentor_state(runtime, seat.session_id))
    await connection.join_stream(seat.session_id, event.last_seq)


async def _still_open(runtime: RoomsRuntime, seat: MentorSeat) -> bool:
    async with runtime.services.db.read() as db:
        room_session = await rooms.open_session_of(db, seat.room_id)
    return room_session is not None and room_session.id == seat.session_id


@dataclass(frozen=True)
class _Acting:
    """A mentor acting in the room she holds: who she is for the audit log, and where."""

    actor: str
    session_id: int
    room_id: str
    runtime: RoomsRuntime


def _acting(connection: Connection, ref: str) -> _Acting:
    staff, seat = mentor_of(connection, ref)
    return _Acting(staff_sender(staff.id), seat.session_id, seat.room_id, runtime_of(connection))


async def _tell_her(runtime: RoomsRuntime, participant_id: int, event: dict[str, object]) -> None:
    await runtime.tell({"op": "send", "participant": participant_id, "event": event})


async def _detach(
    runtime: RoomsRuntime, participant_id: int, event: dict[str, object], **extra: object
) -> None:
    """Whichever node holds her connection takes her out of the room and tells her why."""
    await runtime.tell({"op": "detach", "participant": participant_id, "event": event, **extra})


async def close_room(connection: Connection, event: RoomClose) -> None:
    me = _acting(connection, "room_close")
    await rooms.close_room(me.runtime, me.session_id, me.actor, event.reason)


async def message(connection: Connection, event: RoomMessage) -> None:
    """A mentor writes to the room: only the limits apply, as for any staff message."""
    staff, seat = mentor_of(connection, "room_message")
    await connection.services.messages.write(
        MentorPlace(connection, runtime_of(connection), staff, seat.session_id),
        Draft(event.client_id, event.body),
        connection.send,
    )


async def _standing(
    runtime: RoomsRuntime, participant_id: int, muted_until: str | None, event: dict[str, object]
) -> None:
    """Her seat, on whichever node holds it, takes the mute before she is told of it."""
    await runtime.tell(
        {"op": "mute", "participant": participant_id, "muted_until": muted_until, "event": event}
    )


async def mute(connection: Connection, event: RoomMute) -> None:
    me = _acting(connection, "room_mute")
    participant = await controls.mute(
        me.runtime, me.actor, me.session_id, event.participant, event.minutes, event.reason
    )
    until = iso(participant.muted_until)
    await _standing(
        me.runtime,
        participant.id,
        until,
        {"type": "room_muted", "room": me.room_id, "until": until},
    )


async def unmute(connection: Connection, event: RoomUnmute) -> None:
    me = _acting(connection, "room_unmute")
    participant = await controls.mute(
        me.runtime, me.actor, me.session_id, event.participant, None, event.reason
    )
    await _standing(me.runtime, participant.id, None, {"type": "room_unmuted", "room": me.room_id})


async def remove(connection: Connection, event: RoomRemove) -> None:
    me = _acting(connection, "room_remove")
    participant = await controls.remove(
        me.runtime, me.actor, me.session_id, event.participant, event.reason
    )
    await _detach(me.runtime, participant.id, exit_event(me.room_id, "removed"))


async def ban(connection: Connection, event: RoomBan) -> None:
    """Remove her and keep her session out of the room; her network too, briefly, if opted in."""
    me = _acting(connection, "room_ban")
    participant = await controls.remove(
        me.runtime,
        me.actor,
        me.session_id,
        event.participant,
        event.reason,
        ban_minutes=event.minutes,
    )
    seconds = event.minutes * 60
    async with me.runtime.services.db.read() as db:
        token_hash = await db.scalar(
            select(VisitorSession.token_hash).where(VisitorSession.id == participant.visitor_id)
        )
    if token_hash is not None:
        await me.runtime.bans.ban(me.room_id, [session_ban_key(token_hash)], seconds)
    # The node holding her connection adds her address hashes (if any were made) to the ban,
    # for the deployment's short network window only: others share her network.
    network_seconds = min(seconds, me.runtime.services.settings.room_ban_network_seconds)
    await _detach(
        me.runtime, participant.id, exit_event(me.room_id, "banned"), ban_seconds=network_seconds
    )


async def hide(connection: Connection, event: RoomHide) -> None:
    me = _acting(connection, "room_hide")
    await messages.hide(me.runtime, me.actor, me.session_id, event.seq, event.reason)


async def slow_mode(connection: Connection, event: RoomSlowMode) -> None:
    me = _acting(connection, "room_slow_mode")
    await controls.change_settings(
        me.runtime, me.actor, me.session_id, slow_mode_seconds=event.seconds, reason=event.reason
    )


async def lock(connection: Connection, event: RoomLock) -> None:
    me = _acting(connection, "room_lock")
    await controls.change_settings(
        me.runtime, me.actor, me.session_id, locked=event.locked, reason=event.reason
    )


async def pin(connection: Connection, event: RoomPin) -> None:
    me = _acting(connection, "room_pin")
    await messages.pin(me.runtime, me.actor, me.session_id, event.seq)


async def unpin(connection: Connection, event: RoomUnpin) -> None:
    me = _acting(connection, "room_unpin")
    await messages.unpin(me.runtime, me.actor, me.session_id, event.seq)


async def release(connection: Connection, event: RoomRelease) -> None:
    me = _acting(connection, "room_release")
    decided = await messages.release(me.runtime, me.actor, me.session_id, event.held_id)
    await _tell_her(
        me.runtime,
        decided.participant_id,
        {
            "type": "room_released",
            "room": me.room_id,
            "client_id": decided.client_id,
            "message_seq": decided.seq,
        },
    )


async def discard(connection: Connection, event: RoomDiscard) -> None:
    me = _acting(connection, "room_discard")
    decided = await messages.discard(
        me.runtime, me.actor, me.session_id, event.held_id, event.reason
    )
    await _tell_her(
        me.runtime,
        decided.participant_id,
        {"type": "room_discarded", "room": me.room_id, "client_id": decided.client_id},
    )


async def invite_adviser(connection: Connection, event: RoomInviteAdviser) -> None:
    me = _acting(connection, "room_invite_adviser")
    conversation = await controls.to_adviser(
        me.runtime, me.actor, me.session_id, event.participant, event.note, event.urgent
    )
    await _detach(
        me.runtime,
        event.participant,
        exit_event(me.room_id, "moved", conversation_id=conversation.id),
        conversation_id=conversation.id,
    )


async def close_report(connection: Connection, event: RoomReportClose) -> None:
    me = _acting(connection, "room_report_close")
    await controls.close_room_report(
        me.runtime, me.actor, me.session_id, event.report_id, event.outcome
    )


def register(routes: SocketRoutes) -> None:
    routes.handle(RoomOpen, open_room)
    routes.handle(RoomClose, close_room)
    routes.handle(RoomMute, mute)
    routes.handle(RoomUnmute, unmute)
    routes.handle(RoomRemove, remove)
    routes.handle(RoomBan, ban)
    routes.handle(RoomHide, hide)
    routes.handle(RoomSlowMode, slow_mode)
    routes.handle(RoomLock, lock)
    routes.handle(RoomPin, pin)
    routes.handle(RoomUnpin, unpin)
    routes.handle(RoomRelease, release)
    routes.handle(RoomDiscard, discard)
    routes.handle(RoomInviteAdviser, invite_adviser)
    routes.handle(RoomReportClose, close_report)
