"""Room seats and mentors on the one presence mechanism (chat/core/presence.py).

- A participant's seat (`seat`, her participant id) is held while a socket of hers holds it,
  on any node. Past `room_participant_grace_seconds` with none (her socket closed, or its node
  died), she has left the room ("timeout"), and her seat is free.
- A room's mentors (`room`, the room session id): the session's `mentors_present` is set,
  after every change, to the mentor sockets that live nodes hold in it, so a mentor who
  reconnects after her node died is counted once, and a dead node's mentors stop counting when
  its lease lapses. With no mentor, participants' messages are refused (peers/messages.py), and
  past `room_mentor_grace_seconds` the room closes.
"""

from __future__ import annotations

from datetime import datetime

from peers import rooms
from peers.models import RoomParticipant, RoomSession
from peers.runtime import ROOM, SEAT, RoomsRuntime


def install(runtime: RoomsRuntime) -> None:
    presence = runtime.services.presence
    tuning = runtime.tuning

    async def seat_expired(participant_id: int, _since: datetime) -> bool:
        async with runtime.services.db.read() as db:
            participant = await db.get(RoomParticipant, participant_id)
        if participant is not None and participant.left_at is None:
            await rooms.leave_room(runtime, participant_id, "timeout")
        return True

    async def room_expired(session_id: int, _since: datetime) -> bool:
        async with runtime.services.db.read() as db:
            room_session = await db.get(RoomSession, session_id)
        if room_session is not None and room_session.status == "open":
            await rooms.close_room(runtime, session_id, "system", "no mentor in the room")
        return True

    async def mentors_changed(session_id: int) -> None:
        await rooms.mentors_changed(runtime, session_id)

    presence.track(SEAT, lambda: tuning.participant_grace_seconds, seat_expired)
    presence.track(ROOM, lambda: tuning.mentor_grace_seconds, room_expired, changed=mentors_changed)
