"""Two real nodes with short presence graces, on their own database, for the presence tests.

The shared cluster's nodes run with the shipped graces (minutes); presence across nodes is
tested in seconds here, so these nodes have their own PostgreSQL database (the sweep's
housekeeping row is per database) and the same Redis.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from chat.core.models import Conversation
from chat.core.services import Services
from chat.core.settings import Settings
from tests.cluster.conftest import empty_conversations, server_errors
from tests.cluster.nodes import ClusterConfig, Node, start_all, stop_all, willow
from tests.services import postgres_url, redis_url, scratch_postgres
from tests.wsclient import Server

LEASE = 1.5
SWEEP = 0.3
GRACE = 2.0
CHAT_GRACE = 4.0
STAFF_GRACE = 1.0
SEAT_GRACE = 2.0
MENTOR_GRACE = 3.0
# The longest a node's death takes to show: its lease, then a sweep.
NOTICED = LEASE + 3 * SWEEP + 1.5

SHORT_GRACES = {
    "WILLOW_PRESENCE_LEASE_SECONDS": str(LEASE),
    "WILLOW_PRESENCE_SWEEP_SECONDS": str(SWEEP),
    "WILLOW_VISITOR_GRACE_SECONDS": str(GRACE),
    "WILLOW_CHAT_GRACE_SECONDS": str(CHAT_GRACE),
    "WILLOW_STAFF_GRACE_SECONDS": str(STAFF_GRACE),
    "WILLOW_ADVISER_CAPACITY": "5",
    "WILLOW_ROOM_PARTICIPANT_GRACE_SECONDS": str(SEAT_GRACE),
    "WILLOW_ROOM_MENTOR_GRACE_SECONDS": str(MENTOR_GRACE),
}


@dataclass
class Pair2:
    """Node A and node B as test servers, their processes, and a database handle."""

    a: Server
    b: Server
    nodes: list[Node]
    services: Services

    def process(self, server: Server) -> Node:
        return self.nodes[0] if server is self.a else self.nodes[1]

    async def status(self, conversation_id: int) -> tuple[str, str | None]:
        async with self.services.db.read() as session:
            found = await session.get(Conversation, conversation_id)
            assert found is not None
            return found.status, found.ended_by

    async def until_status(
        self, conversation_id: int, wanted: tuple[str, str | None], timeout: float
    ) -> float:
        """Wait until the chat has this status; how long it took."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        while await self.status(conversation_id) != wanted:
            if loop.time() - start > timeout:
                raise AssertionError(
                    f"chat {conversation_id}: {await self.status(conversation_id)} after "
                    f"{timeout}s, wanted {wanted}"
                )
            await asyncio.sleep(0.1)
        return loop.time() - start

    async def ended_by(self, conversation_ids: list[int]) -> dict[int, str | None]:
        async with self.services.db.read() as session:
            rows = await session.execute(
                select(Conversation.id, Conversation.ended_by).where(
                    Conversation.id.in_(conversation_ids)
                )
            )
            return {conversation: by for conversation, by in rows.all()}


@pytest.fixture(scope="module")
def presence_config() -> Iterator[ClusterConfig]:
    with scratch_postgres(postgres_url()) as url:
        config = ClusterConfig(database_url=url, broker_url=redis_url())
        willow(["migrate"], config.env())
        yield config


@pytest.fixture(scope="module")
def presence_nodes(
    presence_config: ClusterConfig, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Node]]:
    logs = tmp_path_factory.mktemp("presence-nodes")
    processes = [
        Node(name, presence_config, logs / f"node-{name}.log", extra_env=SHORT_GRACES)
        for name in ("a", "b")
    ]
    start_all(processes)
    try:
        yield processes
    finally:
        stop_all(processes)


@pytest.fixture
async def two(presence_config: ClusterConfig, presence_nodes: list[Node]) -> AsyncIterator[Pair2]:
    for node in presence_nodes:
        if not node.alive():
            node.start()
            await asyncio.to_thread(node.wait_ready)
    await empty_conversations(presence_config.database_url)
    services = Services.build(
        Settings(
            env="test",
            secret_key=presence_config.secret_key,
            database_url=presence_config.database_url,
            broker_url="memory://",  # only the database is used from here
            adviser_capacity=5,
        )
    )
    marks = [node.log_size() for node in presence_nodes]
    try:
        yield Pair2(
            a=Server(presence_nodes[0].url, services),
            b=Server(presence_nodes[1].url, services),
            nodes=presence_nodes,
            services=services,
        )
    finally:
        await services.db.dispose()
    await asyncio.sleep(0.2)
    for node, mark in zip(presence_nodes, marks, strict=True):
        errors = server_errors(node.log_text(mark))
        assert not errors, f"node {node.name} logged errors:\n{node.log_text(mark)}"
