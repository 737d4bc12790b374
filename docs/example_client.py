"""A small visitor client for Willow's wire protocol, written from docs/PROTOCOL.md alone.

It uses only `httpx` and `websockets`. It starts a visitor session, says hello, asks for a
chat, waits for an adviser, sends one message (again, with the same `client_id`, while the
server answers `retry`), sends it again with the same `client_id` (a resend, as after a
dropped line), then drops the connection and resumes from the last
`seq` it saw. Each step prints one line starting with the step's name, so a person (or a
test) can follow it:

    python docs/example_client.py http://127.0.0.1:8000

The site must accept the Origin it sends: the address given, as a browser on that site would.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from typing import Any

import httpx
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.typing import Origin

# How long to wait for any one answer; an adviser may take a while to pick the chat up.
ANSWER_SECONDS = 60.0
# How long she stays away after the drop, so that the adviser's reply is missed and resumed.
AWAY_SECONDS = 2.0


def say(line: str) -> None:
    # Flushed at once, so whoever reads the output sees each step as it happens.
    print(line, flush=True)


class Visitor:
    """One visitor: her token, the highest seq seen per conversation, and one socket."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = ""
        self.last_seq: dict[int, int] = {}
        self.socket: ClientConnection | None = None

    async def start_session(self) -> None:
        async with httpx.AsyncClient(base_url=self.base_url) as http:
            answer = await http.post("/api/visitor/session", json={"language": "en"})
            answer.raise_for_status()
            self.token = answer.json()["token"]

    async def connect(self) -> dict[str, Any]:
        """Open the socket and say hello, resuming every conversation seen so far."""
        ws_url = self.base_url.replace("http", "ws", 1) + "/ws"
        # The site's own address is the Origin a browser on the site would send.
        origin = Origin(self.base_url)
        self.socket = await websockets.connect(ws_url, origin=origin)
        resume = [{"conversation_id": c, "last_seq": s} for c, s in self.last_seq.items()]
        await self.send({"type": "hello", "v": 1, "token": self.token, "resume": resume})
        return await self.wait_for("welcome")

    async def send(self, event: dict[str, Any]) -> None:
        assert self.socket is not None
        await self.socket.send(json.dumps(event))

    async def wait_for(self, kind: str, **fields: Any) -> dict[str, Any]:
        """The next event of this type (with these field values); others are noted on the way."""
        assert self.socket is not None
        while True:
            event: dict[str, Any] = json.loads(
                await asyncio.wait_for(self.socket.recv(), ANSWER_SECONDS)
            )
            self.note(event)
            if event["type"] == "error" and kind != "error":
                raise RuntimeError(f"server refused: {event}")
            if event["type"] == kind and all(event.get(k) == v for k, v in fields.items()):
                return event

    async def send_message(self, message: dict[str, Any]) -> dict[str, Any]:
        """Send a message until it is acked. `retry` means the server cannot tell whether it
        was stored, so the same client_id goes again after a growing pause: stored once."""
        assert self.socket is not None
        pause = 1.0
        while True:
            await self.send(message)
            while True:
                event: dict[str, Any] = json.loads(
                    await asyncio.wait_for(self.socket.recv(), ANSWER_SECONDS)
                )
                self.note(event)
                if event.get("client_id") != message["client_id"]:
                    continue
                if event["type"] == "ack":
                    return event
                if event["type"] == "error" and event.get("code") == "retry":
                    break
                if event["type"] == "error":
                    raise RuntimeError(f"server refused: {event}")
            await asyncio.sleep(pause)
            pause = min(pause * 2, 30.0)

    def note(self, event: dict[str, Any]) -> None:
        """Remember the highest seq per conversation: it is the resume point after a drop."""
        conversation, seq = event.get("conversation_id"), event.get("seq")
        # An `ack` carries the seq of her own message, which she also receives as `message`.
        if isinstance(conversation, int) and isinstance(seq, int) and event["type"] != "ack":
            self.last_seq[conversation] = max(seq, self.last_seq.get(conversation, 0))

    async def drop(self) -> None:
        assert self.socket is not None
        await self.socket.close()


async def run(base_url: str) -> None:
    her = Visitor(base_url)
    await her.start_session()
    say("session started")
    welcome = await her.connect()
    say(f"welcome role={welcome['role']} conversation={welcome['conversation']}")
    await her.send({"type": "request_chat"})
    queued = await her.wait_for("queue")
    conversation = queued["conversation_id"]
    say(f"queue conversation={conversation} position={queued['position']}")
    assigned = await her.wait_for("assigned", conversation_id=conversation)
    say(f"assigned adviser={assigned['adviser_name']} seq={assigned['seq']}")

    client_id = str(uuid.uuid4())
    message = {"type": "message", "conversation_id": conversation, "client_id": client_id}
    ack = await her.send_message({**message, "body": "Hello, is anyone there?"})
    say(f"ack seq={ack['seq']} duplicate={ack['duplicate']}")
    # The line may drop before the ack arrives; the page then sends the same message again.
    again = await her.send_message({**message, "body": "Hello, is anyone there?"})
    say(f"resend ack seq={again['seq']} duplicate={again['duplicate']}")

    await her.drop()
    say(f"dropped last_seq={her.last_seq[conversation]}")
    await asyncio.sleep(AWAY_SECONDS)
    welcome = await her.connect()
    say(f"resumed conversation={welcome['conversation']}")
    reply = await her.wait_for("message", conversation_id=conversation, sender="adviser")
    say(f"adviser said seq={reply['seq']} body={reply['body']!r}")
    await her.send({"type": "end", "conversation_id": conversation})
    ended = await her.wait_for("ended", conversation_id=conversation)
    say(f"ended by={ended['by']} seq={ended['seq']}")
    await her.drop()


if __name__ == "__main__":
    asyncio.run(run(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"))
