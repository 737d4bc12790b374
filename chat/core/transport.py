"""The WebSocket transport: decode a frame, check who may do it, call the action, reply.

Every reply and every piece of news goes through the member's one bounded send queue,
written by one writer task, so frames never interleave and a slow reader is cut off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

import orjson
from fastapi import WebSocket
from starlette.websockets import WebSocketDisconnect

from chat.core.hub import Member, stream_channel
from chat.core.identity import COOKIE, staff_for_token, visitor_by_token
from chat.core.models import Staff, VisitorSession
from chat.core.pipeline import Sending
from chat.core.protocol import PROTOCOL_VERSION, ClientEvent, Hello, Ping, ProtocolError, decode
from chat.core.security import origin_allowed
from chat.core.services import Services

log = logging.getLogger("willow.ws")
# The chat socket's path; chat/app.py answers it before HTTP routing.
PATH = "/ws"

CLOSE_TOO_SLOW = 4008
CLOSE_FORBIDDEN_ORIGIN = 4403


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
    # Her rate history and recent acks for the message pipeline (1:1; a room seat has its own).
    sending: Sending = field(default_factory=Sending)
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
        for hook in services.sockets.close_hooks:
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
    handler = connection.services.sockets.handlers.get(type(event))
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
    else:
        found = await staff_for_token(services, connection.websocket.cookies.get(COOKIE))
        if found is None:
            raise ProtocolError("unauthorized", ref="hello")
        connection.staff = found[0]
        connection.member.staff = True
    for hook in services.sockets.hello_hooks:
        await hook(connection, resume)
