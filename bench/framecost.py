"""What a 1:1 message's frames cost in the WebSocket protocol alone: one text frame in, three
out (her ack, her copy, his copy), through uvicorn's protocol and through Willow's
(chat/core/wsprotocol.py), with a stand-in transport that only counts bytes, so neither the
network, the machine's load nor the group commit's batch moves the figures.

    .venv/bin/python -m bench.framecost
"""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import pstats
import time
from typing import Any

import orjson
from uvicorn.config import Config
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.frames import Frame, Opcode

from chat.core.frames import FrameWriter, text_frame
from chat.core.wsprotocol import ChatWebSocketProtocol


class Transport:
    """Counts what is written; nothing leaves the process."""

    def __init__(self) -> None:
        self.out = 0

    def write(self, data: bytes) -> None:
        self.out += len(data)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def is_closing(self) -> bool:
        return False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 5), "sockname": ("127.0.0.1", 80)}.get(name, default)

    def close(self) -> None:
        pass


async def app(scope: Any, receive: Any, send: Any) -> None:
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.sleep(3600)


HANDSHAKE = (
    b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)
FRAME = Frame(
    Opcode.TEXT,
    orjson.dumps(
        {
            "type": "message",
            "conversation_id": 1234,
            "client_id": "c-1-77",
            "body": "I have been feeling low this week and wanted to talk",
        }
    ),
).serialize(mask=True)
OUT = orjson.dumps(
    {
        "type": "message",
        "conversation_id": 1234,
        "seq": 17,
        "sender": "visitor",
        "client_id": "c-1-77",
        "body": "I have been feeling low this week and wanted to talk",
        "at": "2026-12-06T14:00:00+00:00",
    }
).decode()


async def setup(cls: type[WebSocketsSansIOProtocol]) -> Any:
    config = Config(app=app, ws_per_message_deflate=False, log_level="warning")
    config.load()
    p = cls(config, ServerState(), {}, asyncio.get_running_loop())
    p.connection_made(Transport())  # type: ignore[arg-type]
    p.data_received(HANDSHAKE)
    await asyncio.sleep(0)
    await p.send({"type": "websocket.accept"})
    await p.receive()  # websocket.connect
    p.willow_writer = FrameWriter.for_send(p.send)
    return p


async def one(p: Any, direct: bool) -> None:
    p.data_received(FRAME)
    await p.receive()
    for _ in range(3):
        if direct:
            # As Willow writes: the frame made once by the hub, written by the socket's writer.
            p.willow_writer.write(text_frame(OUT.encode()))
        else:
            await p.send({"type": "websocket.send", "text": OUT})


async def measure(
    cls: type[WebSocketsSansIOProtocol], direct: bool, n: int, profile: bool
) -> tuple[float, float | None]:
    p = await setup(cls)
    for _ in range(200):
        await one(p, direct)
    pr = cProfile.Profile() if profile else None
    t = time.process_time()
    if pr:
        pr.enable()
    for _ in range(n):
        await one(p, direct)
    if pr:
        pr.disable()
    cpu = (time.process_time() - t) / n * 1e6
    table: dict[Any, Any] = pstats.Stats(pr).stats if pr else {}  # type: ignore[attr-defined]
    calls = sum(v[1] for v in table.values()) / n if pr else None
    p.stop_keepalive()
    return cpu, calls


async def main() -> None:
    for label, cls, direct in [
        ("uvicorn", WebSocketsSansIOProtocol, False),
        ("willow", ChatWebSocketProtocol, True),
    ] * 2:
        cpu, _ = await measure(cls, direct, 20000, False)
        _, calls = await measure(cls, direct, 2000, True)
        print(
            f"{label}: {cpu:.1f} µs CPU, {calls:.1f} Python calls a 1:1 message (a frame in, 3 out)"
        )


if __name__ == "__main__":
    asyncio.run(main())
