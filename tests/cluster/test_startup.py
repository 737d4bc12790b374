"""Starting several nodes the way a deployment does: at once, on a new or shared database."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.cluster.nodes import ClusterConfig, Node, NodeError, start_all, stop_all, willow
from tests.services import postgres_url, redis_url, scratch_postgres

pytestmark = pytest.mark.cluster

STARTUP_TIMEOUT = 30.0


@pytest.fixture
def new_database() -> Iterator[ClusterConfig]:
    database, broker = postgres_url(), redis_url()
    with scratch_postgres(database) as url:
        yield ClusterConfig(database_url=url, broker_url=broker)


def nodes_of(config: ClusterConfig, logs: Path, count: int, tag: str) -> list[Node]:
    return [Node(f"{tag}{i}", config, logs / f"{tag}{i}.log") for i in range(count)]


def start_together(nodes: list[Node]) -> None:
    """Start them all at once and wait until each is ready; always stop them afterwards."""
    try:
        start_all(nodes, STARTUP_TIMEOUT)
    finally:
        stop_all(nodes)


def test_nodes_started_together_on_a_new_database_all_serve(
    new_database: ClusterConfig, tmp_path: Path
) -> None:
    # A compose file or an orchestrator starts every node at the same moment, each
    # running `willow run`, which migrates first.
    start_together(nodes_of(new_database, tmp_path, 2, "new"))


def test_nodes_started_together_on_an_empty_database_all_serve(
    new_database: ClusterConfig, tmp_path: Path
) -> None:
    # Migrated by `willow migrate`, but no staff yet: every node wants to make the first
    # accounts. The window is short, so try twice with three nodes.
    willow(["migrate"], new_database.env())
    for attempt in range(2):
        nodes = nodes_of(new_database, tmp_path, 3, f"empty{attempt}-")
        start_together(nodes)
        # One adviser and one supervisor for the whole cluster, each password shown once.
        assert sum(node.log_text().count("password:") for node in nodes) == 2
        willow_sql(new_database, "TRUNCATE staff CASCADE")


def test_a_node_that_cannot_reach_redis_does_not_start(
    new_database: ClusterConfig, tmp_path: Path
) -> None:
    unreachable = ClusterConfig(new_database.database_url, "redis://127.0.0.1:1/0")
    node = Node("no-redis", unreachable, tmp_path / "no-redis.log")
    with pytest.raises(NodeError, match="exited before it was ready"):
        start_together([node])
    assert "127.0.0.1:1" in node.log_text()


def test_several_workers_without_redis_are_refused_with_a_clear_message(tmp_path: Path) -> None:
    # Each worker is a process with its own in-memory broker: a visitor on one worker and
    # her adviser on another would never hear each other. Only Redis joins processes.
    config = ClusterConfig(f"sqlite+aiosqlite:///{tmp_path / 'willow.db'}", "memory://")
    node = Node("workers", config, tmp_path / "workers.log", run_args=["--workers", "2"])
    try:
        node.start()
        with pytest.raises(NodeError, match="exited before it was ready"):
            node.wait_ready(STARTUP_TIMEOUT)
    finally:
        node.stop()
    assert "WILLOW_BROKER_URL" in node.log_text()


def test_redis_with_sqlite_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    config = ClusterConfig(
        f"sqlite+aiosqlite:///{tmp_path / 'willow.db'}", "redis://127.0.0.1:6379/0"
    )
    with pytest.raises(NodeError) as refused:
        willow(["run"], config.env(WILLOW_PORT="9"), timeout=30)
    assert "several nodes cannot share one SQLite file" in str(refused.value)
    assert not (tmp_path / "willow.db").exists()


def willow_sql(config: ClusterConfig, sql: str) -> None:
    """One statement on the test database, from outside any node."""

    async def run() -> None:
        engine = create_async_engine(config.database_url)
        try:
            async with engine.begin() as connection:
                await connection.execute(text(sql))
        finally:
            await engine.dispose()

    asyncio.run(run())
