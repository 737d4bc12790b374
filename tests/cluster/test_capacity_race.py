"""One adviser with four consoles on two nodes presses "Take next" in all four at once: she
never ends with more chats than her capacity (issue 12, item 5)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select, update

from chat.core.models import Conversation, Staff
from tests.cluster.conftest import Cluster
from tests.cluster.talk import collect, kind
from tests.cluster.test_take_next_race import waiting_visitors
from tests.wsclient import staff

pytestmark = pytest.mark.cluster

CAPACITY = 3
CONSOLES = 4


def answer(event: dict[str, object]) -> bool:
    return kind(event) == "assigned" or (
        kind(event) == "error" and event.get("code") in ("at_capacity", "queue_empty")
    )


@pytest.mark.parametrize("round_", range(6))
async def test_four_consoles_of_one_adviser_never_go_over_her_capacity(
    cluster: Cluster, round_: int
) -> None:
    login = await cluster.a.staff_session("adviser")
    async with cluster.services.db.write() as session:
        await session.execute(
            update(Staff).where(Staff.username == login.username).values(capacity=CAPACITY)
        )
    # Her four consoles, two on each node.
    servers = [cluster.a, cluster.b, cluster.a, cluster.b]
    consoles = [await staff(server, login) for server in servers]
    await consoles[0].send({"type": "set_available", "available": True})
    await consoles[0].receive("status")
    visitors, _ = await waiting_visitors([cluster.a, cluster.b], CONSOLES + 1)
    if round_ % 2:
        # Half the rounds start with two chats already taken: one place left for four presses.
        for _ in range(2):
            await consoles[0].send({"type": "take_next"})
            await consoles[0].receive("assigned")

    await asyncio.gather(*(console.send({"type": "take_next"}) for console in consoles))
    for console in consoles:
        await collect(console, answer, 1, timeout=10)

    async with cluster.services.db.read() as session:
        held = await session.scalar(
            select(func.count())
            .select_from(Conversation)
            .join(Staff, Staff.id == Conversation.adviser_id)
            .where(Staff.username == login.username, Conversation.status == "active")
        )
    assert held == CAPACITY
    refused = [e for console in consoles for e in console.events if e.get("code") == "at_capacity"]
    assert refused, "a console over capacity must be told at_capacity"
    for client in (*consoles, *visitors):
        await client.close()
