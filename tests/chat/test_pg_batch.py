"""PostgreSQL's batch writer (chat/core/pg_batch.py): the appender's batches on a connection of
its own. A batch PostgreSQL refuses is reported to each of its senders and costs nothing stored
before; a connection PostgreSQL drops is made again without losing a message; the writer keeps
one connection, and closes it with the node. (What every batch must store, and how, is
tests/chat/test_appender.py, which runs on PostgreSQL too.)"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import orjson
import pytest
from sqlalchemy import select, text

from chat.core import streams
from chat.core.appender import Appended
from chat.core.db import Database
from chat.core.hub import Member
from chat.core.models import Event, Stream
from chat.core.pg_batch import APPLICATION_NAME
from chat.core.services import Services
from chat.core.settings import Settings
from tests.conftest import node_services
from tests.services import postgres_url

OPEN = Stream.kind != "closed"
_WRITERS = text(
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE datname = current_database() AND application_name = :name"
)
_END_WRITERS = text(
    "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
    " WHERE datname = current_database() AND application_name = :name) AS ended"
)


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    postgres_url()  # PostgreSQL only: skipped without it (failed when CI requires it)
    async with node_services(settings) as built:
        yield built


async def _new_stream(services: Services) -> int:
    async with services.db.write() as session:
        return (await streams.new_stream(session, "test")).id


async def _listen(services: Services, stream_id: int) -> Member:
    member = Member(256, services.fetch_after)
    await services.hub.join_stream(stream_id, member, 0)
    return member


def _send(services: Services, stream_id: int, client_id: str, body: str) -> asyncio.Task[Appended]:
    return asyncio.create_task(
        services.appender.append(
            stream_id,
            {"type": "message", "body": body},
            sender="visitor",
            client_id=client_id,
            guard=OPEN,
        )
    )


async def _heard(member: Member, count: int) -> list[str]:
    got = [orjson.loads(await asyncio.wait_for(member.queue.get(), 5)) for _ in range(count)]
    await asyncio.sleep(0.05)
    assert member.queue.empty(), "a message was heard twice"
    return [f"{event['seq']}:{event['body']}" for event in got]


async def _stored(db: Database, stream_id: int) -> list[str]:
    async with db.read() as session:
        rows = await session.execute(
            select(Event.seq, Event.payload).where(Event.stream_id == stream_id).order_by(Event.seq)
        )
        return [f"{seq}:{payload['body']}" for seq, payload in rows]


async def _writer_connections(db: Database) -> int:
    async with db.read() as session:
        return int((await session.execute(_WRITERS, {"name": APPLICATION_NAME})).scalar_one())


async def _until(check: Callable[[], Awaitable[bool]], seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "still not so after 5 s"
        await asyncio.sleep(0.05)


async def test_a_batch_postgresql_refuses_is_reported_to_each_sender_and_loses_nothing_stored(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    chat = await _new_stream(services)
    member = await _listen(services, chat)
    await _send(services, chat, "one", "first")
    caplog.set_level(logging.INFO)
    # A client_id longer than its column: PostgreSQL refuses the INSERT, and the whole batch.
    results = await asyncio.gather(
        _send(services, chat, "two", "marigold"),
        _send(services, chat, "x" * 65, "lanternfish"),
        return_exceptions=True,
    )
    for result in results:
        assert isinstance(result, Exception), "a sender was told her message was stored"
        assert not isinstance(result, streams.StreamClosed)
    assert await _stored(services.db, chat) == ["1:first"]
    # Logged once for the batch, without what she wrote.
    assert "storing 2 messages: outcome unknown" in caplog.text
    assert "marigold" not in caplog.text and "lanternfish" not in caplog.text
    # Her page sends it again with the same client_id: stored once, with the next seq.
    again = await _send(services, chat, "two", "marigold")
    assert (again.duplicate, again.payload["seq"]) == (False, 2)
    assert await _stored(services.db, chat) == ["1:first", "2:marigold"]
    assert await _heard(member, 2) == ["1:first", "2:marigold"]


async def test_a_connection_postgresql_drops_is_made_again_and_no_message_is_lost(
    services: Services,
) -> None:
    chat = await _new_stream(services)
    member = await _listen(services, chat)
    await _send(services, chat, "one", "first")
    async with services.db.read() as session:
        ended = await session.execute(_END_WRITERS, {"name": APPLICATION_NAME})
        assert ended.scalar_one() == 1
    await _until(lambda: _gone(services.db))
    results = await asyncio.gather(
        _send(services, chat, "two", "second"), _send(services, chat, "three", "third")
    )
    assert [(r.duplicate, r.payload["seq"]) for r in results] == [(False, 2), (False, 3)]
    assert await _stored(services.db, chat) == ["1:first", "2:second", "3:third"]
    assert await _heard(member, 3) == ["1:first", "2:second", "3:third"]
    assert await _writer_connections(services.db) == 1


async def _gone(db: Database) -> bool:
    return await _writer_connections(db) == 0


async def test_the_writer_keeps_one_connection_and_closes_it_with_the_node(
    settings: Settings,
) -> None:
    postgres_url()
    async with node_services(settings) as services:
        chat = await _new_stream(services)
        batches = services.appender.batches
        for n in range(1, 6):
            # One after another: five batches, all on the writer's one connection.
            appended = await _send(services, chat, str(n), "x")
            assert appended.payload["seq"] == n
            assert await _writer_connections(services.db) == 1
        assert services.appender.batches == batches + 5
    after = Database(settings.database_url)
    try:
        await _until(lambda: _gone(after))
    finally:
        await after.dispose()
