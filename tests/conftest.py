"""One suite, two set-ups: SQLite + memory by default; PostgreSQL + Redis when CI names them."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from chat.app import create_app
from chat.core.models import Base
from chat.core.services import Services
from chat.core.settings import Settings
from chat.core.wsprotocol import ChatWebSocketProtocol
from chat.schema import import_all_tables, upgrade
from tests.services import BROKER_URL, DATABASE_URL, scratch_postgres
from tests.wsclient import Server

# Most tests drive "take next" themselves with advisers they just made: they run with picking
# from the queue and no training needed (also in the servers they start, which inherit this).
# The routing tests set "auto" and training explicitly (tests/chat/test_routing_server.py).
os.environ.setdefault("WILLOW_ASSIGNMENT", "pick")
os.environ.setdefault("WILLOW_CHATS_NEED_TRAINING", "false")
# The learned risk layer starts a model process per app: most tests leave it off for speed;
# tests/moderation/test_learned_server.py turns it on.
os.environ.setdefault("WILLOW_LEARNED_RISK", "off")


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str | None]:
    if not DATABASE_URL:
        yield None
        return
    with scratch_postgres(DATABASE_URL) as url:

        async def migrate() -> None:
            engine = create_async_engine(url)
            await upgrade(engine)
            await engine.dispose()

        asyncio.run(migrate())
        yield url


async def _empty_postgres(url: str) -> None:
    import_all_tables()
    engine = create_async_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with engine.begin() as connection:
        # A server stopped mid-request at the end of the previous test can leave a transaction
        # open on a connection nobody will use again; it would hold TRUNCATE forever.
        await connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await engine.dispose()


@pytest.fixture
async def settings(tmp_path: Path, postgres_database: str | None, broker_prefix: str) -> Settings:
    if postgres_database is not None:
        await _empty_postgres(postgres_database)
        database_url = postgres_database
    else:
        database_url = f"sqlite+aiosqlite:///{tmp_path / 'willow.db'}"
    return Settings(
        env="test",
        secret_key=secrets.token_urlsafe(48),
        database_url=database_url,
        broker_url=BROKER_URL or "memory://",
        broker_prefix=broker_prefix,
        send_queue_size=64,
        # Every test client comes from 127.0.0.1; the per-address limits have their own tests.
        sessions_per_address_per_hour=0,
        joins_per_address_per_hour=0,
        sockets_per_address=0,
        room_seats_per_address=0,
    )


@pytest.fixture
def broker_prefix() -> str:
    return f"willow-test-{secrets.token_hex(4)}:"


@asynccontextmanager
async def running_server(
    settings: Settings,
    send_buffer: int | None = None,
    configure: Callable[[FastAPI], None] | None = None,
) -> AsyncIterator[Server]:
    """A real Willow server on a free loopback port, in this test's event loop.

    `send_buffer` fixes the kernel send buffer of its sockets (accepted sockets inherit it
    from the listener), so a test can fill a slow reader's line without megabytes of data.
    `configure` may adjust the app before it serves (e.g. shorter grace periods for rooms).
    """
    app = create_app(settings)
    if configure is not None:
        configure(app)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if send_buffer is not None:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
    listener.bind(("127.0.0.1", 0))
    # As `willow run` does: Willow itself decides which forwarded header to believe.
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        ws_per_message_deflate=False,
        proxy_headers=False,
        ws=ChatWebSocketProtocol,
    )
    instance = uvicorn.Server(config)
    task = asyncio.create_task(instance.serve(sockets=[listener]))
    while not instance.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = listener.getsockname()[1]
    try:
        yield Server(f"http://127.0.0.1:{port}", app.state.services, app)
    finally:
        instance.should_exit = True
        await asyncio.wait_for(task, 10)
        listener.close()


@asynccontextmanager
async def node_services(settings: Settings) -> AsyncIterator[Services]:
    """A node's services (database, broker, hub) without a web server, migrated and connected."""
    import_all_tables()
    built = Services.build(settings)
    if built.db.is_sqlite:
        await upgrade(built.db.engine)
    await built.start()
    try:
        yield built
    finally:
        await built.stop_background()
        await built.broker.close()
        await built.db.dispose()


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    async with node_services(settings) as built:
        yield built


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[Server]:
    async with running_server(settings) as running:
        yield running
