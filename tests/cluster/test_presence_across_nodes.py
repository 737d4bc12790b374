"""Presence across two real nodes, including a node killed with SIGKILL: her presence, a wait
nobody is behind, the adviser seeing her offline and back, an adviser's availability, and a
woman waiting for the adviser she came back to."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from chat.core.models import Staff
from tests.cluster.presence_nodes import (
    CHAT_GRACE,
    GRACE,
    NOTICED,
    STAFF_GRACE,
    Pair2,
    presence_config,
    presence_nodes,
    two,
)
from tests.cluster.talk import adviser_on, left_queue, pair, read_what_is_left, receive_where
from tests.wsclient import Client, visitor

pytestmark = pytest.mark.cluster
__all__ = ["presence_config", "presence_nodes", "two"]


async def waiting_on(server_: object, two_: Pair2) -> tuple[Client, str, int]:
    server = two_.a if server_ == "a" else two_.b
    token = await server.visitor_token()
    her, _ = await visitor(server, token)
    await her.send({"type": "request_chat"})
    return her, token, int((await her.receive("queue"))["conversation_id"])


async def test_the_adviser_sees_her_offline_when_her_node_dies_and_back_on_the_other(
    two: Pair2,
) -> None:
    chat = await pair(two.a, two.b)
    two.process(two.a).kill()
    await read_what_is_left(chat.her)

    offline = await receive_where(
        chat.adviser,
        "visitor_presence",
        lambda e: e["conversation_id"] == chat.conversation_id and e["here"] is False,
        timeout=NOTICED,
    )
    assert offline["here"] is False
    assert await two.status(chat.conversation_id) == ("active", None)

    back, _ = await visitor(two.b, chat.token)
    await receive_where(
        chat.adviser,
        "visitor_presence",
        lambda e: e["conversation_id"] == chat.conversation_id and e["here"] is True,
    )
    # Back within the grace: the chat goes on.
    await asyncio.sleep(CHAT_GRACE + 1)
    assert await two.status(chat.conversation_id) == ("active", None)

    # Gone for good: after the longer grace the chat ends as "she left", and the adviser hears.
    await back.close()
    took = await two.until_status(chat.conversation_id, ("ended", "left"), CHAT_GRACE + NOTICED)
    assert took >= CHAT_GRACE - 0.5
    ended = await chat.adviser.receive("ended", conversation_id=chat.conversation_id)
    assert ended["by"] == "left"
    await chat.adviser.close()


async def test_a_wait_on_a_killed_node_leaves_the_queue_unless_she_comes_back(
    two: Pair2,
) -> None:
    watcher, _ = await adviser_on(two.b)
    gone, _, gone_chat = await waiting_on("a", two)
    kept, kept_token, kept_chat = await waiting_on("a", two)
    elsewhere, _, elsewhere_chat = await waiting_on("b", two)
    two.process(two.a).kill()
    for client in (gone, kept):
        await read_what_is_left(client)

    # She comes back on the other node within the grace: her place is kept.
    back, _ = await visitor(two.b, kept_token)
    await two.until_status(gone_chat, ("ended", "left"), GRACE + NOTICED)
    await asyncio.sleep(GRACE)
    assert await two.status(kept_chat) == ("waiting", None)
    assert await two.status(elsewhere_chat) == ("waiting", None)
    # Queue news went out: the staff hear the gone chat left the queue, she is number 1.
    await receive_where(watcher, "queue_changes", left_queue(gone_chat))
    assert kept_chat not in [r for e in watcher.of_type("queue_changes") for r in e["removed"]]
    assert (await back.receive("queue", conversation_id=kept_chat, position=1))["waiting"] == 2
    for client in (watcher, back, elsewhere):
        await client.close()


async def test_an_advisers_availability_ends_with_her_last_socket_even_when_her_node_dies(
    two: Pair2,
) -> None:
    adviser, login = await adviser_on(two.a)
    also, _ = await adviser_on(two.b, login)
    await adviser.send({"type": "set_available", "available": True})
    await adviser.receive("status")
    her, _ = await visitor(two.b, await two.b.visitor_token())
    await her.send({"type": "request_chat"})
    # An adviser who could answer her is online: her queue news carries an estimate.
    queued = await receive_where(her, "queue", lambda e: e["estimate"] is not None)
    assert queued["position"] == 1

    # One console closes: she is still online on the other node.
    await also.close()
    await asyncio.sleep(STAFF_GRACE + NOTICED)
    assert await available(two, login.username) is True

    # Her last console's node dies: after the lease and the short grace she is not available,
    # and the woman waiting is told nobody is online rather than a number in the queue.
    two.process(two.a).kill()
    await read_what_is_left(adviser)
    news = await receive_where(
        her,
        "queue",
        lambda e: e["estimate"] is None,
        timeout=STAFF_GRACE + NOTICED + 2,
    )
    assert news["position"] == 1
    assert await available(two, login.username) is False
    await her.close()


async def available(two: Pair2, username: str) -> bool:
    async with two.services.db.read() as session:
        return bool(await session.scalar(select(Staff.available).where(Staff.username == username)))


async def test_waiting_for_the_adviser_she_came_back_to_she_is_asked_when_that_node_dies(
    two: Pair2,
) -> None:
    adviser, login = await adviser_on(two.a)
    await adviser.send({"type": "set_available", "available": True})
    await adviser.receive("status")
    her, _, conversation = await waiting_on("b", two)
    await adviser.send({"type": "take_next"})
    await her.receive("assigned", conversation_id=conversation, timeout=10)
    await adviser.send({"type": "end", "conversation_id": conversation})
    await her.receive("ended", timeout=10)
    await her.send(
        {"type": "take_return_code", "conversation_id": conversation, "keep_summary": False}
    )
    words = (await her.receive("return_code", timeout=10))["words"]
    await her.close()

    back, _ = await visitor(two.b, await two.b.visitor_token())
    await back.send({"type": "come_back", "code": " ".join(words)})
    offer = await back.receive("returning", timeout=10)
    assert offer["adviser_available"] is True
    returned = offer["conversation_id"]
    await back.send({"type": "wait_for_adviser", "conversation_id": returned, "wait": True})
    await back.receive("waiting_for_adviser", conversation_id=returned, timeout=10)

    # Her adviser's only node dies: once its lease and the staff grace pass, the woman on the
    # other node is asked whether to keep waiting, and is still waiting, not moved.
    two.process(two.a).kill()
    await read_what_is_left(adviser)
    asked = await back.receive(
        "return_offer", conversation_id=returned, timeout=STAFF_GRACE + NOTICED + 5
    )
    assert asked["reason"] == "away" and asked["adviser_name"] == login.display_name
    assert await two.status(returned) == ("waiting", None)
    await back.close()
