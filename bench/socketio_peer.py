"""Speaking Socket.IO (protocol 5 over Engine.IO 4, websocket transport) from the generator.

Only what the bench needs: the open packet is answered with a namespace connect, pings with
pongs, and each event packet `42["name", data]` reaches the scenario as `data` with its
`type` set to the event's name, as a Willow or raw-relay frame would.
"""

from __future__ import annotations

from typing import Any

import orjson
from picows import WSMsgType, WSTransport

from bench.client import Peer, clock, connect, connect_many
from bench.load import Group
from bench.servers import ServerProcess

PATH = "/socket.io/?EIO=4&transport=websocket"


class SocketIOPeer(Peer):
    def on_ws_frame(self, transport: WSTransport, frame: Any) -> None:
        if frame.msg_type != WSMsgType.TEXT:
            super().on_ws_frame(transport, frame)
            return
        now = clock()
        self.frames += 1
        payload = frame.get_payload_as_bytes()
        if payload.startswith(b"42"):
            name, data = orjson.loads(payload[2:])[:2]
            event = data if isinstance(data, dict) else {"data": data}
            event.setdefault("type", name)
            if self.handler is not None:
                self.handler(self, event, now)
            else:
                self.keep(event)
        elif payload == b"2":
            transport.send(WSMsgType.TEXT, b"3")
        elif payload.startswith(b"0"):
            transport.send(WSMsgType.TEXT, b"40")
        elif payload.startswith(b"40"):
            self.keep({"type": "connected"})
        elif payload.startswith(b"44"):
            self.keep({"type": "error", "code": "connect_error"})


def message_frame(_stream: int, client_id: str, body: str) -> bytes:
    return (
        b'42["message",'
        + orjson.dumps({"type": "message", "client_id": client_id, "body": body})
        + b"]"
    )


async def socketio_groups(server: ServerProcess, count: int, size: int, prefix: str) -> list[Group]:
    """`count` rooms of `size` Socket.IO connections, each connected to its room."""

    async def open_member(index: int) -> Peer:
        url = f"ws://127.0.0.1:{server.port}{PATH}&room={prefix}{index // size}"
        peer = await connect(url, server.origin, listener_type=SocketIOPeer)
        await peer.expect("connected", within=30)
        return peer

    peers = await connect_many(count * size, open_member)
    return [Group(peers[i * size : (i + 1) * size], i) for i in range(count)]
