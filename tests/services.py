"""Which storage and broker the suite runs on: SQLite + memory, or the real engines CI names."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

DATABASE_URL = os.environ.get("WILLOW_TEST_DATABASE_URL", "")
BROKER_URL = os.environ.get("WILLOW_TEST_BROKER_URL", "")
REQUIRE = os.environ.get("WILLOW_TEST_REQUIRE_SERVICES") == "1"


def need(url: str, what: str) -> str:
    """The URL of a real service, or skip (fail when CI requires the services)."""
    if url:
        return url
    message = f"{what} not configured (set WILLOW_TEST_{what.upper()}_URL)"
    if REQUIRE:
        pytest.fail(message)
    pytest.skip(message)


def redis_url() -> str:
    return need(BROKER_URL, "broker")


def postgres_url() -> str:
    return need(DATABASE_URL, "database")


@contextmanager
def scratch_postgres(base_url: str) -> Iterator[str]:
    """A new empty PostgreSQL database for this test run, dropped afterwards."""
    import asyncpg

    name = f"willow_test_{secrets.token_hex(6)}"
    plain = base_url.replace("postgresql+asyncpg://", "postgresql://")
    head, _, _db = plain.rpartition("/")

    async def run(sql: str) -> None:
        connection = await asyncpg.connect(plain)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{head.replace('postgresql://', 'postgresql+asyncpg://')}/{name}"
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
