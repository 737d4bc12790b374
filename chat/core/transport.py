"""The WebSocket transport: decode a frame, check who may do it, call the action, reply.

Every reply and every piece of news goes through the member's one bounded send queue,
written by one writer task, so frames never interleave and a slow reader is cut off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar, cast

import orjson
from fastapi import WebSocket
from pydantic import BaseModel
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocketDisconnect

from chat.core.addresses import ClientAddress, client_address, forwarded_scheme
from chat.core.clock import aware, now
from chat.core.connections import CLOSE_SESSION_ENDED, CLOSE_SESSION_ENDED_REASON
from chat.core.events import ConnectionClosed
from chat.core.frames import FrameWriter, text_frame
from chat.core.hub import JoinFailed, Member, SendText, stream_channel
from chat.core.identity import (
    cookie_name,
    second_factor_missing,
    staff_for_token,
    visitor_by_token,
)
from chat.core.models import Staff, VisitorSession
from chat.core.outages import failed_with
from chat.core.protocol import (
    ERROR_CODES,
    PROTOCOL_VERSION,
    Hello,
    Ping,
    ProtocolError,
    decode,
)
from chat.core.security import origin_allowed
from chat.core.services import Services

log = logging.getLogger("willow.ws")
# The chat socket's path; chat/app.py answers it before HTTP routing.
PATH = "/ws"

CLOSE_NO_HELLO = 4002
# A dependency failed while the socket was being set up (hello, a join): reconnect, resume.
CLOSE_TRY_AGAIN = 1013
CLOSE_TRY_AGAIN_REASON = "try again; reconnect and resume"
CLOSE_TOO_SLOW = 4008
CLOSE_TOO_MANY_SOCKETS = 4029
CLOSE_FORBIDDEN_ORIGIN = 4403

S = TypeVar("S")


@dataclass(slots=True)
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
    # The staff login this socket was opened with: logging out of it closes the socket.
    login_id: int | None = None
    # Set when the server ends the socket: (close code, reason).
    closing: tuple[int, str] | None = None
    # Ends a staff socket when its login expires.
    expiry: asyncio.TimerHandle | None = None
    # Closes a socket that has not said hello in time; cancelled by hello.
    hello_wait: asyncio.TimerHandle | None = None
    _states: dict[type, Any] = field(default_factory=dict)
    _on_end: Callable[[], None] | None = None

    def state(self, kind: type[S]) -> S:
        """This feature's state on this connection (made empty on first use)."""
        found = self._states.get(kind)
        if found is None:
            found = self._states[kind] = kind()
        return found

    def end(self, code: int, reason: str) -> None:
        """Close the socket from the server side: nothing it sends is handled any more."""
        if self.closing is not None:
            return
        self.closing = (code, reason)
        if self._on_end is not None:
            self._on_end()

    def send(self, payload: dict[str, Any]) -> None:
        body = orjson.dumps(payload)
        # Framed from the bytes orjson made: a socket that takes it at once is not made to
        # encode the text again.
        self.member.offer(body.decode(), text_frame(body))

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

    def address(self) -> ClientAddress | None:
        """Her network address as far as it can be believed; only ever hashed."""
        client = self.websocket.client
        return client_address(
            client.host if client is not None else None,
            self.websocket.headers.getlist("x-forwarded-for"),
            self.services.settings.trusted_proxies,
        )

    @property
    def role(self) -> str | None:
        if self.visitor is not None:
            return "visitor"
        return self.staff.role if self.staff is not None else None


async def websocket_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
    """The chat socket. Once accepted, frames are read and written with the server's own
    ASGI `receive` and `send`, without the WebSocket's layer around them for every frame."""
    websocket = WebSocket(scope, receive, send)
    services: Services = websocket.app.state.services
    settings = services.settings
    # Behind the proxy the socket itself is plain ws://; the page is https:// in production.
    scheme = "https" if settings.secure_cookies or websocket.url.scheme == "wss" else "http"
    # A named proxy that ends TLS says which scheme the page was loaded with.
    peer = websocket.client.host if websocket.client is not None else None
    proto = websocket.headers.get("x-forwarded-proto")
    scheme = forwarded_scheme(peer, proto, settings.trusted_proxies) or scheme
    if not origin_allowed(
        websocket.headers.get("origin"),
        websocket.headers.get("host"),
        settings.allowed_origins,
        scheme,
    ):
        await websocket.close(code=CLOSE_FORBIDDEN_ORIGIN)
        return
    await websocket.accept()
    connection = Connection(
        websocket, services, Member(settings.send_queue_size, services.fetch_after)
    )
    taken = services.sockets_from.take(connection.address(), settings.sockets_per_address)
    if taken is False:
        await websocket.close(CLOSE_TOO_MANY_SOCKETS, "too many connections from here")
        return
    try:
        await _serve(connection, receive, send)
    finally:
        services.sockets_from.give_back(taken)


async def _serve(connection: Connection, receive: Receive, send: Send) -> None:
    services = connection.services
    # One task per socket: it reads. Frames are written by the send queue as they are offered
    # (chat/core/hub.py SendQueue), with a task only while a slow reader's socket is full.
    reader = asyncio.create_task(_read(connection, receive))
    # A timer, not a task: an idle socket that said hello holds less memory (and hello
    # cancels it).
    connection.hello_wait = asyncio.get_running_loop().call_later(
        services.settings.hello_timeout_seconds, _close_without_hello, connection
    )

    def stop() -> None:
        reader.cancel()

    # A member whose queue overflows is too slow to keep up: she is cut off rather than anyone
    # else slowed down, and resumes by seq. Her session ended (on any node): stop reading at
    # once, even mid-event. A frame that cannot be written: the socket is gone.
    connection.member.on_overflow = stop
    connection._on_end = stop
    # Frames go straight to the socket while it takes them at once (chat/core/frames.py).
    writer = FrameWriter.for_send(send)
    connection.member.queue.attach(
        _sender(send), stop, writer.write if writer is not None else None
    )
    try:
        await reader
    except asyncio.CancelledError:
        # The reader was stopped (see above); only a cancellation of this handler goes on.
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise
    finally:
        if connection.hello_wait is not None:
            connection.hello_wait.cancel()
        connection.member.queue.detach()
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        if connection.expiry is not None:
            connection.expiry.cancel()
        await _close_frame(connection)
        # This node's subscribers let go of what the socket held (its index entry, presence,
        # a room seat, typing); one that fails is logged and the others still run.
        await services.events.publish(ConnectionClosed(connection))
        await connection.leave_all()


def _close_without_hello(connection: Connection) -> None:
    """A socket that never says who it is holds a slot for nothing: close it."""
    if connection.role is None:
        connection.end(CLOSE_NO_HELLO, "hello first")


async def _close_frame(connection: Connection) -> None:
    """Tell the client why the server closed, if it did."""
    if connection.member.overflowed:
        connection.services.metrics.send_queue_cutoffs.inc()
        code, reason = CLOSE_TOO_SLOW, "too slow; reconnect and resume"
    elif connection.closing is not None:
        code, reason = connection.closing
    else:
        return
    # The writer may have been stuck on a full socket, so the close frame gets a moment only.
    with contextlib.suppress(Exception):
        await asyncio.wait_for(connection.websocket.close(code, reason), 1)


def _end_at_expiry(connection: Connection, expires_at: datetime) -> None:
    """A staff login lasts until its expiry; a socket opened with it lasts no longer."""
    seconds = max(0.0, (aware(expires_at) - now()).total_seconds())
    timer = asyncio.get_running_loop().call_later(
        seconds, connection.end, CLOSE_SESSION_ENDED, CLOSE_SESSION_ENDED_REASON
    )
    connection.expiry = timer


def _sender(send: Send) -> SendText:
    def send_text(text: str) -> Coroutine[Any, Any, None]:
        # The server's send is a coroutine function (the queue may run it part way by hand).
        return cast(Coroutine[Any, Any, None], send({"type": "websocket.send", "text": text}))

    return send_text


async def _read(connection: Connection, receive: Receive) -> None:
    max_bytes = connection.services.settings.max_frame_bytes
    while True:
        try:
            message = await receive()
        except (WebSocketDisconnect, OSError, RuntimeError):
            return
        if message["type"] != "websocket.receive":
            return  # websocket.disconnect
        await _handle(connection, message, max_bytes)
        # An idle socket keeps nothing of its last frame while it waits for the next.
        del message


async def _handle(connection: Connection, message: Message, max_bytes: int) -> None:
    frame = message.get("text")
    if frame is None:
        frame = message.get("bytes")
    event = None
    try:
        event = decode(frame, max_bytes, connection.services.sockets.events)
        await _dispatch(connection, event)
    except ProtocolError as error:
        _answer(connection, event, error)
    except Exception as problem:
        _failed(connection, event, problem)


def _answer(connection: Connection, event: BaseModel | None, error: ProtocolError) -> None:
    """Send `error` naming the event it answers (`ref`) and its `client_id`, when known."""
    if event is not None:
        if error.ref is None:
            error.ref = getattr(event, "type", None)
        client_id = getattr(event, "client_id", None)
        if client_id is not None:
            # So the page knows which of its pending messages this is about.
            error.extra.setdefault("client_id", client_id)
    connection.services.metrics.error(error.code, ERROR_CODES)
    connection.send(error.event())


def _failed(connection: Connection, event: BaseModel | None, problem: Exception) -> None:
    """Handling an event failed: say so, in a way the client can act on.

    An event with a `client_id` may or may not have been stored (a commit whose answer was
    lost): `retry`, to be sent again with the same `client_id`, which can never store it twice.
    A `hello` or a join that could not subscribe leaves the socket half there: it is closed
    with 1013, and the client reconnects and resumes.
    """
    failed_with(problem, log, "event handling failed")
    if isinstance(event, Hello) or isinstance(problem, JoinFailed):
        # The close is the answer: an error notice first would only alarm her for a moment.
        connection.end(CLOSE_TRY_AGAIN, CLOSE_TRY_AGAIN_REASON)
        return
    code = "retry" if getattr(event, "client_id", None) is not None else "internal"
    _answer(connection, event, ProtocolError(code))


async def _dispatch(connection: Connection, event: BaseModel) -> None:
    if isinstance(event, Ping):
        connection.send({"type": "pong"})
        return
    if isinstance(event, Hello):
        await _hello(connection, event)
        return
    if connection.role is None:
        raise ProtocolError("hello_first", ref=getattr(event, "type", None))
    handler = connection.services.sockets.handlers.get(type(event))
    if handler is None:
        raise ProtocolError("unknown_type", ref=getattr(event, "type", None))
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
    if resume:
        services.metrics.resumes.inc()
    if hello.token is not None:
        visitor = await visitor_by_token(services, hello.token)
        if visitor is None:
            raise ProtocolError(
                "unauthorized", "this session has ended; start a new one", ref="hello"
            )
        connection.visitor = visitor
    else:
        found = await staff_for_token(
            services, connection.websocket.cookies.get(cookie_name(services.settings))
        )
        if found is None:
            raise ProtocolError("unauthorized", ref="hello")
        if second_factor_missing(found[0], services.settings):
            raise ProtocolError("forbidden", "set up two-step login first", ref="hello")
        connection.staff, login = found
        connection.login_id = login.id
        connection.member.staff = True
        _end_at_expiry(connection, login.expires_at)
    if connection.hello_wait is not None:
        connection.hello_wait.cancel()
        connection.hello_wait = None
    services.connections.add(connection)
    if connection.closing is not None:
        return
    for hook in services.sockets.hello_hooks:
        await hook(connection, resume)
