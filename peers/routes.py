"""HTTP for rooms: the list a woman chooses from. It says what is open now, what opens next
and how busy each room is, never who is in it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import func, select

from chat.core.clock import now
from chat.core.services import Services
from peers.catalogue import Room
from peers.models import RoomParticipant, RoomSession
from peers.rooms import abandoned, close_if_abandoned, iso, opening_times
from peers.runtime import RoomsRuntime

router = APIRouter(prefix="/api/rooms", tags=["rooms"])

# Below this many people a room just says "quiet", so nobody can tell one person from three.
QUIET_BELOW = 5


def busy_band(present: int, capacity: int) -> str:
    """How busy a room is, in words rather than a head count."""
    if present >= capacity:
        return "full"
    if present < QUIET_BELOW:
        return "quiet"
    return "some" if present * 2 < capacity else "busy"


async def open_sessions(runtime: RoomsRuntime) -> dict[str, tuple[RoomSession, int]]:
    """Each open room's session and how many are in it, in one query."""
    present = (
        select(RoomParticipant.session_id, func.count().label("present"))
        .where(RoomParticipant.left_at.is_(None))
        .group_by(RoomParticipant.session_id)
        .subquery()
    )
    async with runtime.services.db.read() as db:
        rows = await db.execute(
            select(RoomSession, func.coalesce(present.c.present, 0))
            .outerjoin(present, present.c.session_id == RoomSession.id)
            .where(RoomSession.status == "open")
        )
        return {room_session.room_id: (room_session, int(count)) for room_session, count in rows}


def room_entry(
    runtime: RoomsRuntime, room: Room, found: tuple[RoomSession, int] | None, at: datetime
) -> dict[str, Any]:
    times = opening_times(runtime, room.id, at)
    is_open = found is not None
    return {
        "id": room.id,
        "name": room.name,
        "description": room.description,
        "audience": room.audience,
        "languages": list(room.languages),
        "direction": room.direction,
        "focus": room.focus.value,
        "rules": list(room.ground_rules),
        "open": is_open,
        "locked": found[0].locked if found else False,
        "busy": busy_band(found[1], room.capacity) if found else None,
        "opened_at": iso(found[0].opened_at) if found else None,
        # While closed: when it opens next (or, inside a published session that no mentor
        # has opened yet, when that session started).
        "opens_at": None if is_open else times["opens_at"],
        "scheduled_until": times["scheduled_until"],
    }


@router.get("")
async def list_rooms(request: Request) -> dict[str, Any]:
    services: Services = request.app.state.services
    runtime = services.features.get(RoomsRuntime)
    at = now()
    sessions = await open_sessions(runtime)
    for room_id, (room_session, _count) in list(sessions.items()):
        if abandoned(room_session, runtime.tuning.mentor_grace_seconds, at):
            await close_if_abandoned(runtime, room_session.id)
            del sessions[room_id]
    return {
        "at": iso(at),
        "timezone": str(runtime.schedule.timezone),
        "rooms": [
            room_entry(runtime, room, sessions.get(room.id), at) for room in runtime.catalogue
        ],
    }
