"""Every number in docs/PROTOCOL.md's Limits table, checked at its edge against a real server.

The numbers come from the document, not from the code: if the server and the document
disagree, one of these tests fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import websockets
from websockets.typing import Origin

from chat.core.settings import Settings
from moderation.limits import Limits
from moderation.pipeline import MessageContext
from tests.conftest import running_server
from tests.peers.roomkit import mentor_in, woman_in
from tests.wsclient import Client, Server, connected_pair

DOC = (Path(__file__).resolve().parents[2] / "docs" / "PROTOCOL.md").read_text()
_SECTION = DOC.split("\n## Limits", 1)[1].split("\n## ", 1)[0]
LIMITS = {
    name: int(value.replace(",", ""))
    for name, value in re.findall(r"^\| `([a-z_]+)` \| ([\d,]+) \|", _SECTION, re.MULTILINE)
}


@asynccontextmanager
async def willow_run(tmp_path: Path) -> AsyncIterator[str]:
    """`willow run` itself, as an operator starts it, on a free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "WILLOW_ENV": "development",
        "WILLOW_PORT": str(port),
        "WILLOW_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'willow.db'}",
        "WILLOW_BROKER_URL": "memory://",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "chat.cli",
        "run",
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url) as http:
            for _ in range(300):
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/healthz")).status_code == 200:
                        break
                assert process.returncode is None, "willow run stopped"
                await asyncio.sleep(0.1)
        yield url
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 15)


def message(conversation: int, client_id: str, body: str) -> dict[str, Any]:
    return {
        "type": "message",
        "conversation_id": conversation,
        "client_id": client_id,
        "body": body,
    }


async def send(client: Client, conversation: int, client_id: str, body: str) -> dict[str, Any]:
    """Send one message and return the server's answer to it: its `ack` or its `error`."""
    await client.send(message(conversation, client_id, body))
    deadline = asyncio.get_running_loop().time() + 5
    while True:
        for event in client.events:
            if event.get("client_id") == client_id and event["type"] in ("ack", "error"):
                client.events.remove(event)
                return event
        remaining = deadline - asyncio.get_running_loop().time()
        assert remaining > 0, f"no answer to {client_id}; got {client.types()}"
        try:
            frame = await asyncio.wait_for(client.connection.recv(), remaining)
        except TimeoutError:
            continue
        client.events.append(orjson.loads(frame))


def refused(answer: dict[str, Any], reason: str) -> bool:
    return (answer["type"], answer.get("code"), answer.get("reason")) == (
        "error",
        "refused",
        reason,
    )


async def test_a_message_may_be_as_long_as_documented_in_characters_not_bytes(
    server: Server,
) -> None:
    her, adviser, conversation, _ = await connected_pair(server)
    limit = LIMITS["message_characters"]
    # Two bytes each: the limit counts characters.
    accepted = await send(her, conversation, "edge", "é" * limit)
    assert accepted["type"] == "ack"
    assert (await adviser.receive("message", client_id="edge"))["body"] == "é" * limit

    over = await send(her, conversation, "over", "é" * (limit + 1))
    assert refused(over, "too_long")
    assert over["ref"] == "message"
    # Staff meet the same length limit.
    assert refused(await send(adviser, conversation, "long", "a" * (limit + 1)), "too_long")
    await adviser.drain()
    assert not [e for e in adviser.of_type("message") if e["client_id"] in ("over", "long")]


async def test_a_frame_at_the_frame_limit_is_read_and_one_byte_more_is_too_large(
    server: Server, settings: Settings
) -> None:
    limit = LIMITS["frame_bytes"]
    assert settings.max_frame_bytes == limit
    her, _adviser, conversation, _ = await connected_pair(server)
    frame = orjson.dumps(message(conversation, "frame", ""))
    body = "x" * (limit - len(frame))
    at_limit = orjson.dumps(message(conversation, "frame", body)).decode()
    assert len(at_limit.encode()) == limit
    await her.send(at_limit)
    # Read and decoded: only the message length limit refuses it.
    assert (await her.receive("error"))["reason"] == "too_long"

    await her.send(orjson.dumps(message(conversation, "frame2", body + "x")).decode())
    assert (await her.receive("error"))["code"] == "too_large"
    await her.send({"type": "ping"})
    await her.receive("pong")


async def test_past_the_frame_limit_a_body_longer_than_any_message_is_invalid(
    settings: Settings,
) -> None:
    limit = LIMITS["body_characters"]
    roomy = settings.model_copy(update={"max_frame_bytes": 4 * limit})
    async with running_server(roomy) as server:
        her, _adviser, conversation, _ = await connected_pair(server)
        assert refused(await send(her, conversation, "edge", "x" * limit), "too_long")
        await her.send(message(conversation, "over", "x" * (limit + 1)))
        error = await her.receive("error")
        # Not decoded, so the error cannot name the client_id.
        assert (error["code"], error["ref"], error.get("client_id")) == ("invalid", "message", None)
        assert error["message"].startswith("body")


async def test_a_room_message_may_be_as_long_as_documented(server: Server) -> None:
    await mentor_in(server)
    her = await woman_in(server)
    limit = LIMITS["room_message_characters"]
    await her.client.send({"type": "room_message", "client_id": "edge", "body": "é" * limit})
    await her.client.receive("ack", client_id="edge")
    await her.client.send({"type": "room_message", "client_id": "over", "body": "é" * (limit + 1)})
    error = await her.client.receive("error", client_id="over")
    assert (error["code"], error["reason"]) == ("refused", "too_long")


async def test_the_rate_limit_counts_only_what_went_out_in_a_sliding_window(
    server: Server,
) -> None:
    her, _adviser, conversation, _ = await connected_pair(server)
    count, window = LIMITS["messages_per_window"], LIMITS["window_seconds"]
    loop = asyncio.get_running_loop()
    for i in range(count):
        assert (await send(her, conversation, f"a{i}", f"message number {i}"))["type"] == "ack"
    accepted_by = loop.time()
    first = await send(her, conversation, "r0", "one more message")
    assert refused(first, "too_fast") and 1 <= first["retry_after"] <= window

    # Half a window on, the burst still counts; these are refused and do not count.
    await asyncio.sleep(window / 2)
    for i in range(count):
        again = await send(her, conversation, f"r{i + 1}", f"try again {i}")
        assert refused(again, "too_fast") and again["retry_after"] <= first["retry_after"]

    # Once the accepted burst has left the window, she gets through at once.
    await asyncio.sleep(accepted_by + window + 0.5 - loop.time())
    assert (await send(her, conversation, "calm", "now it goes through"))["type"] == "ack"


async def test_a_burst_of_short_messages_is_too_fast_but_a_longer_one_goes_on(
    server: Server,
) -> None:
    her, _adviser, conversation, _ = await connected_pair(server)
    short = LIMITS["short_message_characters"]
    allowed = LIMITS["short_messages_per_flood_window"]
    assert allowed < LIMITS["messages_per_window"] - 1
    words = [chr(ord("a") + i) * short for i in range(allowed + 1)]
    for i, word in enumerate(words[:allowed]):
        assert (await send(her, conversation, f"s{i}", word))["type"] == "ack"
    assert refused(await send(her, conversation, "burst", words[allowed]), "too_fast")
    longer = "b" * (short + 1) + " and more"
    assert (await send(her, conversation, "long", longer))["type"] == "ack"
    # Once the short ones have left their window, a short message goes through again.
    await asyncio.sleep(LIMITS["flood_window_seconds"] + 0.5)
    assert (await send(her, conversation, "later", words[0][:-1] + "z"))["type"] == "ack"


async def test_the_same_text_again_is_refused_after_the_documented_number(server: Server) -> None:
    her, _adviser, conversation, _ = await connected_pair(server)
    allowed = LIMITS["identical_messages"]
    for i in range(allowed):
        answer = await send(her, conversation, f"same{i}", "please can someone help")
        assert answer["type"] == "ack"
    # Case and accents do not make it different text.
    again = await send(her, conversation, "again", "PLEASE can someone hélp")
    assert refused(again, "repeated")


async def test_client_id_length_limits(server: Server) -> None:
    her, _adviser, conversation, _ = await connected_pair(server)
    limit = LIMITS["client_id_characters"]
    assert (await send(her, conversation, "c" * limit, "first words"))["type"] == "ack"
    for bad in ("c" * (limit + 1), ""):
        await her.send(message(conversation, bad, "other words"))
        error = await her.receive("error")
        assert (error["code"], error["ref"]) == ("invalid", "message")
        assert "client_id" in error["message"]


async def test_resume_may_name_as_many_conversations_as_documented(server: Server) -> None:
    token = await server.visitor_token()
    limit = LIMITS["resume_entries"]
    for entries, answer in ((limit, "welcome"), (limit + 1, "error")):
        client = await Client.open(server)
        resume = [{"conversation_id": i + 1, "last_seq": 0} for i in range(entries)]
        await client.send({"type": "hello", "v": 1, "token": token, "resume": resume})
        event = await client.receive(answer)
        if answer == "error":
            assert (event["code"], event["ref"]) == ("invalid", "hello")
        await client.close()


async def test_a_token_longer_than_documented_is_invalid_and_a_wrong_one_unauthorized(
    server: Server,
) -> None:
    limit = LIMITS["token_characters"]
    for token, code in (("t" * limit, "unauthorized"), ("t" * (limit + 1), "invalid")):
        client = await Client.open(server)
        await client.send({"type": "hello", "v": 1, "token": token})
        assert (await client.receive("error"))["code"] == code
        await client.close()


async def test_the_send_queue_and_frame_limits_are_the_servers_defaults() -> None:
    # The 4008 cut-off itself is shown in test_protocol.py (a reader too slow for its queue).
    defaults = Settings(secret_key="x" * 48)
    assert defaults.send_queue_size == LIMITS["send_queue_frames"]
    assert defaults.max_frame_bytes == LIMITS["frame_bytes"]


def test_the_repeat_window_is_the_one_the_server_applies() -> None:
    # A minute-long wait has no place in the suite: the window is checked against the limits
    # every message passes (the other windows are waited out above).
    assert Limits().repeat_window_seconds == LIMITS["repeat_window_seconds"]
    assert MessageContext("conversation", "visitor", None, now=0).limits == Limits()


async def test_a_frame_over_the_websocket_limit_of_willow_run_closes_with_1009(
    tmp_path: Path,
) -> None:
    async with willow_run(tmp_path) as url:
        limit = LIMITS["ws_max_bytes"]
        async with websockets.connect(
            url.replace("http", "ws") + "/ws", origin=Origin(url), compression=None
        ) as ws:
            # At the limit the WebSocket layer passes it on and Willow answers in protocol.
            await ws.send("x" * limit)
            assert orjson.loads(await ws.recv())["code"] == "too_large"
            await ws.send("x" * (limit + 1))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 1009


def test_every_documented_limit_is_checked_here() -> None:
    source = Path(__file__).read_text()
    assert [name for name in LIMITS if f'LIMITS["{name}"]' not in source] == []
