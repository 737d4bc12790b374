"""News between nodes about single people: tell her something, or take her out of the room.

A mentor on one node acts on a woman connected to another; the action is decided and
committed where the mentor is, and this tells the node that holds her connection. Every
node receives each message and acts only on the connections it holds.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from peers.models import RoomParticipant, RoomSession
from peers.rooms import aware
from peers.runtime import RoomsRuntime, Seat
from peers.seats import (
    exit_event,
    follow_conversation,
    held_seat,
    leave_mentor_seat,
    leave_seat,
    room_state,
)

if TYPE_CHECKING:
    from chat.core.transport import Connection

log = logging.getLogger("willow.peers")


def apply_standing(runtime: RoomsRuntime, message: dict[str, Any]) -> bool:
    """A mute, unmute or slow mode reaches the seats this node holds, then she hears of it."""
    op = message.get("op")
    if op == "mute":
        until = message.get("muted_until")
        for connection in _hers(runtime, message):
            seat = held_seat(connection)
            if seat is not None:
                seat.muted_until = datetime.fromisoformat(until) if until else None
            connection.send(message["event"])
        return True
    if op == "slow_mode":
        for seat in _seats_in(runtime, int(message["session"])):
            seat.slow_mode_seconds = int(message["seconds"])
        return True
    return False


def _seats_in(runtime: RoomsRuntime, session_id: int | None = None) -> list[Seat]:
    """The seats this node holds (in one room session, if given)."""
    seats = []
    for connections in runtime.participants.values():
        for connection in connections.values():
            seat = held_seat(connection)
            if seat is not None and session_id in (None, seat.session_id):
                seats.append(seat)
    return seats


async def refresh_standing(runtime: RoomsRuntime) -> None:
    """Control news may have been lost (the broker was away): every seat here reads its
    standing again from the database, which is the truth."""
    seats = _seats_in(runtime)
    if not seats:
        return
    async with runtime.services.db.read() as db:
        muted = dict(
            (
                await db.execute(
                    select(RoomParticipant.id, RoomParticipant.muted_until).where(
                        RoomParticipant.id.in_({s.participant_id for s in seats})
                    )
                )
            ).all()
        )
        slow = dict(
            (
                await db.execute(
                    select(RoomSession.id, RoomSession.slow_mode_seconds).where(
                        RoomSession.id.in_({s.session_id for s in seats})
                    )
                )
            ).all()
        )
    for seat in seats:
        seat.muted_until = aware(muted.get(seat.participant_id))
        seat.slow_mode_seconds = slow.get(seat.session_id, seat.slow_mode_seconds)


async def handle_control(runtime: RoomsRuntime, message: dict[str, Any]) -> None:
    op = message.get("op")
    if op == "send":
        for connection in _hers(runtime, message):
            connection.send(message["event"])
    elif op == "detach":
        for connection in _hers(runtime, message):
            await _detach(runtime, connection, message)
    elif op == "close":
        await _close(runtime, int(message["session"]))
    else:
        log.warning("ignored an unknown control message")


def _hers(runtime: RoomsRuntime, message: dict[str, Any]) -> list[Connection]:
    participant = message.get("participant")
    if not isinstance(participant, int):
        return []
    return runtime.held(runtime.participants, participant)


async def _detach(runtime: RoomsRuntime, connection: Connection, message: dict[str, Any]) -> None:
    seat = room_state(connection).seat
    if seat is None or seat.attach_id == message.get("keep"):
        return
    ban_seconds = message.get("ban_seconds")
    if isinstance(ban_seconds, int) and ban_seconds > 0 and seat.address_hashes:
        await runtime.bans.ban(seat.room_id, seat.address_hashes, ban_seconds)
    await leave_seat(connection)
    event = message.get("event")
    if isinstance(event, dict):
        connection.send(event)
    conversation_id = message.get("conversation_id")
    if isinstance(conversation_id, int):
        # She goes on to the adviser queue on this same connection and session.
        await follow_conversation(connection, conversation_id)


async def _close(runtime: RoomsRuntime, session_id: int) -> None:
    for connections in list(runtime.participants.values()):
        for connection in list(connections.values()):
            seat = room_state(connection).seat
            if seat is not None and seat.session_id == session_id:
                await leave_seat(connection)
                connection.send(exit_event(seat.room_id, "closed"))
    # Mentors keep reading the closed session's stream; they no longer hold a seat in it.
    for connection in runtime.held(runtime.mentors, session_id):
        if room_state(connection).mentor_seat is not None:
            await leave_mentor_seat(connection)
