"""Who this connection is in a room (participant or mentor), and taking her out of it here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chat.core.models import Staff
from chat.helpline.conversations import queue_position
from peers.errors import RoomError
from peers.rooms import MENTOR_ROLES
from peers.runtime import MentorSeat, RoomsRuntime, Seat

if TYPE_CHECKING:
    from chat.core.transport import Connection

SEAT = "room_seat"
MENTOR_SEAT = "room_mentor_seat"
# The room session a mentor's connection follows (it keeps reading a room it just closed).
MENTOR_STREAM = "room_mentor_stream"


def runtime_of(connection: Connection) -> RoomsRuntime:
    runtime: RoomsRuntime = connection.websocket.app.state.rooms
    return runtime


def held_seat(connection: Connection) -> Seat | None:
    """Her seat on this connection, if she holds one."""
    seat = connection.extras.get(SEAT)
    return seat if isinstance(seat, Seat) else None


def seat_of(connection: Connection, ref: str) -> Seat:
    seat = connection.extras.get(SEAT)
    if not isinstance(seat, Seat):
        raise RoomError("not_in_room", ref=ref)
    return seat


def mentor_of(connection: Connection, ref: str) -> tuple[Staff, MentorSeat]:
    staff = connection.staff
    if staff is None or staff.role not in MENTOR_ROLES:
        raise RoomError("forbidden", ref=ref)
    seat = connection.extras.get(MENTOR_SEAT)
    if not isinstance(seat, MentorSeat):
        raise RoomError("not_in_room", "open a room first", ref=ref)
    return staff, seat


def exit_event(room_id: str, reason: str, **fields: Any) -> dict[str, Any]:
    """Told to her alone when she is out of the room, whatever took her out."""
    return {"type": "room_exit", "room": room_id, "reason": reason, **fields}


async def take_seat(connection: Connection, seat: Seat) -> None:
    runtime = runtime_of(connection)
    connection.extras[SEAT] = seat
    # Her own events in the room's stream (her helplines card) reach this connection.
    connection.member.identities.add(seat.sender)
    runtime.attach(runtime.participants, seat.participant_id, connection)


async def leave_seat(connection: Connection) -> Seat | None:
    """Stop this connection following the room: no more of its news reaches her."""
    seat = connection.extras.pop(SEAT, None)
    if not isinstance(seat, Seat):
        return None
    runtime = runtime_of(connection)
    runtime.detach(runtime.participants, seat.participant_id, connection)
    connection.member.identities.discard(seat.sender)
    await connection.leave_stream(seat.session_id)
    return seat


async def follow_conversation(connection: Connection, conversation_id: int) -> None:
    """Carry on into her 1:1 chat on this same connection, told her place in the queue."""
    connection.conversation_id = conversation_id
    connection.writable = {conversation_id}
    await connection.join_stream(conversation_id, 0)
    position = await queue_position(connection.services, conversation_id)
    if position is not None:
        connection.send(position)


def take_mentor_seat(connection: Connection, seat: MentorSeat) -> None:
    runtime = runtime_of(connection)
    connection.extras[MENTOR_SEAT] = seat
    runtime.attach(runtime.mentors, seat.session_id, connection)


def leave_mentor_seat(connection: Connection) -> MentorSeat | None:
    seat = connection.extras.pop(MENTOR_SEAT, None)
    if not isinstance(seat, MentorSeat):
        return None
    runtime = runtime_of(connection)
    runtime.detach(runtime.mentors, seat.session_id, connection)
    return seat
