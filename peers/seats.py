"""Who this connection is in a room (participant or mentor), and taking her out of it here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chat.core.models import Staff
from chat.helpline.conversations import queue_position
from peers.errors import RoomError
from peers.rooms import MENTOR_ROLES
from peers.runtime import ROOM, SEAT, MentorSeat, RoomsRuntime, Seat

if TYPE_CHECKING:
    from chat.core.transport import Connection


@dataclass
class RoomState:
    """What the rooms keep on one connection (`connection.state(RoomState)`)."""

    # Her place in a room, while she holds one.
    seat: Seat | None = None
    # A mentor's place in the room session they run.
    mentor_seat: MentorSeat | None = None
    # The room session a mentor's connection follows (it keeps reading a room it just closed).
    mentor_stream: int | None = None


def room_state(connection: Connection) -> RoomState:
    return connection.state(RoomState)


def runtime_of(connection: Connection) -> RoomsRuntime:
    return connection.services.features.get(RoomsRuntime)


def held_seat(connection: Connection) -> Seat | None:
    """Her seat on this connection, if she holds one."""
    return room_state(connection).seat


def seat_of(connection: Connection, ref: str) -> Seat:
    seat = room_state(connection).seat
    if seat is None:
        raise RoomError("not_in_room", ref=ref)
    return seat


def mentor_of(connection: Connection, ref: str) -> tuple[Staff, MentorSeat]:
    staff = connection.staff
    if staff is None or staff.role not in MENTOR_ROLES:
        raise RoomError("forbidden", ref=ref)
    seat = room_state(connection).mentor_seat
    if seat is None:
        raise RoomError("not_in_room", "open a room first", ref=ref)
    return staff, seat


def exit_event(room_id: str, reason: str, **fields: Any) -> dict[str, Any]:
    """Told to her alone when she is out of the room, whatever took her out."""
    return {"type": "room_exit", "room": room_id, "reason": reason, **fields}


async def take_seat(connection: Connection, seat: Seat) -> None:
    runtime = runtime_of(connection)
    room_state(connection).seat = seat
    # Her own events in the room's stream (her helplines card) reach this connection.
    connection.member.identities.add(seat.sender)
    runtime.attach(runtime.participants, seat.participant_id, connection)
    await connection.services.presence.arrive(SEAT, seat.participant_id)


async def leave_seat(connection: Connection) -> Seat | None:
    """Stop this connection following the room: no more of its news reaches her."""
    state = room_state(connection)
    seat, state.seat = state.seat, None
    if seat is None:
        return None
    runtime = runtime_of(connection)
    runtime.detach(runtime.participants, seat.participant_id, connection)
    connection.member.identities.discard(seat.sender)
    await connection.leave_stream(seat.session_id)
    await connection.services.presence.leave(SEAT, seat.participant_id)
    return seat


async def follow_conversation(connection: Connection, conversation_id: int) -> None:
    """Carry on into her 1:1 chat on this same connection, told her place in the queue."""
    connection.conversation_id = conversation_id
    connection.writable = {conversation_id}
    await connection.join_stream(conversation_id, 0)
    position = await queue_position(connection.services, conversation_id)
    if position is not None:
        connection.send(position)


async def take_mentor_seat(connection: Connection, seat: MentorSeat) -> None:
    runtime = runtime_of(connection)
    room_state(connection).mentor_seat = seat
    runtime.attach(runtime.mentors, seat.session_id, connection)
    await connection.services.presence.arrive(ROOM, seat.session_id)


async def leave_mentor_seat(connection: Connection) -> MentorSeat | None:
    state = room_state(connection)
    seat, state.mentor_seat = state.mentor_seat, None
    if seat is None:
        return None
    runtime = runtime_of(connection)
    runtime.detach(runtime.mentors, seat.session_id, connection)
    await connection.services.presence.leave(ROOM, seat.session_id)
    return seat
