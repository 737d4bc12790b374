"""A client that behaves as Willow's pages do under faults, written from docs/PROTOCOL.md.

It reconnects after any close (to the next node when one does not answer), says `hello` with
its resume point, and sends again, with the same `client_id`, every message not yet acked: at
each (re)connection, after `retry`, and after `too_fast`'s `retry_after`. It keeps what a
person would check: what was acked (and at which seq), what reached it, how it was closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass, field
from typing import Any

import orjson
import websockets
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from chat.core.identity import COOKIE
from tests.wsclient import Server

# Shorter than the page's (1 s doubling to 30 s) so that a bounded test sees recovery.
BACKOFF = (0.2, 0.4, 0.8, 1.6)


@dataclass
class Place:
    """Where the client talks: a 1:1 conversation, or a room it (re)joins after `hello`."""

    conversation_id: int | None = None
    room: str | None = None
    mentor: bool = False

    def message(self, client_id: str, body: str) -> dict[str, Any]:
        if self.room is not None:
            return {"type": "room_message", "client_id": client_id, "body": body}
        return {
            "type": "message",
            "conversation_id": self.conversation_id,
            "client_id": client_id,
            "body": body,
        }

    def owns(self, event: dict[str, Any], stream_id: int | None) -> bool:
        if self.room is not None:
            return stream_id is not None and event.get("stream_id") == stream_id
        return event.get("conversation_id") == self.conversation_id


@dataclass
class PageClient:
    name: str
    servers: list[Server]
    place: Place
    token: str | None = None
    cookie: str | None = None
    sent: dict[str, str] = field(default_factory=dict)
    acked: dict[str, int] = field(default_factory=dict)
    # An ack that named another seq for a client_id acked before: a doubled message.
    ack_conflicts: list[tuple[str, int, int]] = field(default_factory=list)
    # client_id -> seqs of the messages of others that reached this client.
    heard: dict[str, list[int]] = field(default_factory=dict)
    closes: list[int | None] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    connections: int = 0
    # The types of the other events it was sent (room news, errors, welcome), in order.
    other: list[str] = field(default_factory=list)
    last_seq: int = 0
    stream_id: int | None = None
    _socket: Any = None
    _server: int = 0
    _retries: dict[str, int] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def unacked(self) -> list[str]:
        return [client_id for client_id in self.sent if client_id not in self.acked]

    async def write(self, client_id: str, body: str) -> None:
        self.sent[client_id] = body
        await self._send(self.place.message(client_id, body))

    async def run(self, stop: asyncio.Event) -> None:
        """Stay connected until `stop` is set, reconnecting with backoff after every close."""
        failures = 0
        while not stop.is_set():
            server = self.servers[self._server % len(self.servers)]
            try:
                await self._session(server, stop)
                failures = 0
            except (OSError, InvalidHandshake, InvalidStatus, TimeoutError, ConnectionClosed):
                failures += 1
                self._server += 1  # that node did not answer: try the next one
            self._socket = None
            if stop.is_set():
                break
            wait = BACKOFF[min(failures, len(BACKOFF) - 1)]
            await asyncio.sleep(wait + random.uniform(0, wait / 2))
        for task in list(self._tasks):
            task.cancel()

    async def _session(self, server: Server, stop: asyncio.Event) -> None:
        headers = {"Cookie": f"{COOKIE}={self.cookie}"} if self.cookie else {}
        async with websockets.connect(
            server.ws_url,
            origin=server.url,  # type: ignore[arg-type]
            additional_headers=headers,
            compression=None,
            open_timeout=3,
            max_size=2**22,
        ) as socket:
            self.connections += 1
            hello: dict[str, Any] = {"type": "hello", "v": 1}
            if self.token is not None:
                hello["token"] = self.token
            if self.place.conversation_id is not None:
                resume = {"conversation_id": self.place.conversation_id, "last_seq": self.last_seq}
                hello["resume"] = [resume]
            await socket.send(orjson.dumps(hello).decode())
            stopping = asyncio.create_task(stop.wait())
            try:
                while True:
                    receiving = asyncio.create_task(socket.recv())
                    done, _ = await asyncio.wait(
                        {receiving, stopping}, return_when=asyncio.FIRST_COMPLETED
                    )
                    if receiving not in done:
                        receiving.cancel()
                        return
                    await self._handle(socket, orjson.loads(receiving.result()))
            except ConnectionClosed as closed:
                self.closes.append(closed.rcvd.code if closed.rcvd is not None else None)
            finally:
                stopping.cancel()

    async def _handle(self, socket: Any, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind not in ("message", "room_message", "ack", "typing"):
            self.other.append(str(kind))
        if kind == "welcome":
            if self.place.room is not None:
                join = "room_open" if self.place.mentor else "room_join"
                rejoin: dict[str, Any] = {"type": join, "room": self.place.room}
                if not self.place.mentor:
                    rejoin["accept_rules"] = True
                rejoin["last_seq"] = self.last_seq
                await socket.send(orjson.dumps(rejoin).decode())
                return
            self._socket = socket
            await self._resend_all()
            return
        if kind in ("room_welcome", "room_state"):
            self.stream_id = int(event["stream_id"])
            self._socket = socket
            await self._resend_all()
            return
        if kind == "ack":
            client_id, seq = str(event["client_id"]), int(event["seq"])
            before = self.acked.get(client_id)
            if before is not None and before != seq:
                self.ack_conflicts.append((client_id, before, seq))
            self.acked[client_id] = seq
            self._retries.pop(client_id, None)
            return
        if self.place.owns(event, self.stream_id) and isinstance(event.get("seq"), int):
            self.last_seq = max(self.last_seq, int(event["seq"]))
            if kind in ("message", "room_message") and "client_id" in event:
                self.heard.setdefault(str(event["client_id"]), []).append(int(event["seq"]))
            return
        if kind == "error":
            self.errors.append(event)
            answered = str(event.get("client_id"))
            if event.get("code") == "retry" and answered in self.sent:
                self._later(answered, None)
            elif event.get("reason") == "too_fast" and answered in self.sent:
                self._later(answered, float(event.get("retry_after", 1)))
            elif event.get("code") == "not_in_room" and answered in self.sent:
                # Not stored: no mentor was in the room that moment. She sends it again.
                self._later(answered, 1.0)

    def _later(self, client_id: str, after: float | None) -> None:
        attempt = self._retries.get(client_id, 0) + 1
        self._retries[client_id] = attempt
        wait = after if after is not None else min(2.0, 0.2 * 2 ** (attempt - 1))
        task = asyncio.create_task(self._resend_after(client_id, wait))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _resend_after(self, client_id: str, wait: float) -> None:
        await asyncio.sleep(wait)
        if client_id not in self.acked:
            await self._send(self.place.message(client_id, self.sent[client_id]))

    async def _resend_all(self) -> None:
        for client_id in self.unacked():
            await self._send(self.place.message(client_id, self.sent[client_id]))

    async def _send(self, event: dict[str, Any]) -> None:
        if self._socket is None:
            return  # sent again once connected
        with contextlib.suppress(ConnectionClosed):
            await self._socket.send(orjson.dumps(event).decode())
