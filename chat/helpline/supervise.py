"""A supervisor joins a chat visibly, and may write in it beside the adviser.

`supervise` on the socket: in one commit a `joined` event is stored in the conversation (she
and the adviser both see it: her page says, in her language, that a supervisor joined) and the
join is audited (`conversation.supervisor_joined`). Then, on every node (`SupervisorJoined`),
that supervisor's open consoles join the chat from its first event and may write in it. After
a reconnection, her consoles are given back the active chats she joined (`supervising`), found
from the stored `joined` events, so nothing else needs storing. The adviser keeps the chat:
it stays on the adviser's list and capacity, not the supervisor's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chat.core.channels import staff_sender
from chat.core.clock import now
from chat.core.events import DomainEvent
from chat.core.models import Conversation, Event, Staff
from chat.core.protocol import ClientEventModel, ProtocolError, RowId
from chat.core.services import Services
from chat.core.sockets import SocketRoutes
from chat.core.transport import Connection

JOINED = "joined"


class Supervise(ClientEventModel):
    type: Literal["supervise"]
    conversation_id: RowId


@dataclass(frozen=True)
class SupervisorJoined(DomainEvent):
    conversation_id: int
    staff_id: int


async def _has_joined(session: AsyncSession, conversation_id: int, staff_id: int) -> bool:
    found = await session.scalar(
        select(Event.id)
        .where(
            Event.stream_id == conversation_id,
            Event.type == JOINED,
            Event.sender == staff_sender(staff_id),
        )
        .limit(1)
    )
    return found is not None


async def join_chat(services: Services, supervisor: Staff, conversation_id: int) -> bool:
    """Join an active chat; False when she had joined it already (nothing new is stored)."""
    async with services.change() as tx:
        conversation = await tx.session.get(Conversation, conversation_id)
        if conversation is None:
            raise ProtocolError("not_found", ref="supervise")
        if conversation.status != "active":
            raise ProtocolError("conversation_ended", ref="supervise")
        if conversation.adviser_id == supervisor.id:
            raise ProtocolError("invalid", "this chat is already yours", ref="supervise")
        if await _has_joined(tx.session, conversation_id, supervisor.id):
            tx.emit(SupervisorJoined(conversation_id, supervisor.id))
            return False
        await tx.append(
            conversation_id,
            {
                "type": "joined",
                "conversation_id": conversation_id,
                "role": "supervisor",
                "name": supervisor.display_name,
                "at": now().isoformat(),
            },
            sender=staff_sender(supervisor.id),
        )
        tx.audit(
            staff_sender(supervisor.id),
            "conversation.supervisor_joined",
            f"conversation:{conversation_id}",
        )
        tx.emit(SupervisorJoined(conversation_id, supervisor.id))
    return True


async def joined_chats(services: Services, staff_id: int) -> list[int]:
    """The active chats this supervisor joined and has not taken over."""
    async with services.db.read() as session:
        rows = await session.scalars(
            select(Event.stream_id)
            .join(Conversation, Conversation.id == Event.stream_id)
            .where(
                Event.type == JOINED,
                Event.sender == staff_sender(staff_id),
                Conversation.status == "active",
                # A chat she took over since is her own (welcome lists it), not one she joins.
                Conversation.adviser_id != staff_id,
            )
            .distinct()
        )
        return sorted(rows.all())


async def on_supervise(connection: Connection, event: Supervise) -> None:
    staff = connection.staff
    if staff is None or staff.role != "supervisor":
        raise ProtocolError("forbidden", ref="supervise")
    await join_chat(connection.services, staff, event.conversation_id)


async def after_hello(connection: Connection, resume: dict[int, int]) -> None:
    staff = connection.staff
    if staff is None or staff.role != "supervisor":
        return
    chats = await joined_chats(connection.services, staff.id)
    if not chats:
        return
    connection.send({"type": "supervising", "conversations": chats})
    for conversation_id in chats:
        connection.writable.add(conversation_id)
        await connection.join_stream(conversation_id, resume.get(conversation_id, 0))


def _on_joined(services: Services) -> object:
    async def joined(event: SupervisorJoined) -> None:
        """On every node: this supervisor's consoles may write in the chat, and see all of it."""
        for connection in services.connections.of_staff(event.staff_id):
            connection.writable.add(event.conversation_id)
            connection.send({"type": "supervising", "conversations": [event.conversation_id]})
            await connection.join_stream(event.conversation_id, 0)

    return joined


def install(services: Services) -> None:
    routes: SocketRoutes = services.sockets
    routes.add_events({"supervise": Supervise})
    routes.handle(Supervise, on_supervise)
    routes.on_hello(after_hello)
    services.events.on(SupervisorJoined, _on_joined(services))  # type: ignore[arg-type]
