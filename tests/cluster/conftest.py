"""Two real `willow run` processes sharing one fresh PostgreSQL database and one Redis.

The processes start once per test run (starting takes seconds); before each test the
conversation tables are emptied and any node a test killed is started again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from chat.core.services import Services
from chat.core.settings import Settings
from tests.cluster.nodes import ClusterConfig, Node, parse_password, start_all, stop_all, willow
from tests.services import postgres_url, redis_url, scratch_postgres
from tests.wsclient import Server

# Emptied before each test; staff accounts stay, each test makes its own with a unique name.
CONVERSATION_TABLES = ("events", "conversations", "streams", "visitor_sessions")
# Several chats at once in the take_next race.
ADVISER_CAPACITY = 20


@dataclass
class CliAdviser:
    username: str
    password: str


@dataclass
class Cluster:
    """Node A and node B as test servers, their processes, and a database handle for checks."""

    a: Server
    b: Server
    nodes: list[Node]
    config: ClusterConfig
    services: Services
    cli_adviser: CliAdviser

    def process(self, server: Server) -> Node:
        return self.nodes[0] if server is self.a else self.nodes[1]

    async def restart(self, node: Node) -> None:
        node.start()
        await asyncio.to_thread(node.wait_ready)


@pytest.fixture(scope="session")
def cluster_config() -> Iterator[ClusterConfig]:
    database, broker = postgres_url(), redis_url()
    with scratch_postgres(database) as url:
        config = ClusterConfig(database_url=url, broker_url=broker)
        out = willow(["migrate"], config.env())
        assert "up to date" in out
        yield config


@pytest.fixture(scope="session")
def cli_adviser(cluster_config: ClusterConfig) -> CliAdviser:
    """An adviser made the way an operator would, before any node starts."""
    out = willow(
        ["staff", "add", "--role", "adviser", "--display-name", "Robin", "robin"],
        cluster_config.env(),
    )
    return CliAdviser("robin", parse_password(out))


@pytest.fixture(scope="session")
def nodes(
    cluster_config: ClusterConfig, cli_adviser: CliAdviser, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Node]]:
    logs = tmp_path_factory.mktemp("nodes")
    processes = [Node(name, cluster_config, logs / f"node-{name}.log") for name in ("a", "b")]
    start_all(processes)
    try:
        yield processes
    finally:
        stop_all(processes)


async def empty_conversations(database_url: str, attempts: int = 5) -> None:
    """Empty the conversation tables under the running nodes. A node's own background write
    (presence, housekeeping, queue news) can take those tables' locks in another order than
    TRUNCATE does; PostgreSQL then ends one of the two as a deadlock, and when it picks this
    one it is simply tried again."""
    engine = create_async_engine(database_url)
    try:
        for attempt in range(attempts):
            try:
                async with engine.begin() as connection:
                    await connection.execute(text("SET LOCAL lock_timeout = '10s'"))
                    tables = ", ".join(CONVERSATION_TABLES)
                    await connection.execute(text(f"TRUNCATE {tables} CASCADE"))
                return
            except DBAPIError as error:
                if "deadlock detected" not in str(error) or attempt == attempts - 1:
                    raise
                await asyncio.sleep(0.2 * (attempt + 1))
    finally:
        await engine.dispose()


def server_errors(log: str) -> list[str]:
    """Lines of a node's log that show something went wrong inside the server."""
    return [line for line in log.splitlines() if "Traceback" in line or line.startswith("ERROR")]


@pytest.fixture
async def cluster(
    cluster_config: ClusterConfig, nodes: list[Node], cli_adviser: CliAdviser
) -> AsyncIterator[Cluster]:
    for node in nodes:
        if not node.alive():
            node.start()
            await asyncio.to_thread(node.wait_ready)
    await empty_conversations(cluster_config.database_url)
    services = Services.build(
        Settings(
            env="test",
            secret_key=cluster_config.secret_key,
            database_url=cluster_config.database_url,
            broker_url="memory://",  # only the database is used from here
            adviser_capacity=ADVISER_CAPACITY,
        )
    )
    marks = [node.log_size() for node in nodes]
    try:
        yield Cluster(
            a=Server(nodes[0].url, services),
            b=Server(nodes[1].url, services),
            nodes=nodes,
            config=cluster_config,
            services=services,
            cli_adviser=cli_adviser,
        )
    finally:
        await services.db.dispose()
    # A failure inside a node shows to clients only as error "internal"; make it loud here.
    await asyncio.sleep(0.2)
    for node, mark in zip(nodes, marks, strict=True):
        errors = server_errors(node.log_text(mark))
        assert not errors, f"node {node.name} logged errors:\n{node.log_text(mark)}"
