"""The learned risk layer's worker process lives and dies with its node."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from moderation.safeguarding.learned import WORKER_MODULE
from tests.cluster.nodes import ClusterConfig, Node
from tests.services import postgres_url, redis_url, scratch_postgres

pytestmark = pytest.mark.cluster

WORKER_STARTS_WITHIN = 60.0
WORKER_ENDS_WITHIN = 15.0


@pytest.fixture
def new_database() -> Iterator[ClusterConfig]:
    database, broker = postgres_url(), redis_url()
    with scratch_postgres(database) as url:
        yield ClusterConfig(database_url=url, broker_url=broker)


def _worker_of(node: Node) -> psutil.Process:
    """The node's learned-layer worker: the child running the worker's module."""
    assert node.process is not None
    deadline = time.monotonic() + WORKER_STARTS_WITHIN
    while time.monotonic() < deadline:
        for child in psutil.Process(node.process.pid).children():
            if WORKER_MODULE in child.cmdline():
                return child
        time.sleep(0.2)
    raise AssertionError(f"no learned worker under node {node.name}:\n{node.log_text()}")


def test_a_killed_node_leaves_no_learned_worker_behind(
    new_database: ClusterConfig, tmp_path: Path
) -> None:
    """A node that dies outright (SIGKILL) cannot stop its worker; the worker notices and
    ends, rather than holding its model's memory for ever."""
    env = {"WILLOW_LEARNED_RISK": "on"}
    node = Node("learned", new_database, tmp_path / "learned.log", extra_env=env)
    node.start()
    worker: psutil.Process | None = None
    try:
        node.wait_ready()
        worker = _worker_of(node)
        node.kill()
        worker.wait(timeout=WORKER_ENDS_WITHIN)
        assert not worker.is_running()
    finally:
        node.stop()
        if worker is not None and worker.is_running():
            worker.kill()
