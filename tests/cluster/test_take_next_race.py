"""Advisers on different nodes take chats at the same moment: each chat goes to exactly one."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import select

from chat.core.models import Conversation, Event
from tests.cluster.conftest import Cluster
from tests.cluster.talk import adviser_on, collect, kind
from tests.wsclient import Client, Server, visitor

pytestmark = pytest.mark.cluster


def outcome(event: dict[str, object]) -> bool:
    """What take_next answers: the chat it won, or that there was none left."""
    return kind(event) == "assigned" or (
        kind(event) == "error" and event.get("code") == "queue_empty"
    )


async def waiting_visitors(servers: list[Server], count: int) -> tuple[list[Client], list[int]]:
    """`count` visitors asking for a chat, spread over the nodes; returns them and their chats."""
    visitors, conversations = [], []
    for i in range(count):
        her, _ = await visitor(servers[i % len(servers)])
        await her.send({"type": "request_chat"})
        conversations.append(int((await her.receive("queue"))["conversation_id"]))
        visitors.append(her)
    return visitors, conversations


async def available_advisers(cluster: Cluster) -> list[Client]:
    advisers = [(await adviser_on(server))[0] for server in (cluster.a, cluster.b)]
    for adviser in advisers:
        await adviser.send({"type": "set_available", "available": True})
        await adviser.receive("status")
    return advisers


async def stored_assignments(
    cluster: Cluster, conversations: list[int]
) -> tuple[dict[int, int | None], Counter[int]]:
    """From the database: who holds each chat, and how many `assigned` events each has."""
    async with cluster.services.db.read() as session:
        rows = await session.execute(
            select(Conversation.id, Conversation.adviser_id).where(
                Conversation.id.in_(conversations)
            )
        )
        holders = {conversation: adviser for conversation, adviser in rows}
        assigned = Counter(
            await session.scalars(
                select(Event.stream_id).where(
                    Event.stream_id.in_(conversations), Event.type == "assigned"
                )
            )
        )
    return holders, assigned


@pytest.mark.parametrize("round_", range(3))
async def test_one_waiting_chat_goes_to_exactly_one_of_two_advisers(
    cluster: Cluster, round_: int
) -> None:
    advisers = await available_advisers(cluster)
    visitors, [conversation] = await waiting_visitors([cluster.a], 1)

    await asyncio.gather(*(adviser.send({"type": "take_next"}) for adviser in advisers))
    answers = [(await collect(adviser, outcome, 1))[0] for adviser in advisers]
    await asyncio.gather(*(adviser.drain(0.3) for adviser in advisers))

    assert sorted(kind(answer) for answer in answers) == ["assigned", "error"]
    winner = advisers[[kind(answer) for answer in answers].index("assigned")]
    assert [e["conversation_id"] for e in winner.of_type("assigned")] == [conversation]
    assert [len(adviser.of_type("assigned")) for adviser in advisers].count(0) == 1
    assert len(await collect(visitors[0], lambda e: kind(e) == "assigned", 1)) == 1
    _, assigned = await stored_assignments(cluster, [conversation])
    assert assigned == {conversation: 1}
    for client in (*advisers, *visitors):
        await client.close()


async def test_ten_waiting_chats_each_assigned_exactly_once(cluster: Cluster) -> None:
    advisers = await available_advisers(cluster)
    visitors, conversations = await waiting_visitors([cluster.a, cluster.b], 10)

    # Each adviser presses take_next ten times without waiting; the two nodes race throughout.
    await asyncio.gather(
        *(adviser.send({"type": "take_next"}) for _ in range(10) for adviser in advisers)
    )
    answers = [await collect(adviser, outcome, 10, timeout=20) for adviser in advisers]
    won = [
        [int(e["conversation_id"]) for e in answer if kind(e) == "assigned"] for answer in answers
    ]

    assert sorted(won[0] + won[1]) == sorted(conversations)
    assert set(won[0]).isdisjoint(won[1])
    assert sum(kind(e) == "error" for answer in answers for e in answer) == 10

    holders, assigned = await stored_assignments(cluster, conversations)
    assert assigned == dict.fromkeys(conversations, 1)
    assert len({holders[c] for c in won[0]}) == 1 and len({holders[c] for c in won[1]}) == 1
    assert {holders[c] for c in won[0]} != {holders[c] for c in won[1]}
    for her, conversation in zip(visitors, conversations, strict=True):
        await her.receive("assigned", conversation_id=conversation)
        await her.drain(0.1)
        assert len(her.of_type("assigned")) == 1
    for client in (*advisers, *visitors):
        await client.close()
