"""What presence (chat/core/presence.py) means for the 1:1 helpline.

- She is "here" while a socket of hers is open on any node, and for `visitor_grace_seconds`
  after. A wait nobody is behind leaves the queue when that grace ends (queue news follows).
- In a chat, the adviser is told at once when she goes offline and when she is back
  (`visitor_presence`, staff only, stored in the conversation so a reload shows it); after
  `chat_grace_seconds` away the chat ends as "she left" (`ended`, by `left`), which frees the
  adviser. Coming back within the grace keeps her place in the queue or her chat.
- An adviser is available only while a socket of hers is open: `staff_grace_seconds` after
  her last socket closed, she is no longer available, and a woman who came back to her and
  waits for her is asked at once whether another adviser will do (chat/helpline/returning.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update

from chat.core import clock
from chat.core.events import ConnectionClosed
from chat.core.models import Staff
from chat.core.presence import STAFF, VISITOR
from chat.core.services import Services
from chat.core.transport import Connection
from chat.helpline import board, returning
from chat.helpline import conversations as conv

# How the chat ends when she did not come back within the grace.
ENDED_LEFT = "left"


@dataclass
class _Held:
    """What this connection counts towards: (kind, subject), once hello said who it is."""

    key: tuple[str, int] | None = None


def install(services: Services) -> None:
    settings = services.settings
    presence = services.presence

    async def visitor_away(visitor_id: int) -> None:
        await _tell_adviser(services, visitor_id, here=False)

    async def visitor_back(visitor_id: int) -> None:
        await _tell_adviser(services, visitor_id, here=True)

    async def visitor_expired(visitor_id: int, since: datetime) -> bool:
        return await _visitor_gone(services, visitor_id, since)

    async def staff_expired(staff_id: int, _since: datetime) -> bool:
        await _adviser_gone(services, staff_id)
        return True

    presence.track(
        VISITOR,
        settings.visitor_grace_seconds,
        visitor_expired,
        away=visitor_away,
        back=visitor_back,
    )

    async def staff_changed(staff_id: int) -> None:
        # Her last socket closed, or her node died: the supervisors' board says so at once.
        board.note(services, staff={staff_id})

    presence.track(
        STAFF, settings.staff_grace_seconds, staff_expired, away=staff_changed, back=staff_changed
    )
    services.sockets.on_hello(_arrived)
    services.events.on(ConnectionClosed, _closed)


def _subject(connection: Connection) -> tuple[str, int] | None:
    if connection.visitor is not None:
        return VISITOR, connection.visitor.id
    if connection.staff is not None:
        return STAFF, connection.staff.id
    return None


async def _arrived(connection: Connection, _resume: dict[int, int]) -> None:
    key = _subject(connection)
    if key is None:
        return
    connection.state(_Held).key = key
    await connection.services.presence.arrive(*key)
    if key[0] == STAFF:
        board.note(connection.services, staff={key[1]})


async def _closed(event: ConnectionClosed) -> None:
    connection = event.connection
    held = connection.state(_Held)
    if held.key is None:
        return
    key, held.key = held.key, None
    await connection.services.presence.leave(*key)
    if key[0] == STAFF:
        board.note(connection.services, staff={key[1]})


async def _tell_adviser(services: Services, visitor_id: int, here: bool) -> None:
    """In an active chat, a staff-only event in her conversation: offline, or back."""
    async with services.change() as tx:
        conversation = await conv.newest_conversation(tx.session, visitor_id)
        if conversation is None or conversation.status != "active":
            return
        payload: dict[str, Any] = {
            "type": "visitor_presence",
            "conversation_id": conversation.id,
            "here": here,
            "at": clock.now().isoformat(),
        }
        await tx.append(conversation.id, payload, staff_only=True)


async def _visitor_gone(services: Services, visitor_id: int, since: datetime) -> bool:
    """Away past the grace: a wait leaves the queue; a chat ends once the longer grace ends."""
    async with services.db.read() as session:
        conversation = await conv.newest_conversation(session, visitor_id)
    if conversation is None or conversation.status == "ended":
        return True
    if conversation.status == "active":
        longer = timedelta(seconds=services.settings.chat_grace_seconds)
        if clock.now() - since < longer:
            return False
    await conv.end_conversation(services, conversation.id, by=ENDED_LEFT)
    return True


async def _adviser_gone(services: Services, staff_id: int) -> None:
    async with services.change() as tx:
        changed = await tx.session.execute(
            update(Staff)
            .where(Staff.id == staff_id, Staff.available.is_(True))
            .values(available=False)
        )
        if getattr(changed, "rowcount", 0):
            # Women who came back to her and wait for her are asked at once.
            await returning.offer_when_away(tx, staff_id)
            tx.after(lambda: conv.publish_queue(services))
        tx.after(lambda: board.note(services, staff={staff_id}))
