"""Frames built once and written straight to the socket (chat/core/frames.py): the same bytes
the websockets library makes, used on the server Willow runs, and never written on a socket
the server has begun to close."""

from __future__ import annotations

import pytest
import websockets
from websockets.frames import Frame, Opcode

from chat.core.frames import text_frame
from chat.core.identity import visitor_by_token
from chat.core.transport import Connection
from tests.wsclient import Server, connected_pair


@pytest.mark.parametrize("length", [0, 1, 125, 126, 127, 4000, 65535, 65536, 70001])
def test_a_text_frame_is_byte_for_byte_the_one_the_websockets_library_makes(length: int) -> None:
    payload = ("ab\u00e9" * length).encode()[:length]
    assert text_frame(payload) == Frame(Opcode.TEXT, payload).serialize(mask=False)


async def _her_connection(server: Server, token: str) -> Connection:
    assert server.services is not None
    her = await visitor_by_token(server.services, token)
    assert her is not None
    (connection,) = server.services.connections.of_visitor(her.id)
    return connection


async def test_her_messages_arrive_whole_and_in_order_through_frames_written_directly(
    server: Server,
) -> None:
    her, adviser, conversation, token = await connected_pair(server)
    # The server Willow runs (uvicorn's websockets protocol) lets frames go straight out.
    assert (await _her_connection(server, token)).member.queue.frame_writer is not None
    # Lengths on either side of the frame header's 126-byte step, with text beyond ASCII.
    bodies = ["ok", "\u00e9" * 62 + "!", ("Caf\u00e9 na\u00efve \u2014 " * 200).strip(), "x" * 3999]
    for index, body in enumerate(bodies):
        message = {"type": "message", "conversation_id": conversation, "body": body}
        await adviser.send({**message, "client_id": f"m{index}"})
        await adviser.receive("ack", client_id=f"m{index}")
    for index, body in enumerate(bodies):
        assert (await her.receive("message", client_id=f"m{index}"))["body"] == body
    seqs = [m["seq"] for m in her.of_type("message")]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(bodies)


async def test_no_frame_is_written_directly_once_the_server_closes_the_socket(
    server: Server,
) -> None:
    her, _adviser, _conversation, token = await connected_pair(server)
    connection = await _her_connection(server, token)
    write = connection.member.queue.frame_writer
    assert write is not None
    frame = text_frame(b'{"type":"pong"}')
    assert write(frame)
    await her.receive("pong")
    connection.end(4000, "closed by the test")
    with pytest.raises(websockets.ConnectionClosed):
        await her.receive("never", timeout=5)
    assert connection.member.queue.frame_writer is None
    assert write(frame) is False
