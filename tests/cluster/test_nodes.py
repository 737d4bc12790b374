"""The harness itself: reading `willow staff add` output and building a node's environment."""

from __future__ import annotations

import pytest

from tests.cluster.nodes import ClusterConfig, parse_password

pytestmark = pytest.mark.cluster


def test_parse_password_reads_what_staff_add_prints() -> None:
    out = "created adviser 'robin'; password (shown once): Zx-9_kQ2mN4pLr7w\n"
    assert parse_password(out) == "Zx-9_kQ2mN4pLr7w"


def test_parse_password_says_what_it_got_when_there_is_none() -> None:
    with pytest.raises(ValueError, match="no password in the output"):
        parse_password("willow: a staff account named 'robin' already exists\n")


def test_node_environment_keeps_none_of_the_callers_willow_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WILLOW_EXIT_URL", "https://example.org/")
    config = ClusterConfig("postgresql+asyncpg://postgres@127.0.0.1/db", "redis://127.0.0.1:6379/0")
    env = config.env(WILLOW_PORT="8123")
    assert "WILLOW_EXIT_URL" not in env
    assert env["WILLOW_PORT"] == "8123" and env["WILLOW_ENV"] == "test"
    assert len(env["WILLOW_SECRET_KEY"]) == 48
    assert env["WILLOW_BROKER_PREFIX"].startswith("willow-cluster-")
    assert ClusterConfig(config.database_url, config.broker_url).secret_key != config.secret_key
