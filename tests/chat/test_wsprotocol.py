"""The server's WebSocket protocol (chat/core/wsprotocol.py) reads whole text frames itself and
leaves everything else to the general parser: frames that arrive together, split, after a
control frame, or with a longer length field are all read, once and in order; a frame the
protocol refuses still closes the socket as before, keeping what was accepted."""

from __future__ import annotations

import asyncio

import orjson
import pytest
import websockets
from websockets.frames import Frame, Opcode

from tests.wsclient import Client, Server, connected_pair, visitor


def _frame(event: dict[str, object], mask: bool = True) -> bytes:
    return Frame(Opcode.TEXT, orjson.dumps(event)).serialize(mask=mask)


def _message(conversation: int, client_id: str, body: str) -> dict[str, object]:
    return {
        "type": "message",
        "conversation_id": conversation,
        "client_id": client_id,
        "body": body,
    }


async def _acks(her: Client, count: int) -> list[str]:
    acked: list[str] = []
    while len(acked) < count:
        event = await her.receive_any()
        if event["type"] == "ack":
            acked.append(str(event["client_id"]))
        assert event["type"] != "error", event
    return acked


async def test_frames_together_split_and_around_a_control_frame_are_each_read_in_order(
    server: Server,
) -> None:
    her, adviser, conversation, _token = await connected_pair(server)
    bodies = {
        "one": "first",
        "two": "é, 日本, and 🌷 in one frame",
        "three": "a longer message, " * 20 + "end",  # over 125 bytes: a 16-bit length field
        "four": "after a ping",
        "five": "split across two writes",
        "six": "right behind the split one",
    }
    frames = {cid: _frame(_message(conversation, cid, body)) for cid, body in bodies.items()}
    transport = her.connection.transport
    # Three frames in one write, then a control frame between two more.
    transport.write(frames["one"] + frames["two"] + frames["three"])
    transport.write(Frame(Opcode.PING, b"hi").serialize(mask=True) + frames["four"])
    # A frame whose second half arrives later, with a whole one behind it.
    half = len(frames["five"]) // 2
    transport.write(frames["five"][:half])
    await asyncio.sleep(0.05)
    transport.write(frames["five"][half:] + frames["six"])

    assert await _acks(her, 6) == list(bodies)
    for cid, body in bodies.items():
        got = await adviser.receive("message", client_id=cid)
        assert got["body"] == body
    seqs = [e["seq"] for e in adviser.of_type("message") if e.get("client_id") in bodies]
    assert seqs == sorted(seqs) and len(set(seqs)) == 6


async def test_an_unmasked_frame_closes_with_1002_and_keeps_what_was_accepted(
    server: Server,
) -> None:
    her, adviser, conversation, token = await connected_pair(server)
    her.connection.transport.write(_frame(_message(conversation, "kept", "stored")))
    await her.receive("ack", client_id="kept")
    # A client's frames must be masked (RFC 6455): the general parser refuses this one.
    her.connection.transport.write(_frame(_message(conversation, "bare", "never"), mask=False))
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:
            await her.connection.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1002
    back, _ = await visitor(server, token)
    assert (await back.receive("message", client_id="kept"))["body"] == "stored"
    await back.drain()
    assert not [e for e in back.of_type("message") if e.get("client_id") == "bare"]
    await adviser.receive("message", client_id="kept")
