"""Group commit: messages that arrive together are stored in one write, each stream's in the
order they were sent, every member hears them once in order, and a resend or a closed stream
in the batch does not cost the others their messages."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select

from chat.core import streams
from chat.core.appender import Appended
from chat.core.hub import Member
from chat.core.models import Event, Stream
from chat.core.services import Services
from chat.core.settings import Settings
from tests.conftest import node_services
from tests.services import DATABASE_URL

OPEN = Stream.kind != "closed"
# SQLite always (its batches go through their own writer thread); PostgreSQL too when the run
# has one (its batches go through the writer's own asyncpg connection), so CI tests both.
STORAGE = ["sqlite", "configured"] if DATABASE_URL else ["sqlite"]


@pytest.fixture(params=STORAGE)
async def services(
    request: pytest.FixtureRequest, settings: Settings, tmp_path: Path
) -> AsyncIterator[Services]:
    if request.param == "sqlite":
        settings = settings.model_copy(
            update={
                "database_url": f"sqlite+aiosqlite:///{tmp_path / 'batches.db'}",
                "broker_url": "memory://",
            }
        )
    async with node_services(settings) as built:
        yield built


async def _new_stream(services: Services, kind: str = "test") -> int:
    async with services.db.write() as session:
        return (await streams.new_stream(session, kind)).id


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


async def _stored(services: Services, stream_id: int) -> list[str]:
    async with services.db.read() as session:
        rows = await session.execute(
            select(Event.seq, Event.payload).where(Event.stream_id == stream_id).order_by(Event.seq)
        )
        return [f"{seq}:{payload['body']}" for seq, payload in rows]


async def test_messages_sent_together_are_stored_in_one_write_in_order(
    services: Services,
) -> None:
    chats = [await _new_stream(services) for _ in range(3)]
    members = [await _listen(services, chat) for chat in chats]
    batches_before = services.appender.batches
    tasks = [_send(services, chat, f"{chat}-{n}", f"m{n}") for n in range(1, 11) for chat in chats]
    results = await asyncio.gather(*tasks)
    assert services.appender.batches == batches_before + 1
    assert not any(result.duplicate for result in results)
    expected = [f"{n}:m{n}" for n in range(1, 11)]
    for chat, member in zip(chats, members, strict=True):
        assert await _stored(services, chat) == expected
        assert await _heard(member, 10) == expected


async def test_a_resend_in_a_batch_gets_the_first_copy_and_the_others_are_stored(
    services: Services,
) -> None:
    chat = await _new_stream(services)
    first = await _send(services, chat, "same", "hello")
    member = await _listen(services, chat)
    resend, second, third = await asyncio.gather(
        _send(services, chat, "same", "hello"),
        _send(services, chat, "two", "second"),
        _send(services, chat, "three", "third"),
    )
    assert resend.duplicate and resend.payload == first.payload
    assert (second.duplicate, second.payload["seq"]) == (False, 2)
    assert (third.duplicate, third.payload["seq"]) == (False, 3)
    # No seq is lost to the refused copy: the stream has no hole a reader would wait on.
    assert await _stored(services, chat) == ["1:hello", "2:second", "3:third"]
    # She hears the first copy once (from the replay when she joined), never the resend.
    assert await _heard(member, 3) == ["1:hello", "2:second", "3:third"]


async def test_two_copies_in_one_batch_are_stored_once_and_both_answered_with_it(
    services: Services,
) -> None:
    chat = await _new_stream(services)
    member = await _listen(services, chat)
    first, other, copy = await asyncio.gather(
        _send(services, chat, "same", "hello"),
        _send(services, chat, "two", "second"),
        _send(services, chat, "same", "hello"),
    )
    assert (first.duplicate, first.payload["seq"]) == (False, 1)
    assert (other.duplicate, other.payload["seq"]) == (False, 2)
    assert copy.duplicate and copy.payload == first.payload
    assert await _stored(services, chat) == ["1:hello", "2:second"]
    assert await _heard(member, 2) == ["1:hello", "2:second"]


async def test_a_closed_stream_refuses_its_message_and_the_rest_of_the_batch_is_stored(
    services: Services,
) -> None:
    open_chat = await _new_stream(services)
    ended_chat = await _new_stream(services, kind="closed")
    kept, refused = await asyncio.gather(
        _send(services, open_chat, "a", "still here"),
        _send(services, ended_chat, "b", "too late"),
        return_exceptions=True,
    )
    assert isinstance(kept, Appended) and kept.payload["seq"] == 1
    assert isinstance(refused, streams.StreamClosed)
    assert await _stored(services, open_chat) == ["1:still here"]
    assert await _stored(services, ended_chat) == []


@pytest.mark.parametrize("count", [1, 250])
async def test_every_message_is_answered_whatever_the_batch_size(
    services: Services, count: int
) -> None:
    chat = await _new_stream(services)
    results = await asyncio.gather(*(_send(services, chat, str(n), "x") for n in range(count)))
    assert sorted(int(r.payload["seq"]) for r in results) == list(range(1, count + 1))
    assert len(await _stored(services, chat)) == count
