"""Her quick exit reaches node A; her adviser on node B is told at once."""

from __future__ import annotations

import orjson
import pytest

from chat.core.connections import CLOSE_SESSION_ENDED
from tests.chat.lifecycle import closed_with
from tests.cluster.conftest import Cluster
from tests.cluster.talk import (
    adviser_on,
    in_queue,
    left_queue,
    pair,
    read_what_is_left,
    receive_where,
)
from tests.wsclient import Client, Server, visitor

pytestmark = pytest.mark.cluster


async def beacon_exit(server: Server, token: str) -> int:
    """What the page's `navigator.sendBeacon` sends: the token as JSON in a text/plain body."""
    async with server.http() as client:
        response = await client.post(
            "/api/visitor/exit",
            content=orjson.dumps({"token": token}),
            headers={"content-type": "text/plain"},
        )
        return response.status_code


async def test_quick_exit_on_a_ends_the_chat_for_the_adviser_on_b(cluster: Cluster) -> None:
    talk = await pair(cluster.a, cluster.b)
    conversation = talk.conversation_id

    assert await beacon_exit(cluster.a, talk.token) == 204
    ended = await talk.adviser.receive("ended", conversation_id=conversation)
    assert ended["by"] == "quick_exit"

    # Her token is dead on every node, and pressing exit again changes nothing.
    again = await Client.open(cluster.b)
    await again.send({"type": "hello", "v": 1, "token": talk.token})
    assert (await again.receive("error"))["code"] == "unauthorized"
    assert await beacon_exit(cluster.b, talk.token) == 204
    await talk.adviser.drain(0.5)
    assert len(talk.adviser.of_type("ended")) == 1

    await talk.adviser.send(
        {"type": "message", "conversation_id": conversation, "client_id": "late", "body": "hello?"}
    )
    assert (await talk.adviser.receive("error"))["code"] == "conversation_ended"
    await read_what_is_left(talk.her)
    for client in (again, talk.her, talk.adviser):
        await client.close()


async def test_quick_exit_while_waiting_takes_her_off_the_queue_on_every_node(
    cluster: Cluster,
) -> None:
    watcher, _ = await adviser_on(cluster.a)
    waiting, token = await visitor(cluster.b)
    await waiting.send({"type": "request_chat"})
    conversation = int((await waiting.receive("queue"))["conversation_id"])
    listed = in_queue(conversation)
    await receive_where(watcher, "queue_changes", listed)

    assert await beacon_exit(cluster.b, token) == 204
    await receive_where(watcher, "queue_changes", left_queue(conversation))
    await read_what_is_left(waiting)
    await waiting.close()
    await watcher.close()


async def test_quick_exit_through_b_closes_her_socket_on_a_before_she_can_start_a_chat(
    cluster: Cluster,
) -> None:
    # The beacon may reach another node than her websocket; the session ends everywhere.
    talk = await pair(cluster.a, cluster.b)
    watcher, _ = await adviser_on(cluster.b)
    assert await beacon_exit(cluster.b, talk.token) == 204
    assert await closed_with(talk.her) == CLOSE_SESSION_ENDED
    await watcher.drain(0.5)
    assert all(snapshot["waiting"] == [] for snapshot in watcher.of_type("queue_snapshot"))
    assert all(news["added"] == [] for news in watcher.of_type("queue_changes"))
    for client in (talk.adviser, watcher):
        await client.close()
