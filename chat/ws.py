"""The WebSocket transport: decode a frame, check who may do it, call the action, reply.

Every reply and every piece of news goes through the member's one bounded send queue,
written by one writer task, so frames never interleave and a slow reader is cut off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson
from fastapi import WebSocket
from starlette.websockets import WebSocketDisconnect

from chat import conversations as conv
from chat.hub import Member, stream_channel
from chat.models import Staff, VisitorSession
from chat.protocol import (
    PROTOCOL_VERSION,
    ClientEvent,
    EndConversation,
    Hello,
    Join,
    Ping,
    ProtocolError,
    RequestChat,
    SendMessage,
    SetAvailable,
    TakeNext,
    Typing,
    decode,
)
from chat.security import origin_allowed
from chat.services import Services
from chat.staff import COOKIE, staff_for_token
from chat.visitors import visitor_by_token
from moderation.limits import REASON_EMPTY, REASON_TOO_LONG, SenderHistory, record
from moderation.pipeline import MessageContext, check, remember
from moderation.types import Action, Verdict
from moderation.wording import check_wording

log = logging.getLogger("willow.ws")
# The chat socket's path; chat/app.py answers it before HTTP routing.
PATH = "/ws"

CLOSE_TOO_SLOW = 4008
CLOSE_FORBIDDEN_ORIGIN = 4403
ADVISING_ROLES = ("adviser", "supervisor")

Handler = Callable[["Connection", Any], Awaitable[None]]


@dataclass
class Connection:
    websocket: WebSocket
    services: Services
    member: Member
    visitor: VisitorSession | None = None
    staff: Staff | None = None
    conversation_id: int | None = None
    # Conversations this connection may write in, known without a database read per message.
    writable: set[int] = field(default_factory=set)
    channels: set[str] = field(default_factory=set)
    # Other packages keep their per-connection state here (e.g. the room she is in).
    extras: dict[str, Any] = field(default_factory=dict)

    def send(self, payload: dict[str, Any]) -> None:
        self.member.offer(orjson.dumps(payload).decode())

    async def join(self, channel: str) -> None:
        if channel not in self.channels:
            self.channels.add(channel)
            await self.services.hub.join(channel, self.member)

    async def join_stream(self, stream_id: int, after_seq: int) -> None:
        channel = stream_channel(stream_id)
        if channel in self.channels:
            return
        self.channels.add(channel)
        await self.services.hub.join_stream(stream_id, self.member, after_seq)

    async def leave_stream(self, stream_id: int) -> None:
        channel = stream_channel(stream_id)
        if channel in self.channels:
            self.channels.discard(channel)
            await self.services.hub.leave(channel, self.member)

    async def leave_all(self) -> None:
        for channel in self.channels:
            await self.services.hub.leave(channel, self.member)
        self.channels.clear()
        self.member.close()

    @property
    def role(self) -> str | None:
        if self.visitor is not None:
            return "visitor"
        return self.staff.role if self.staff is not None else None


async def websocket_endpoint(websocket: WebSocket) -> None:
    services: Services = websocket.app.state.services
    settings = services.settings
    if not origin_allowed(
        websocket.headers.get("origin"), websocket.headers.get("host"), settings.allowed_origins
    ):
        await websocket.close(code=CLOSE_FORBIDDEN_ORIGIN)
        return
    await websocket.accept()
    connection = Connection(
        websocket, services, Member(settings.send_queue_size, services.fetch_after)
    )
    writer = asyncio.create_task(_write(connection))
    reader = asyncio.create_task(_read(connection))
    # A member whose queue overflows is too slow to keep up: stopping its writer ends the wait
    # below, and it is cut off rather than anyone else slowed down; she resumes by seq.
    connection.member.on_overflow = lambda: _stop(writer)
    try:
        await asyncio.wait({writer, reader}, return_when=asyncio.FIRST_COMPLETED)
        if connection.member.overflowed:
            # The writer may have been stuck on a full socket, so the close frame gets a
            # moment only.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(
                    websocket.close(CLOSE_TOO_SLOW, "too slow; reconnect and resume"), 1
                )
    finally:
        for task in (writer, reader):
            task.cancel()
        await asyncio.gather(writer, reader, return_exceptions=True)
        for hook in _CLOSE_HOOKS:
            try:
                await hook(connection)
            except Exception:
                log.exception("close hook failed")
        await connection.leave_all()


def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()


async def _write(connection: Connection) -> None:
    queue, websocket = connection.member.queue, connection.websocket
    try:
        while True:
            await websocket.send_text(await queue.get())
    except (WebSocketDisconnect, RuntimeError):
        return


async def _read(connection: Connection) -> None:
    max_bytes = connection.services.settings.max_frame_bytes
    while True:
        try:
            message = await connection.websocket.receive()
        except (WebSocketDisconnect, RuntimeError):
            return
        if message["type"] == "websocket.disconnect":
            return
        frame = message.get("text")
        if frame is None:
            frame = message.get("bytes")
        event = None
        try:
            event = decode(frame, max_bytes)
            await _dispatch(connection, event)
        except ProtocolError as error:
            client_id = getattr(event, "client_id", None)
            if client_id is not None:
                # So the page knows which of its pending messages this is about.
                error.extra.setdefault("client_id", client_id)
            connection.send(error.event())
        except Exception:
            log.exception("event handling failed")
            connection.send(ProtocolError("internal").event())


async def _dispatch(connection: Connection, event: ClientEvent) -> None:
    if isinstance(event, Ping):
        connection.send({"type": "pong"})
        return
    if isinstance(event, Hello):
        await _hello(connection, event)
        return
    if connection.role is None:
        raise ProtocolError("hello_first", ref=event.type)
    handler = _HANDLERS.get(type(event))
    if handler is None:
        raise ProtocolError("unknown_type", ref=event.type)
    await handler(connection, event)


async def _hello(connection: Connection, hello: Hello) -> None:
    if hello.v != PROTOCOL_VERSION:
        raise ProtocolError(
            "unsupported_version", f"this server speaks version {PROTOCOL_VERSION}", ref="hello"
        )
    if connection.role is not None:
        raise ProtocolError("invalid", "hello was already sent on this connection", ref="hello")
    resume = {point.conversation_id: point.last_seq for point in hello.resume}
    services = connection.services
    if hello.token is not None:
        visitor = await visitor_by_token(services, hello.token)
        if visitor is None:
            raise ProtocolError(
                "unauthorized", "this session has ended; start a new one", ref="hello"
            )
        connection.visitor = visitor
        await _welcome_visitor(connection, resume)
        return
    found = await staff_for_token(services, connection.websocket.cookies.get(COOKIE))
    if found is None:
        raise ProtocolError("unauthorized", ref="hello")
    connection.staff = found[0]
    connection.member.staff = True
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
            "conversations": [c.id for c in active],
        }
    )
    if staff.role in ADVISING_ROLES:
        await connection.join(conv.STAFF_CHANNEL)
        connection.send(await conv.queue_snapshot(services))
    if staff.role == "supervisor":
        await connection.join(conv.SUPERVISORS_CHANNEL)
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
        return conv.VISITOR, "visitor"
    assert connection.staff is not None
    return conv.staff_sender(connection.staff.id), "adviser"


async def _request_chat(connection: Connection, _event: RequestChat) -> None:
    if connection.visitor is None:
        raise ProtocolError("forbidden", ref="request_chat")
    conversation = await conv.request_chat(connection.services, connection.visitor)
    connection.conversation_id = conversation.id
    connection.writable = {conversation.id}
    await connection.join_stream(conversation.id, 0)
    position = await conv.queue_position(connection.services, conversation.id)
    if position is not None:
        connection.send(position)


def _moderate(connection: Connection, body: str) -> Verdict:
    """Run the pure pipeline; a visitor's sending history feeds her rate and repeat limits.

    Staff are known and trusted with their pace, so they keep no history: only the length
    limit applies to them.
    """
    now = time.monotonic()
    if connection.visitor is None:
        return check(body, MessageContext("conversation", "adviser", None, now=now))
    history: SenderHistory = connection.extras.get("history", SenderHistory())
    previous: tuple[str, ...] = connection.extras.get("previous", ())
    context = MessageContext(
        "conversation",
        "visitor",
        connection.visitor.language,
        now=now,
        history=history,
        previous=previous,
    )
    verdict = check(body, context)
    if verdict.reason not in (REASON_EMPTY, REASON_TOO_LONG):
        connection.extras["history"] = record(history, verdict.body, now)
        connection.extras["previous"] = remember(previous, verdict.body)
    return verdict


async def _message(connection: Connection, event: SendMessage) -> None:
    conversation = _my_conversation(connection, event.conversation_id, "message")
    sender, label = _sender(connection)
    verdict = _moderate(connection, event.body)
    if verdict.action is Action.REFUSE:
        await _after_verdict(connection, conversation, None, verdict)
        raise ProtocolError(
            "refused", ref="message", extra={"reason": verdict.reason, "client_id": event.client_id}
        )
    extra: dict[str, Any] = {}
    if label == "adviser" and connection.staff is not None:
        extra["sender_name"] = connection.staff.display_name
    sent = await conv.send_message(
        connection.services, conversation, sender, label, event.client_id, verdict.body, extra
    )
    ack: dict[str, Any] = {
        "type": "ack",
        "conversation_id": conversation,
        "client_id": event.client_id,
        "seq": sent.payload["seq"],
        "duplicate": sent.duplicate,
    }
    if connection.staff is not None:
        suggestions = check_wording(verdict.body)
        if suggestions:
            ack["wording"] = [asdict(s) for s in suggestions]
    connection.send(ack)
    if not sent.duplicate:
        await _after_verdict(connection, conversation, sent.payload, verdict)


# Called with every verdict on a 1:1 message (moderation installs the safeguarding one).
# The hook gets the conversation id, the stored message (None if refused) and the verdict.
VerdictHook = Callable[["Connection", int, dict[str, Any] | None, Verdict], Awaitable[None]]
_VERDICT_HOOKS: list[VerdictHook] = []


def on_verdict(hook: VerdictHook) -> None:
    if hook not in _VERDICT_HOOKS:
        _VERDICT_HOOKS.append(hook)


async def _after_verdict(
    connection: Connection,
    conversation_id: int,
    message: dict[str, Any] | None,
    verdict: Verdict,
) -> None:
    for hook in _VERDICT_HOOKS:
        await hook(connection, conversation_id, message, verdict)


async def _typing(connection: Connection, event: Typing) -> None:
    conversation = _my_conversation(connection, event.conversation_id, "typing")
    await conv.publish_typing(
        connection.services, conversation, _sender(connection)[1], event.active
    )


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


_HANDLERS: dict[type, Handler] = {
    RequestChat: _request_chat,
    SendMessage: _message,
    Typing: _typing,
    EndConversation: _end,
    SetAvailable: _set_available,
    TakeNext: _take_next,
    Join: _join,
}


def register_handler(model: type, handler: Handler) -> None:
    """Let another package (peers) handle its own client events on the same connection."""
    _HANDLERS[model] = handler


# Called when a connection closes, so other packages can clean up what they hold for it.
CloseHook = Callable[["Connection"], Awaitable[None]]
_CLOSE_HOOKS: list[CloseHook] = []


def on_close(hook: CloseHook) -> None:
    if hook not in _CLOSE_HOOKS:
        _CLOSE_HOOKS.append(hook)
