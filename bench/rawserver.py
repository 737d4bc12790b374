"""The raw limit: Willow's stack (uvicorn, uvloop, httptools, websockets, Starlette), no work.

A connection to `/ws?room=NAME` joins that room. Every text frame it sends is sent back,
byte for byte, to every member of the room (itself included), followed by one pre-encoded
ack to the sender: the same frames in and out as a Willow message, with no decoding,
storage, checks or queues. Run as `python -m bench.rawserver --port N`.
"""

from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

ACK = '{"type":"ack"}'


def build_app() -> Starlette:
    rooms: dict[str, set[WebSocket]] = {}

    async def relay(websocket: WebSocket) -> None:
        name = websocket.query_params.get("room", "-")
        await websocket.accept()
        members = rooms.setdefault(name, set())
        members.add(websocket)
        try:
            while True:
                frame = await websocket.receive_text()
                for member in tuple(members):
                    await member.send_text(frame)
                await websocket.send_text(ACK)
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            members.discard(websocket)

    return Starlette(routes=[WebSocketRoute("/ws", relay)])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.rawserver")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    # The same server options as `willow run` (chat/cli.py), so only the application differs.
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
