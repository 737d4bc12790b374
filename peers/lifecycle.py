"""What the rooms do when a session ends elsewhere: her places in rooms are given up at once.

Her sockets close on every node through the core's lifecycle subscriber; this gives up her
places once, on the node where the session ended, instead of each node polling the database.
"""

from __future__ import annotations

from sqlalchemy import select

from chat.core.events import EventBus, VisitorLeft
from peers import rooms
from peers.models import RoomParticipant
from peers.runtime import RoomsRuntime


def subscribe(runtime: RoomsRuntime, bus: EventBus) -> None:
    # `forget` ends her session (VisitorLeft) before deleting it, so this runs for it too.
    async def visitor_left(event: VisitorLeft) -> None:
        await leave_every_room(runtime, event.visitor_id)

    bus.on_origin(VisitorLeft, visitor_left)


async def leave_every_room(runtime: RoomsRuntime, visitor_id: int) -> None:
    async with runtime.services.db.read() as db:
        places = (
            await db.scalars(
                select(RoomParticipant.id).where(
                    RoomParticipant.visitor_id == visitor_id, RoomParticipant.left_at.is_(None)
                )
            )
        ).all()
    for participant_id in places:
        await rooms.leave_room(runtime, participant_id, "left")
