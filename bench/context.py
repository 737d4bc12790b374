"""What every scenario gets: the profile, where to write, and nodes started and stopped for it."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from bench.profiles import Profile
from bench.seed import Seeded, create_scratch_database, drop_scratch_database, seed
from bench.servers import ServerProcess, WillowConfig, start_raw, start_socketio, start_willow

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


def _first_env(*names: str, default: str) -> str:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return default


@dataclass
class Context:
    profile: Profile
    out: Path
    scratch: Path  # temporary files (SQLite databases), removed after the run

    @property
    def logs(self) -> Path:
        return self.out / "logs"

    @property
    def postgres_url(self) -> str:
        return _first_env(
            "WILLOW_BENCH_DATABASE_URL", "WILLOW_TEST_DATABASE_URL", default=DEFAULT_POSTGRES
        )

    @property
    def redis_url(self) -> str:
        return _first_env(
            "WILLOW_BENCH_BROKER_URL", "WILLOW_TEST_BROKER_URL", default=DEFAULT_REDIS
        )

    def sqlite_url(self) -> str:
        folder = self.scratch / secrets.token_hex(4)
        folder.mkdir(parents=True)
        return f"sqlite+aiosqlite:///{folder / 'willow.db'}"

    @contextlib.asynccontextmanager
    async def willow(
        self,
        visitors: int,
        advisers: int,
        settings: dict[str, str] | None = None,
        staff_role: str = "adviser",
        database: str = "sqlite",
    ) -> AsyncIterator[tuple[ServerProcess, Seeded]]:
        """One Willow node with its accounts, stopped afterwards: on a fresh SQLite database,
        or (`database="postgresql"`) on a scratch PostgreSQL database dropped afterwards."""
        scratch_pg = None
        if database == "postgresql":
            scratch_pg = url = await create_scratch_database(self.postgres_url)
        elif database == "sqlite":
            url = self.sqlite_url()
        else:
            raise ValueError(f"unknown database {database!r}: sqlite or postgresql")
        try:
            config = WillowConfig(database_url=url, extra=settings or {})
            seeded = await seed(url, config.secret_key, visitors, advisers, staff_role)
            server = await start_willow(config, self.logs)
            try:
                yield server, seeded
            finally:
                server.stop()
        finally:
            if scratch_pg is not None:
                await drop_scratch_database(self.postgres_url, scratch_pg)

    @contextlib.asynccontextmanager
    async def willow_cluster(
        self, nodes: int, visitors: int, advisers: int, broker_url: str
    ) -> AsyncIterator[tuple[list[ServerProcess], Seeded]]:
        """Nodes sharing a scratch PostgreSQL database (dropped afterwards) and one broker URL."""
        database = await create_scratch_database(self.postgres_url)
        servers: list[ServerProcess] = []
        try:
            config = WillowConfig(database_url=database, broker_url=broker_url)
            seeded = await seed(database, config.secret_key, visitors, advisers)
            for index in range(nodes):
                servers.append(await start_willow(config, self.logs, name=f"willow-node{index}"))
            yield servers, seeded
        finally:
            for server in servers:
                server.stop()
            await drop_scratch_database(self.postgres_url, database)

    @contextlib.asynccontextmanager
    async def raw(self) -> AsyncIterator[ServerProcess]:
        server = await start_raw(self.logs)
        try:
            yield server
        finally:
            server.stop()

    @contextlib.asynccontextmanager
    async def socketio(self) -> AsyncIterator[ServerProcess]:
        server = await start_socketio(self.logs)
        try:
            yield server
        finally:
            server.stop()
