"""Floods from one network or one session: sessions, queue joins, messages, typing, sockets."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from chat.core import floods
from chat.core.settings import Settings
from tests.conftest import running_server
from tests.wsclient import Client, Server, connected_pair, visitor

HERE, ELSEWHERE = "198.51.100.7", "203.0.113.9"


def _with(settings: Settings, **changes: Any) -> Settings:
    return Settings(**{**settings.model_dump(), "forwarded_allow_ips": ["127.0.0.1"], **changes})


@pytest.fixture
async def limited(settings: Settings) -> AsyncIterator[Server]:
    changes = {
        "sessions_per_address_per_hour": 4,
        "joins_per_address_per_hour": 2,
        "sockets_per_address": 3,
        "hello_timeout_seconds": 1,
    }
    async with running_server(_with(settings, **changes)) as server:
        yield server


async def _session(server: Server, address: str) -> int:
    async with server.http() as http:
        answer = await http.post("/api/visitor/session", headers={"X-Forwarded-For": address})
    return answer.status_code


async def test_sessions_from_one_network_are_capped(limited: Server) -> None:
    assert [await _session(limited, HERE) for _ in range(5)] == [201, 201, 201, 201, 429]
    assert await _session(limited, ELSEWHERE) == 201


_SESSION_FROM = itertools.count(1)


async def _waiting(server: Server, address: str) -> dict[str, Any]:
    # Each session is made from its own address, so only the queue limit is in play.
    made_from = f"192.0.2.{next(_SESSION_FROM)}"
    async with server.http() as http:
        token = await http.post("/api/visitor/session", headers={"X-Forwarded-For": made_from})
    assert token.status_code == 201, (made_from, token.text)
    client, _ = await visitor(server, token.json()["token"], forwarded_for=address)
    await client.send({"type": "request_chat"})
    while True:
        frame = await client.receive_any()
        if frame["type"] in ("queue", "error"):
            await client.close()
            return frame


async def test_queue_joins_from_one_network_are_capped(limited: Server) -> None:
    answers = [(await _waiting(limited, HERE))["type"] for _ in range(3)]
    assert answers == ["queue", "queue", "error"]
    refused = await _waiting(limited, HERE)
    assert refused["code"] == "too_many" and refused["retry_after"] > 0
    assert (await _waiting(limited, "192.0.2.77"))["type"] == "queue"


async def test_a_socket_that_never_says_hello_is_closed(limited: Server) -> None:
    client = await Client.open(limited, forwarded_for=HERE)
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(client.connection.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4002


async def test_sockets_per_network_are_capped(limited: Server) -> None:
    held = [await Client.open(limited, forwarded_for=HERE) for _ in range(3)]
    extra = await Client.open(limited, forwarded_for=HERE)
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(extra.connection.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4029
    other, _ = await visitor(limited, forwarded_for=ELSEWHERE)
    for client in [*held, other]:
        await client.close()


async def test_a_fresh_socket_does_not_reset_her_message_limit(server: Server) -> None:
    her, adviser, conversation, token = await connected_pair(server)
    for n in range(8):
        await her.send(
            {"type": "message", "conversation_id": conversation, "client_id": f"m{n}",
             "body": f"message number {n} about my week"}
        )  # fmt: skip
        await her.receive("ack", client_id=f"m{n}")
    await her.close()
    fresh, _ = await visitor(server, token)
    await fresh.send(
        {"type": "message", "conversation_id": conversation, "client_id": "m9",
         "body": "and one more from a new socket"}
    )  # fmt: skip
    refused = await fresh.receive("error", client_id="m9")
    assert refused["code"] == "refused" and refused["reason"] == "too_fast"
    for client in (fresh, adviser):
        await client.close()


async def test_a_typing_flood_does_not_cut_the_adviser_off(server: Server) -> None:
    her, adviser, conversation, _ = await connected_pair(server)
    loop = asyncio.get_running_loop()
    started = loop.time()
    for n in range(3000):
        await her.send({"type": "typing", "conversation_id": conversation, "active": n % 2 == 0})
    await her.send({"type": "ping"})
    await her.receive("pong", timeout=20)
    await adviser.send({"type": "ping"})
    await adviser.receive("pong", timeout=20)
    # At most TYPING.limit in any TYPING.window seconds of the flood, however long a loaded
    # machine took over it: a handful, not thousands.
    windows = (loop.time() - started) / floods.TYPING.window + 1
    assert len(adviser.of_type("typing")) <= floods.TYPING.limit * windows
    for client in (her, adviser):
        await client.close()
