"""The wire protocol under bad frames, drops and resends: nothing lost, nothing doubled."""

from __future__ import annotations

import asyncio

import pytest
import websockets

from chat.core.protocol import ProtocolError, decode
from chat.core.settings import Settings
from tests.conftest import running_server
from tests.wsclient import Client, Server, connected_pair, visitor


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "malformed"),
        ("[1, 2]", "malformed"),
        ('"hello"', "malformed"),
        ("{}", "unknown_type"),
        ('{"type": "launch_rocket"}', "unknown_type"),
        ('{"type": "message", "conversation_id": "x", "client_id": "a", "body": "b"}', "invalid"),
        ('{"type": "message", "conversation_id": 1, "client_id": "", "body": "b"}', "invalid"),
        ('{"type": "hello", "v": 1, "surprise": true}', "invalid"),
        (b"\x00\x01binary", "binary_not_supported"),
        ("x" * 20_000, "too_large"),
    ],
)
def test_each_bad_frame_is_named_by_its_code(frame: str | bytes, code: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        decode(frame, max_bytes=16_384)
    assert caught.value.code == code


async def test_bad_frames_get_an_error_and_the_conversation_goes_on(server: Server) -> None:
    her, adviser, conversation, _ = await connected_pair(server)
    await her.send(
        {"type": "message", "conversation_id": conversation, "client_id": "before", "body": "first"}
    )
    await her.receive("ack", client_id="before")

    bad: list[str | bytes] = [
        "{nope",
        b"\xff\xfe",
        "x" * 100_000,
        '{"type": "dance"}',
        '{"type": "typing"}',
    ]
    for frame in bad:
        await her.send(frame)
    codes = [(await her.receive("error"))["code"] for _ in bad]
    assert codes == ["malformed", "binary_not_supported", "too_large", "unknown_type", "invalid"]

    await her.send(
        {
            "type": "message",
            "conversation_id": conversation,
            "client_id": "after",
            "body": "still here",
        }
    )
    await her.receive("ack", client_id="after")
    bodies = [(await adviser.receive("message", client_id=c))["body"] for c in ("before", "after")]
    assert bodies == ["first", "still here"]


async def test_a_resent_client_id_is_stored_once(server: Server) -> None:
    her, adviser, conversation, _ = await connected_pair(server)
    message = {
        "type": "message",
        "conversation_id": conversation,
        "client_id": "same",
        "body": "once",
    }
    await her.send(message)
    first = await her.receive("ack", client_id="same")
    await her.send(message)
    second = await her.receive("ack", client_id="same")
    assert first["seq"] == second["seq"] and second["duplicate"] is True
    await adviser.receive("message", client_id="same")
    await adviser.drain()
    assert len(adviser.of_type("message")) == 1


async def test_resume_after_a_drop_delivers_what_was_missed_once_in_order(server: Server) -> None:
    her, adviser, conversation, token = await connected_pair(server)
    await adviser.send(
        {"type": "message", "conversation_id": conversation, "client_id": "a0", "body": "m0"}
    )
    last_seq = (await her.receive("message", client_id="a0"))["seq"]
    await her.close()

    for i in range(1, 6):
        await adviser.send(
            {
                "type": "message",
                "conversation_id": conversation,
                "client_id": f"a{i}",
                "body": f"m{i}",
            }
        )
        await adviser.receive("ack", client_id=f"a{i}")

    back, _ = await visitor(
        server, token, resume=[{"conversation_id": conversation, "last_seq": last_seq}]
    )
    for i in range(1, 6):
        await back.receive("message", client_id=f"a{i}")
    await back.drain()
    got = back.of_type("message")
    assert [m["body"] for m in got] == [f"m{i}" for i in range(1, 6)]
    # In order, each once; her seqs may skip staff-only events (the adviser's note that she
    # went offline is one), never one of hers.
    seqs = [m["seq"] for m in got]
    assert seqs == sorted(set(seqs)) and seqs[0] > last_seq
    assert not [e for e in back.events if e.get("type") == "visitor_presence"]

    await back.send(
        {"type": "message", "conversation_id": conversation, "client_id": "v1", "body": "I'm back"}
    )
    assert (await adviser.receive("message", client_id="v1"))["body"] == "I'm back"


async def test_a_new_connection_without_resume_gets_the_whole_conversation(server: Server) -> None:
    her, adviser, conversation, token = await connected_pair(server)
    await her.send(
        {"type": "message", "conversation_id": conversation, "client_id": "v0", "body": "hi"}
    )
    await adviser.receive("message", client_id="v0")
    again, _ = await visitor(server, token)
    assigned = await again.receive("assigned")
    message = await again.receive("message", client_id="v0")
    assert assigned["seq"] < message["seq"]


async def test_hello_must_come_first_and_only_once(server: Server) -> None:
    client = await Client.open(server)
    await client.send({"type": "request_chat"})
    assert (await client.receive("error"))["code"] == "hello_first"
    await client.send({"type": "hello", "v": 2})
    assert (await client.receive("error"))["code"] == "unsupported_version"
    await client.send({"type": "hello", "v": 1, "token": "not-a-real-token"})
    assert (await client.receive("error"))["code"] == "unauthorized"
    await client.send({"type": "ping"})
    await client.receive("pong")


async def test_a_member_too_slow_to_read_is_cut_off_and_resumes(settings: Settings) -> None:
    async with running_server(settings, send_buffer=16_384) as server:
        await _slow_reader_is_cut_off(server)


async def _slow_reader_is_cut_off(server: Server) -> None:
    her, adviser, conversation, token = await connected_pair(server, slow_reader=True)
    # She stops reading. The server must not wait for her: it disconnects her with 4008.
    body = "x" * 3900  # under the 4,000-character limit
    count = 300  # 1.2 MB: more than the send queue, the transport and the small socket buffers
    for i in range(count):
        await adviser.send(
            {"type": "message", "conversation_id": conversation, "client_id": f"f{i}", "body": body}
        )
    await adviser.receive("ack", client_id=f"f{count - 1}", timeout=20)
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(her.connection.recv(), 5)
    # A close frame (4008) when the socket had room for it; otherwise the server drops the line.
    assert closed.value.rcvd is None or closed.value.rcvd.code == 4008

    back, _ = await visitor(
        server, token, resume=[{"conversation_id": conversation, "last_seq": 0}]
    )
    await back.receive("message", client_id=f"f{count - 1}", timeout=20)
    assert [m["client_id"] for m in back.of_type("message")] == [f"f{i}" for i in range(count)]


async def test_an_ended_session_cannot_come_back(server: Server) -> None:
    _her, adviser, _conversation, token = await connected_pair(server)
    async with server.http() as http:
        response = await http.post(
            "/api/visitor/exit",
            content=f'{{"token": "{token}"}}',
            headers={"content-type": "text/plain"},
        )
    assert response.status_code == 204
    ended = await adviser.receive("ended")
    assert ended["by"] == "quick_exit"
    client = await Client.open(server)
    await client.send({"type": "hello", "v": 1, "token": token})
    assert (await client.receive("error"))["code"] == "unauthorized"
