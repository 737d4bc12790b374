"""A supervisor takes a chat over from the adviser who has it, with a note saying why.

`take_over` on the socket: in one commit the chat becomes the supervisor's, she is told someone
else is now talking with her (a `taken_over` event her page words in her language), a staff-only
`takeover_note` keeps who took it from whom and why, and the change is audited
(`conversation.taken_over`, the note as its reason). Then, on every node (`ChatTakenOver`), the
supervisor's consoles join the chat from its first event and may write in it, and the
adviser's consoles let it go and say who took it and why (`taken_away`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field
from sqlalchemy import select

from chat.core.channels import staff_sender
from chat.core.clock import now
from chat.core.events import DomainEvent
from chat.core.models import Conversation, Staff
from chat.core.protocol import ClientEventModel, ProtocolError, RowId
from chat.core.services import Services
from chat.core.sockets import SocketRoutes
from chat.core.transport import Connection
from chat.helpline import board


class TakeOver(ClientEventModel):
    type: Literal["take_over"]
    conversation_id: RowId
    note: Annotated[str, Field(max_length=2000)] = ""


@dataclass(frozen=True)
class ChatTakenOver(DomainEvent):
    conversation_id: int
    from_staff_id: int
    to_staff_id: int
    by_name: str
    note: str


async def take_over(services: Services, supervisor: Staff, conversation_id: int, note: str) -> int:
    """Make an active chat the supervisor's; returns the id of the adviser who had it."""
    async with services.change() as tx:
        query = select(Conversation).where(Conversation.id == conversation_id)
        if not services.db.is_sqlite:
            query = query.with_for_update()
        conversation = (await tx.session.execute(query)).scalar_one_or_none()
        if conversation is None:
            raise ProtocolError("not_found", ref="take_over")
        if conversation.status != "active" or conversation.adviser_id is None:
            raise ProtocolError("conversation_ended", ref="take_over")
        if conversation.adviser_id == supervisor.id:
            raise ProtocolError("invalid", "this chat is already yours", ref="take_over")
        adviser = await tx.session.get(Staff, conversation.adviser_id)
        giver = conversation.adviser_id
        conversation.adviser_id = supervisor.id
        at = now().isoformat()
        await tx.append(
            conversation_id,
            {
                "type": "taken_over",
                "conversation_id": conversation_id,
                "adviser_name": supervisor.display_name,
                "at": at,
            },
        )
        await tx.append(
            conversation_id,
            {
                "type": "takeover_note",
                "conversation_id": conversation_id,
                "from": adviser.display_name if adviser else "",
                "from_staff_id": giver,
                "by": supervisor.display_name,
                "by_staff_id": supervisor.id,
                "note": note,
                "at": at,
            },
            sender=staff_sender(supervisor.id),
            staff_only=True,
        )
        tx.audit(
            staff_sender(supervisor.id),
            "conversation.taken_over",
            f"conversation:{conversation_id}",
            reason=note,
            details={"from": f"staff:{giver}"},
        )
        tx.emit(ChatTakenOver(conversation_id, giver, supervisor.id, supervisor.display_name, note))
        tx.after(
            lambda: board.note(services, staff={giver, supervisor.id}, chats={conversation_id})
        )
    return giver


async def on_take_over(connection: Connection, event: TakeOver) -> None:
    staff = connection.staff
    if staff is None or staff.role != "supervisor":
        raise ProtocolError("forbidden", ref="take_over")
    await take_over(connection.services, staff, event.conversation_id, event.note.strip())


def _on_taken(services: Services) -> object:
    async def taken(event: ChatTakenOver) -> None:
        """On every node: the supervisor's consoles write in the chat, the adviser's let go."""
        chat = event.conversation_id
        for connection in services.connections.of_staff(event.to_staff_id):
            connection.writable.add(chat)
            connection.send({"type": "took_over", "conversation_id": chat})
            # A console already reading the chat stays on its stream (joining twice is a no-op).
            await connection.join_stream(chat, 0)
        for connection in services.connections.of_staff(event.from_staff_id):
            connection.writable.discard(chat)
            connection.send(
                {
                    "type": "taken_away",
                    "conversation_id": chat,
                    "by": event.by_name,
                    "note": event.note,
                }
            )
            await connection.leave_stream(chat)

    return taken


def install(services: Services) -> None:
    routes: SocketRoutes = services.sockets
    routes.add_events({"take_over": TakeOver})
    routes.handle(TakeOver, on_take_over)
    services.events.on(ChatTakenOver, _on_taken(services))  # type: ignore[arg-type]
