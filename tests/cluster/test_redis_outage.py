"""Redis goes away for a moment: nodes say they are not ready, then carry on with nothing lost.

These tests run their own Redis server on a free port, so stopping it disturbs nobody else.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from chat.core.services import Services
from chat.core.settings import Settings
from tests.cluster.nodes import ClusterConfig, Node, start_all, stop_all, willow
from tests.cluster.private import PrivateRedis
from tests.cluster.talk import client_ids, collect, kind, last_seq, pair, repeated, say
from tests.services import postgres_url, redis_url, scratch_postgres
from tests.wsclient import Client, Server

pytestmark = pytest.mark.cluster

RECOVERY_TIMEOUT = 6.0
# Long enough for every node's subscriber to be back (it retries every half second).
SETTLE = 2.0


@dataclass
class Outage:
    redis: PrivateRedis
    nodes: list[Node]
    a: Server
    b: Server


@pytest.fixture(scope="module")
def outage_cluster(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[PrivateRedis, list[Node]]]:
    database = postgres_url()
    redis_url()  # skip, or fail in CI, exactly when the shared services are not configured
    if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
        pytest.skip("redis-server not installed (apt-get install redis-server; .ci/run does)")
    redis = PrivateRedis()
    redis.start()
    logs = tmp_path_factory.mktemp("outage")
    try:
        with scratch_postgres(database) as url:
            config = ClusterConfig(database_url=url, broker_url=redis.url)
            willow(["migrate"], config.env())
            willow(["staff", "add", "--role", "admin", "operator"], config.env())
            nodes = [Node(name, config, logs / f"{name}.log") for name in ("a", "b")]
            start_all(nodes)
            try:
                yield redis, nodes
            finally:
                stop_all(nodes)
    finally:
        redis.kill()


@pytest.fixture
async def outage(outage_cluster: tuple[PrivateRedis, list[Node]]) -> AsyncIterator[Outage]:
    redis, nodes = outage_cluster
    redis.start()
    for node in nodes:
        await wait_ready(node)
    config = nodes[0].config
    services = Services.build(
        Settings(env="test", secret_key=config.secret_key, database_url=config.database_url)
    )
    try:
        yield Outage(redis, nodes, Server(nodes[0].url, services), Server(nodes[1].url, services))
    finally:
        await services.db.dispose()


async def readiness(node: Node) -> tuple[int, dict[str, object]]:
    async with httpx.AsyncClient(base_url=node.url, timeout=5) as client:
        response = await client.get("/readyz")
        return response.status_code, response.json()


async def wait_ready(node: Node) -> None:
    deadline = asyncio.get_running_loop().time() + RECOVERY_TIMEOUT
    while (await readiness(node))[0] != 200:
        assert asyncio.get_running_loop().time() < deadline, f"node {node.name} never ready again"
        await asyncio.sleep(0.2)


async def broker_reconnects(node: Node) -> float:
    """The node's own count of broker resubscriptions, from its /metrics (read on the host)."""
    async with httpx.AsyncClient(base_url=node.url, timeout=5) as client:
        text = (await client.get("/metrics")).text
    name = "willow_broker_reconnects_total "
    return float(next(line for line in text.splitlines() if line.startswith(name)).split()[1])


async def test_nodes_are_not_ready_without_redis_and_ready_again_after(outage: Outage) -> None:
    talk = await pair(outage.a, outage.b)
    reconnects = [await broker_reconnects(node) for node in outage.nodes]
    outage.redis.kill()
    for node in outage.nodes:
        status, body = await readiness(node)
        assert status == 503 and body == {"ready": False, "database": True, "broker": False}
    outage.redis.start()
    for node in outage.nodes:
        await wait_ready(node)
    await asyncio.sleep(SETTLE)

    await say(talk.her, talk.conversation_id, "v0", "after the outage")
    await talk.her.receive("ack", client_id="v0")
    await talk.adviser.receive("message", client_id="v0", timeout=RECOVERY_TIMEOUT)
    await say(talk.adviser, talk.conversation_id, "r0", "still here")
    await talk.her.receive("message", client_id="r0", timeout=RECOVERY_TIMEOUT)
    await talk.her.close()
    await talk.adviser.close()
    # Each node counted its resubscription, as the operator's dashboard shows it.
    for node, before in zip(outage.nodes, reconnects, strict=True):
        assert await broker_reconnects(node) > before, node.name


async def test_a_line_she_wrote_while_redis_was_down_reaches_the_adviser(outage: Outage) -> None:
    talk = await pair(outage.a, outage.b)
    outage.redis.kill()
    # Stored in the database, but the news cannot go out: she is told to try again.
    await say(talk.her, talk.conversation_id, "v0", "written during the outage")
    answer = await collect(talk.her, lambda e: kind(e) == "error" or e.get("client_id") == "v0", 1)
    outage.redis.start()
    for node in outage.nodes:
        await wait_ready(node)
    await asyncio.sleep(SETTLE)

    if kind(answer[0]) == "error":
        # The page resends what was not acknowledged, with the same client_id.
        await say(talk.her, talk.conversation_id, "v0", "written during the outage")
        await talk.her.receive("ack", client_id="v0")
    # Her line must reach the adviser now, not only when someone writes again.
    await talk.adviser.receive("message", client_id="v0", timeout=RECOVERY_TIMEOUT)
    await talk.her.close()
    await talk.adviser.close()


async def test_news_sent_while_a_node_resubscribes_is_not_lost(outage: Outage) -> None:
    talk = await pair(outage.a, outage.b)
    # Redis stays up but drops every subscriber connection, as after a failover or a network
    # blip: each node reconnects its subscriber a moment later.
    assert outage.redis.cli("client", "kill", "type", "pubsub") != "0"
    await say(talk.her, talk.conversation_id, "v0", "sent while node B was resubscribing")
    await talk.her.receive("ack", client_id="v0")

    await talk.adviser.receive("message", client_id="v0", timeout=RECOVERY_TIMEOUT)
    await talk.adviser.drain(0.3)
    assert repeated(client_ids(talk.adviser)) == []
    await talk.her.close()
    await talk.adviser.close()


async def test_a_socket_opened_while_redis_was_down_hears_the_adviser_after(outage: Outage) -> None:
    """Her socket drops during the outage and she reconnects to the same node; once Redis is
    back, every line the adviser writes reaches her (reconnecting if the server told her to)."""
    talk = await pair(outage.a, outage.b)
    await say(talk.adviser, talk.conversation_id, "r0", "before")
    await talk.her.receive("message", client_id="r0", timeout=RECOVERY_TIMEOUT)
    last = last_seq(talk.her, talk.conversation_id)
    await talk.her.close()
    outage.redis.kill()
    resume = [{"conversation_id": talk.conversation_id, "last_seq": last}]
    her = await reconnect(outage.a, talk.token, resume)
    outage.redis.start()
    for node in outage.nodes:
        await wait_ready(node)
    await asyncio.sleep(SETTLE)

    for index in range(1, 6):
        await say(talk.adviser, talk.conversation_id, f"r{index}", f"line {index}")
        await talk.adviser.receive("ack", client_id=f"r{index}")
    wanted = {f"r{index}" for index in range(1, 6)}
    deadline = asyncio.get_running_loop().time() + RECOVERY_TIMEOUT
    heard: set[str] = set()
    while not wanted <= heard:
        assert asyncio.get_running_loop().time() < deadline, f"deaf socket: heard only {heard}"
        try:
            await her.drain(0.3)
        except ConnectionClosed:
            # Told to reconnect: she does, resuming after what she has.
            resume = [
                {
                    "conversation_id": talk.conversation_id,
                    "last_seq": last_seq(her, talk.conversation_id) or last,
                }
            ]
            her = await reconnect(outage.a, talk.token, resume)
        heard |= set(client_ids(her))
    await her.close()
    await talk.adviser.close()


async def reconnect(server: Server, token: str, resume: list[dict[str, int]]) -> Client:
    """As the page does: open a socket and say hello, again (with a pause) until welcomed."""
    for _attempt in range(20):
        client = await Client.open(server)
        await client.send({"type": "hello", "v": 1, "token": token, "resume": resume})
        try:
            while kind(await client.receive_any(timeout=5)) != "welcome":
                pass
            return client
        except (ConnectionClosed, TimeoutError):
            await asyncio.sleep(0.5)
    raise AssertionError("never welcomed again")
