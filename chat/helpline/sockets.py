"""The 1:1 helpline on the socket: welcome, request a chat, message, typing, end, take next.

Registered on the app's socket routes by `install`; the transport (chat/core/transport.py)
decodes frames and calls these.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from chat.core import floods
from chat.core.channels import STAFF_CHANNEL, SUPERVISORS_CHANNEL, VISITOR, staff_sender
from chat.core.events import ConnectionClosed
from chat.core.models import Staff
from chat.core.pipeline import Draft
from chat.core.protocol import (
    PROTOCOL_VERSION,
    EndConversation,
    Join,
    ProtocolError,
    RequestChat,
    SendMessage,
    SetAvailable,
    TakeNext,
    Typing,
)
from chat.core.services import Services
from chat.core.sockets import Handler
from chat.core.transport import Connection
from chat.helpline import conversations as conv
from chat.helpline.opening import admit_or_watch, opening_of, refuse_without_conversation
from chat.helpline.place import ConversationPlace

ADVISING_ROLES = ("adviser", "supervisor")


async def welcome(connection: Connection, resume: dict[int, int]) -> None:
    """After hello: tell her (or the adviser) what is open, and join those streams."""
    if connection.visitor is not None:
        await _welcome_visitor(connection, resume)
    else:
        await _welcome_staff(connection, resume)


async def _welcome_visitor(connection: Connection, resume: dict[int, int]) -> None:
    assert connection.visitor is not None
    services = connection.services
    conversation = await conv.current_conversation(services, connection.visitor.id)
    summary = None
    if conversation is not None:
        connection.conversation_id = conversation.id
        connection.writable.add(conversation.id)
        summary = {"id": conversation.id, "status": conversation.status}
    connection.send(
        {"type": "welcome", "v": PROTOCOL_VERSION, "role": "visitor", "conversation": summary}
    )
    if conversation is not None:
        await connection.join_stream(conversation.id, resume.get(conversation.id, 0))
        if conversation.status == "waiting":
            position = await conv.queue_position(services, conversation.id)
            if position is not None:
                connection.send(position)


async def _welcome_staff(connection: Connection, resume: dict[int, int]) -> None:
    staff = connection.staff
    assert staff is not None
    services = connection.services
    active = await conv.adviser_conversations(services, staff.id)
    connection.send(
        {
            "type": "welcome",
            "v": PROTOCOL_VERSION,
            "role": staff.role,
            "name": staff.display_name,
            "available": staff.available,
            "capacity": staff.capacity,
            "conversations": [c.id for c in active],
        }
    )
    if staff.role in ADVISING_ROLES:
        await connection.join(STAFF_CHANNEL)
        connection.send(await conv.queue_snapshot(services))
    if staff.role == "supervisor":
        await connection.join(SUPERVISORS_CHANNEL)
    for conversation in active:
        connection.writable.add(conversation.id)
        await connection.join_stream(conversation.id, resume.get(conversation.id, 0))


def _require_staff(
    connection: Connection, ref: str, roles: tuple[str, ...] = ADVISING_ROLES
) -> Staff:
    if connection.staff is None or connection.staff.role not in roles:
        raise ProtocolError("forbidden", ref=ref)
    return connection.staff


def _my_conversation(connection: Connection, conversation_id: int, ref: str) -> int:
    """The conversation id, if this connection may write in it (whether it has ended is
    decided by the write itself, so no read is needed here)."""
    if conversation_id not in connection.writable:
        raise ProtocolError("not_found", ref=ref)
    return conversation_id


def _sender(connection: Connection) -> tuple[str, str]:
    if connection.visitor is not None:
        return VISITOR, "visitor"
    assert connection.staff is not None
    return staff_sender(connection.staff.id), "adviser"


async def _request_chat(connection: Connection, _event: RequestChat) -> None:
    if connection.visitor is None:
        raise ProtocolError("forbidden", ref="request_chat")
    await floods.require(
        connection.services,
        "request_chat",
        [
            (floods.QUEUE_JOINS, str(connection.visitor.id)),
            (floods.per_address("queue-join-address", _joins(connection)), _address(connection)),
        ],
    )
    async with connection.services.features.get(Arrivals).turn:
        # Closed or full: refused, in no queue; her socket hears when advisers answer again.
        await admit_or_watch(connection)
        conversation = await conv.request_chat(connection.services, connection.visitor)
        opening_of(connection.services).forget(connection)
        connection.conversation_id = conversation.id
        connection.writable = {conversation.id}
        await connection.join_stream(conversation.id, 0)
        position = await conv.queue_position(connection.services, conversation.id)
    if position is not None:
        connection.send(position)


# How many women joining the queue this node works on at once (`Arrivals`).
ARRIVALS_AT_ONCE = 4


class Arrivals:
    """Women joining the queue take turns on this node, ARRIVALS_AT_ONCE at a time.

    Each arrival is a dozen steps on the event loop (each statement a round trip to the
    database's thread), and the loop runs ready steps first come, first served. In a surge,
    with hundreds of arrivals under way, every step of a routing round (an adviser's `end`,
    then the next woman's hand-over) waited behind a step of each of them; taking turns keeps
    that queue short, so a freed place is given at once however many are joining. A woman
    waiting for her turn waits where she would have waited anyway: for the node.
    """

    def __init__(self) -> None:
        self.turn = asyncio.Semaphore(ARRIVALS_AT_ONCE)


def _joins(connection: Connection) -> int:
    return connection.services.settings.joins_per_address_per_hour


def _address(connection: Connection) -> str | None:
    found = connection.address()
    return found.address if found is not None else None


async def _message(connection: Connection, event: SendMessage) -> None:
    # Turned away (closed or full), she has no conversation: said so, nothing stored.
    await refuse_without_conversation(connection, event.conversation_id)
    conversation = _my_conversation(connection, event.conversation_id, "message")
    await connection.services.messages.write(
        ConversationPlace(connection, conversation),
        Draft(event.client_id, event.body),
        connection.send,
    )


@dataclass
class _Typing:
    """The chats where this connection last said someone is typing."""

    active: set[int] = field(default_factory=set)


async def _typing(connection: Connection, event: Typing) -> None:
    conversation = _my_conversation(connection, event.conversation_id, "typing")
    who = f"{_sender(connection)[0]}:{conversation}"
    if await floods.allow(connection.services, floods.TYPING, who) is not None:
        # More typing news than anyone types: dropped quietly, so it cannot drown the reader.
        return
    typing = connection.state(_Typing).active
    if event.active:
        typing.add(conversation)
    else:
        typing.discard(conversation)
    await conv.publish_typing(
        connection.services, conversation, _sender(connection)[1], event.active
    )


async def _closed(event: ConnectionClosed) -> None:
    """A socket that closes mid-word has stopped typing: the other side is told at once,
    rather than seeing "typing…" until its indicator fades."""
    connection = event.connection
    typing = connection.state(_Typing).active
    for conversation in sorted(typing):
        await conv.publish_typing(connection.services, conversation, _sender(connection)[1], False)
    typing.clear()


async def _end(connection: Connection, event: EndConversation) -> None:
    conversation = _my_conversation(connection, event.conversation_id, "end")
    await conv.end_conversation(connection.services, conversation, by=_sender(connection)[1])


async def _set_available(connection: Connection, event: SetAvailable) -> None:
    staff = _require_staff(connection, "set_available")
    await conv.set_available(connection.services, staff, event.available)
    staff.available = event.available
    connection.send({"type": "status", "available": event.available})


async def _take_next(connection: Connection, _event: TakeNext) -> None:
    staff = _require_staff(connection, "take_next")
    conversation = await conv.take_next(connection.services, staff)
    connection.writable.add(conversation.id)
    await connection.join_stream(conversation.id, 0)
    # Chats that have ended since need no news any more: leave their channels.
    active = {c.id for c in await conv.adviser_conversations(connection.services, staff.id)}
    for finished in connection.writable - active:
        connection.writable.discard(finished)
        await connection.leave_stream(finished)


async def _join(connection: Connection, event: Join) -> None:
    staff = _require_staff(connection, "join")
    conversation = await conv.conversation_for(connection.services, event.conversation_id)
    if staff.role != "supervisor" and conversation.adviser_id != staff.id:
        raise ProtocolError("not_found", ref="join")
    if conversation.adviser_id == staff.id and conversation.status == "active":
        connection.writable.add(conversation.id)
    await conv.record_transcript_access(connection.services, staff, conversation)
    await connection.join_stream(conversation.id, event.last_seq)


HANDLERS: dict[type, Handler] = {
    RequestChat: _request_chat,
    SendMessage: _message,
    Typing: _typing,
    EndConversation: _end,
    SetAvailable: _set_available,
    TakeNext: _take_next,
    Join: _join,
}


def install(services: Services) -> None:
    services.features.add(Arrivals())
    services.sockets.on_hello(welcome)
    for model, handler in HANDLERS.items():
        services.sockets.handle(model, handler)
    services.events.on(ConnectionClosed, _closed)
