"""The generator's websocket client: picows (a lean C websocket), one listener per connection.

Each text frame is decoded once with orjson and handed to the scenario's handler with the
time it arrived. Until a scenario sets a handler, events wait in an inbox for `expect`.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from typing import Any

import orjson
from picows import WSListener, WSMsgType, WSTransport, ws_connect

from bench.stats import SeqTrack

clock = time.perf_counter  # uvloop's loop.time() is cached per iteration; this is not
COOKIE = "willow_staff"  # chat/helpline/staff.py: the staff session cookie

Handler = Callable[["Peer", dict[str, Any], float], None]


class Peer(WSListener):
    """One connection of the load generator."""

    def __init__(self) -> None:
        super().__init__()
        self.transport: WSTransport | None = None
        self.handler: Handler | None = None
        self.inbox: list[dict[str, Any]] = []
        self.arrived = asyncio.Event()
        self.closed = asyncio.Event()
        self.close_code: int | None = None
        self.seqs = SeqTrack()
        self.frames = 0
        self.fragments = 0
        self.tag: Any = None  # what the scenario wants to remember about this connection

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport

    def on_ws_frame(self, transport: WSTransport, frame: Any) -> None:
        kind = frame.msg_type
        if kind == WSMsgType.TEXT:
            now = clock()
            self.frames += 1
            if not frame.fin:
                self.fragments += 1  # Willow sends whole frames; count any surprise
                return
            event = orjson.loads(frame.get_payload_as_memoryview())
            seq = event.get("seq")
            # An ack repeats the seq of her own message, which she also receives as news.
            if seq is not None and event.get("type") != "ack":
                stream = event.get("conversation_id", event.get("stream_id"))
                if isinstance(stream, int):
                    self.seqs.see(stream, seq)
            if self.handler is not None:
                self.handler(self, event, now)
            else:
                self.keep(event)
        elif kind == WSMsgType.CLOSE:
            self.close_code = _close_code(frame)
            transport.send_close()
            transport.disconnect()

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self.closed.set()
        self.arrived.set()

    def keep(self, event: dict[str, Any]) -> None:
        self.inbox.append(event)
        self.arrived.set()

    def send(self, payload: dict[str, Any]) -> None:
        self.send_bytes(orjson.dumps(payload))

    def send_bytes(self, frame: bytes) -> None:
        if self.transport is not None and not self.closed.is_set():
            self.transport.send(WSMsgType.TEXT, frame)

    async def expect(self, kind: str, within: float = 15.0, **match: Any) -> dict[str, Any]:
        """The first kept event of this type (and field values), waiting for it if needed."""
        deadline = clock() + within
        while True:
            for index, event in enumerate(self.inbox):
                if event.get("type") == kind and all(event.get(k) == v for k, v in match.items()):
                    del self.inbox[index]
                    return event
            errors = [e for e in self.inbox if e.get("type") == "error"]
            if errors:
                raise RuntimeError(f"waiting for {kind}, the server said: {errors[0]}")
            remaining = deadline - clock()
            if remaining <= 0 or self.closed.is_set():
                kinds = [e.get("type") for e in self.inbox]
                raise TimeoutError(f"no {kind} {match} within {within}s (have {kinds})")
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), remaining)
            except TimeoutError:
                continue

    def pause_reading(self) -> None:
        if self.transport is not None:
            self.transport.underlying_transport.pause_reading()

    def resume_reading(self) -> None:
        if self.transport is not None:
            self.transport.underlying_transport.resume_reading()

    def close(self, graceful: bool = True) -> None:
        if self.transport is not None and not self.closed.is_set():
            if graceful:
                self.transport.send_close()
            self.transport.disconnect(graceful=graceful)


def _close_code(frame: Any) -> int | None:
    try:
        code = frame.get_close_code()
    except Exception:
        return None
    return int(code.value) if hasattr(code, "value") else int(code)


async def poll_until(done: Callable[[], bool], within: float, every: float = 0.005) -> bool:
    """Wait until `done()` or `within` seconds; True if done. Polling keeps the hot path free
    of per-event wake-ups, which matter more here than a few milliseconds of resolution."""
    deadline = clock() + within
    while not done():
        if clock() >= deadline:
            return False
        await asyncio.sleep(every)
    return True


async def connect(
    url: str,
    origin: str,
    cookie: str | None = None,
    source_ip: str | None = None,
    receive_buffer: int | None = None,
    listener_type: type[Peer] | None = None,
) -> Peer:
    """Open one websocket; `source_ip` spreads many connections over 127.0.0.x addresses."""
    headers = {"Origin": origin}
    if cookie is not None:
        headers["Cookie"] = f"{COOKIE}={cookie}"

    def make_socket(_url: Any) -> socket.socket | None:
        if source_ip is None and receive_buffer is None:
            return None
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        if receive_buffer is not None:
            # Set before connecting, so the small window is what the server sees.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        if source_ip is not None:
            sock.bind((source_ip, 0))
        return sock

    _transport, listener = await ws_connect(
        listener_type or Peer,
        url,
        extra_headers=headers,
        socket_factory=make_socket,
        websocket_handshake_timeout=30,
        max_frame_size=1 << 22,
    )
    assert isinstance(listener, Peer)
    return listener


async def connect_many(
    count: int, opener: Callable[[int], Any], concurrency: int = 100
) -> list[Peer]:
    """Open `count` connections with at most `concurrency` handshakes in flight."""
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int) -> Peer:
        async with gate:
            peer: Peer = await opener(index)
            return peer

    return list(await asyncio.gather(*(one(i) for i in range(count))))
