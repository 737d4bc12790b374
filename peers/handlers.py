"""A participant's room events on the websocket: join, talk, rename, flag, report, leave.

Registered with chat.core.transport at start (`register`); the mentor's events are in
peers/mentor_handlers.py, news between nodes in peers/control.py.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from chat.core import floods
from chat.core.clock import now
from chat.core.connections import CLOSE_SESSION_ENDED
from chat.core.events import ConnectionClosed
from chat.core.models import VisitorSession
from chat.core.pipeline import Draft
from chat.core.sockets import SocketRoutes
from peers import controls, mentor_handlers, rooms
from peers.control import handle_control
from peers.errors import RoomError
from peers.events import (
    RoomJoin,
    RoomKnowSomeone,
    RoomLeave,
    RoomMessage,
    RoomRename,
    RoomReport,
    RoomToAdviser,
)
from peers.place import RoomPlace
from peers.rooms import aware, iso, participant_sender, session_ban_key
from peers.runtime import RoomsRuntime, Seat
from peers.seats import (
    exit_event,
    follow_conversation,
    leave_mentor_seat,
    leave_seat,
    room_state,
    runtime_of,
    seat_of,
    take_seat,
)

if TYPE_CHECKING:
    from chat.core.transport import Connection


def _visitor(connection: Connection, ref: str) -> VisitorSession:
    if connection.visitor is None:
        raise RoomError("forbidden", "rooms are joined from the visitor page", ref=ref)
    return connection.visitor


async def _address_hashes(connection: Connection, runtime: RoomsRuntime) -> tuple[str, ...]:
    """Keyed hashes of her address, made now; the address itself goes no further.

    Only when the deployment opted in, and only an address a trusted proxy forwarded: a
    proxy's own address, or one anyone could be behind, would ban everyone with her.
    """
    if runtime.services.settings.room_ban_network_seconds <= 0:
        return ()
    address = connection.address()
    if address is None or not address.forwarded:
        return ()
    return await runtime.hasher.hashes(address.address)


async def join(connection: Connection, event: RoomJoin) -> None:
    visitor = _visitor(connection, "room_join")
    if not event.accept_rules:
        raise RoomError("rules_not_accepted", ref="room_join")
    address = connection.address()
    per_address = connection.services.settings.joins_per_address_per_hour
    await floods.require(
        connection.services,
        "room_join",
        [
            (floods.ROOM_JOINS, str(visitor.id)),
            (
                floods.per_address("room-join-address", per_address),
                address.address if address is not None else None,
            ),
        ],
    )
    runtime = runtime_of(connection)
    await runtime.listen()
    room = rooms.room_of(runtime, event.room)
    current = room_state(connection).seat
    leaving = current if current is not None and current.room_id != room.id else None
    hashes = await _address_hashes(connection, runtime)
    if await runtime.bans.is_banned(room.id, [session_ban_key(visitor.token_hash), *hashes]):
        raise RoomError("banned", ref="room_join")
    attach_id = secrets.token_hex(8)
    # Leaving the room she is in and taking the new seat are one commit: a join that fails
    # keeps her where she was.
    joined = await rooms.join_room(
        runtime,
        visitor.id,
        room.id,
        attach_id,
        address.address if address else None,
        leaving=leaving.participant_id if leaving is not None else None,
    )
    if leaving is not None:
        await leave_seat(connection)
        connection.send(exit_event(leaving.room_id, "left"))
    participant, room_session = joined.participant, joined.session
    seat = Seat(
        room_session.id,
        room.id,
        participant.id,
        attach_id,
        participant.pseudonym,
        hashes,
        muted_until=aware(participant.muted_until),
        slow_mode_seconds=room_session.slow_mode_seconds,
        last_message_at=aware(participant.last_message_at),
    )
    await take_seat(connection, seat)
    if joined.returning:
        # An older connection of hers (another tab, a dead phone socket) gives up the place.
        await runtime.tell(
            {
                "op": "detach",
                "participant": participant.id,
                "keep": attach_id,
                "event": exit_event(room.id, "replaced"),
            }
        )
    connection.send(
        {
            "type": "room_welcome",
            "room": room.id,
            "room_name": room.name,
            "direction": room.direction,
            "languages": list(room.languages),
            "rules": list(room.ground_rules),
            "stream_id": room_session.id,
            "participant": participant.id,
            "pseudonym": participant.pseudonym,
            "first_seq": participant.first_seq,
            "locked": room_session.locked,
            "slow_mode_seconds": room_session.slow_mode_seconds,
            "muted_until": iso(controls.muted_until(participant, now())),
            "present": joined.present,
            "pins": joined.pins,
            "returning": joined.returning,
        }
    )
    # She reads from her arrival on, never what the room said before she came.
    await connection.join_stream(room_session.id, max(event.last_seq, participant.first_seq - 1))


async def _leave(connection: Connection, seat: Seat, reason: str) -> None:
    runtime = runtime_of(connection)
    await rooms.leave_room(runtime, seat.participant_id, reason)
    await leave_seat(connection)
    connection.send(exit_event(seat.room_id, reason))


async def leave(connection: Connection, _event: RoomLeave) -> None:
    await _leave(connection, seat_of(connection, "room_leave"), "left")


async def message(connection: Connection, event: RoomMessage) -> None:
    if connection.staff is not None:
        await mentor_handlers.message(connection, event)
        return
    seat = seat_of(connection, "room_message")
    await connection.services.messages.write(
        RoomPlace(connection, runtime_of(connection), seat),
        Draft(event.client_id, event.body, event.without_details),
        connection.send,
    )


async def rename(connection: Connection, event: RoomRename) -> None:
    seat = seat_of(connection, "room_rename")
    participant = await rooms.rename(runtime_of(connection), seat.participant_id, event.pseudonym)
    seat.pseudonym = participant.pseudonym


async def know_someone(connection: Connection, _event: RoomKnowSomeone) -> None:
    seat = seat_of(connection, "room_know_someone")
    await controls.knows_someone(runtime_of(connection), seat.session_id, seat.participant_id)
    connection.send({"type": "room_know_someone_ok", "room": seat.room_id})


async def report(connection: Connection, event: RoomReport) -> None:
    seat = seat_of(connection, "room_report")
    await controls.report(
        runtime_of(connection),
        seat.room_id,
        seat.session_id,
        participant_sender(seat.participant_id),
        event.seq,
        event.reason,
    )
    connection.send({"type": "room_reported", "room": seat.room_id, "message_seq": event.seq})


async def to_adviser(connection: Connection, _event: RoomToAdviser) -> None:
    seat = seat_of(connection, "room_to_adviser")
    runtime = runtime_of(connection)
    room = runtime.catalogue[seat.room_id]
    conversation = await controls.to_adviser(
        runtime,
        participant_sender(seat.participant_id),
        seat.session_id,
        seat.participant_id,
        f"Came from the room “{room.name}” and asked to talk one to one.",
        urgent=False,
    )
    await leave_seat(connection)
    connection.send(exit_event(seat.room_id, "moved", conversation_id=conversation.id))
    await follow_conversation(connection, conversation.id)


async def connection_closed(event: ConnectionClosed) -> None:
    """Her connection is gone: keep her place a moment, unless her session ended (then the
    place goes now); a mentor's room closes if no mentor comes back in time."""
    connection = event.connection
    runtime = connection.services.features.find(RoomsRuntime)
    if runtime is None:
        return
    seat = await leave_seat(connection)
    if seat is not None:
        if connection.closing is not None and connection.closing[0] == CLOSE_SESSION_ENDED:
            await rooms.leave_room(runtime, seat.participant_id, "left", attach_id=seat.attach_id)
        else:
            # A quick exit that lands after the drop is heard as VisitorLeft (peers/lifecycle.py).
            await rooms.connection_dropped(runtime, seat.participant_id, seat.attach_id)
    # Her room's mentors are recounted by presence, which closes it if none is back in time.
    await leave_mentor_seat(connection)


def register(routes: SocketRoutes) -> None:
    """Hand the room events to the app's socket routes."""
    routes.handle(RoomJoin, join)
    routes.handle(RoomLeave, leave)
    routes.handle(RoomMessage, message)
    routes.handle(RoomRename, rename)
    routes.handle(RoomKnowSomeone, know_someone)
    routes.handle(RoomReport, report)
    routes.handle(RoomToAdviser, to_adviser)
    mentor_handlers.register(routes)


__all__ = ["handle_control", "register"]
