"""A visitor on node A and an adviser on node B talk as if they shared one server."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cluster.conftest import Cluster
from tests.cluster.talk import client_ids, in_queue, messages, receive_where, repeated, say, seqs
from tests.wsclient import staff, visitor

pytestmark = pytest.mark.cluster


async def test_visitor_on_a_and_adviser_on_b_talk_both_ways(cluster: Cluster) -> None:
    a, b = cluster.a, cluster.b
    # Logged in through A, connected to B: the staff session is valid on every node.
    login = await a.login(cluster.cli_adviser.username, cluster.cli_adviser.password)
    adviser = await staff(b, login)
    await adviser.receive("queue_snapshot")

    her, _ = await visitor(a)
    await her.send({"type": "request_chat"})
    conversation = int((await her.receive("queue"))["conversation_id"])

    await receive_where(adviser, "queue_changes", in_queue(conversation))

    await adviser.send({"type": "set_available", "available": True})
    await adviser.send({"type": "take_next"})
    assert (await adviser.receive("assigned"))["conversation_id"] == conversation
    assert (await her.receive("assigned"))["adviser_name"] == "Robin"

    # Both sides write at once; each node publishes its own side's news.
    sent: list[str] = []
    for turn in range(6):
        await say(her, conversation, f"v{turn}", f"visitor line {turn}")
        await say(adviser, conversation, f"r{turn}", f"adviser line {turn}")
        sent += [f"v{turn}", f"r{turn}"]
    for client in (her, adviser):
        for client_id in sent:
            await client.receive("message", client_id=client_id)

    await her.send({"type": "typing", "conversation_id": conversation, "active": True})
    from_her: dict[str, Any] = {"from": "visitor"}
    from_adviser: dict[str, Any] = {"from": "adviser"}
    await adviser.receive("typing", conversation_id=conversation, **from_her)
    await adviser.send({"type": "typing", "conversation_id": conversation, "active": False})
    # Typing goes to the whole conversation, her own included; the page shows only the other's.
    await her.receive("typing", conversation_id=conversation, active=False, **from_adviser)

    await her.send({"type": "end", "conversation_id": conversation})
    assert (await adviser.receive("ended", conversation_id=conversation))["by"] == "visitor"
    assert (await her.receive("ended", conversation_id=conversation))["by"] == "visitor"

    for client in (her, adviser):
        await client.drain(0.5)
        assert sorted(client_ids(client)) == sorted(sent)
        assert repeated(client_ids(client)) == []
        order = seqs(client, conversation)
        assert order == sorted(order) and len(order) == len(set(order))
        assert len(client.of_type("ended")) == 1
    # Each side's own lines arrive in the order written; both sides see one shared order.
    for prefix in ("v", "r"):
        assert [c for c in client_ids(her) if c[0] == prefix] == [f"{prefix}{i}" for i in range(6)]
    assert client_ids(her) == client_ids(adviser)
    # Staff also get staff-only events (triage, flags), so compare what both are shown.
    assert [e["seq"] for e in messages(her)] == [e["seq"] for e in messages(adviser)]
    await her.close()
    await adviser.close()


async def test_visitor_token_made_on_a_is_accepted_on_b(cluster: Cluster) -> None:
    token = await cluster.a.visitor_token(language="pl", topic="talk")
    her, _ = await visitor(cluster.b, token)
    await her.send({"type": "request_chat"})
    queued = await her.receive("queue")
    assert queued["position"] == 1
    await her.close()
