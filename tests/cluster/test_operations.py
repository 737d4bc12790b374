"""What an operator relies on: health endpoints for the proxy, and logs that keep her private."""

from __future__ import annotations

import asyncio

import pytest

from tests.cluster.conftest import Cluster
from tests.cluster.talk import pair, say

pytestmark = pytest.mark.cluster


async def test_every_node_answers_health_and_readiness(cluster: Cluster) -> None:
    for server in (cluster.a, cluster.b):
        async with server.http() as client:
            health = await client.get("/healthz")
            ready = await client.get("/readyz")
        assert health.status_code == 200 and health.json() == {"status": "ok"}
        assert ready.status_code == 200
        assert ready.json() == {"ready": True, "database": True, "broker": True}


async def test_node_logs_carry_no_address_token_or_message_text(cluster: Cluster) -> None:
    marks = [node.log_size() for node in cluster.nodes]
    talk = await pair(cluster.a, cluster.b)
    secret_line = "my address is 12 Hidden Lane"
    await say(talk.her, talk.conversation_id, "v0", secret_line)
    await talk.adviser.receive("message", client_id="v0")
    # The ports our clients connect from: what an address in a log line would show.
    local = [client.connection.local_address for client in (talk.her, talk.adviser)]
    await talk.her.close()
    await talk.adviser.close()
    await asyncio.sleep(0.3)

    logs = "".join(node.log_text(mark) for node, mark in zip(cluster.nodes, marks, strict=True))
    assert secret_line not in logs
    assert talk.token not in logs
    for host, port in local:
        assert f"{host}:{port}" not in logs, f"a client address is in the node log:\n{logs}"


async def test_nodes_started_on_a_database_with_staff_print_no_password(cluster: Cluster) -> None:
    # The operator made the first accounts with `willow staff add`; no node invents more.
    for node in cluster.nodes:
        assert "password" not in node.log_text()
