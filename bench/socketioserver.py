"""The usual Python way: python-socketio's room emit on uvicorn, measured beside Willow.

A connection to `/socket.io/?EIO=4&transport=websocket&room=NAME` joins that room. Each
`message` event it sends is emitted to the room (itself included), then an `ack` event to the
sender: the same work per message as the raw relay, done the way a python-socketio chat
server does it (decoding each packet, encoding it again for the room). No storage, no checks.
Run as `python -m bench.socketioserver --port N`.
"""

from __future__ import annotations

import argparse
from typing import Any
from urllib.parse import parse_qs

import socketio
import uvicorn

ACK = {"type": "ack"}


def build_app() -> Any:
    sio = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins="*")
    rooms: dict[str, str] = {}

    @sio.event
    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        room = query.get("room", ["-"])[0]
        rooms[sid] = room
        await sio.enter_room(sid, room)

    @sio.event
    async def disconnect(sid: str, *_reason: Any) -> None:
        rooms.pop(sid, None)

    @sio.event
    async def message(sid: str, data: Any) -> None:
        await sio.emit("message", data, room=rooms.get(sid, "-"))
        await sio.emit("ack", ACK, to=sid)

    return socketio.ASGIApp(sio)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.socketioserver")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    # The same server options as `willow run` and the raw relay: only the application differs.
    uvicorn.run(
        build_app(),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        server_header=False,
        ws_max_size=1 << 20,
        ws_per_message_deflate=False,
    )


if __name__ == "__main__":
    main()
