"""One unit of work: news only after the commit, nothing on a rollback, nothing lost or doubled
when publishing fails after the commit."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import orjson
import pytest
from sqlalchemy import func, select

from chat.core import streams
from chat.core.broker import Broker
from chat.core.hub import Member
from chat.core.models import AuditEntry, Conversation, Event, VisitorSession
from chat.core.services import Services
from tests.wsclient import Server, connected_pair, visitor


class Boom(RuntimeError):
    """The fault a test injects."""


@contextmanager
def publishing_fails_once(broker: Broker) -> Iterator[list[int]]:
    """The broker's next publish raises, as Redis dropping the connection would; later ones
    work. Yields how many messages the failed publish carried."""
    real = broker.publish_many
    failed: list[int] = []

    async def once(messages: list[tuple[str, bytes]]) -> None:
        if not failed:
            failed.append(len(messages))
            raise Boom("the broker is gone for a moment")
        await real(messages)

    broker.publish_many = once  # type: ignore[method-assign]
    try:
        yield failed
    finally:
        broker.publish_many = real  # type: ignore[method-assign]


async def _listener(services: Services, stream_id: int) -> Member:
    member = Member(64, services.fetch_after, staff=True)
    await services.hub.join_stream(stream_id, member, 0)
    return member


async def _heard(member: Member, wait: float = 0.3) -> list[str]:
    """What reached the member within `wait` seconds (news may cross Redis first)."""
    texts = []
    while True:
        try:
            texts.append(await asyncio.wait_for(member.queue.get(), wait))
        except TimeoutError:
            return texts


async def _new_stream(services: Services) -> int:
    async with services.change() as tx:
        stream = await streams.new_stream(tx.session, "conversation")
    return stream.id


async def test_news_goes_out_only_after_the_commit_and_in_order(services: Services) -> None:
    stream_id = await _new_stream(services)
    member = await _listener(services, stream_id)
    async with services.change() as tx:
        await tx.append(stream_id, {"type": "first"})
        await tx.append(stream_id, {"type": "second"}, staff_only=True)
        tx.audit("staff:1", "test.action", f"conversation:{stream_id}")
        # Nothing is said while the transaction is open.
        assert await _heard(member) == []
    heard = [orjson.loads(text) for text in await _heard(member)]
    assert [(e["type"], e["seq"]) for e in heard] == [("first", 1), ("second", 2)]
    async with services.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(AuditEntry)) == 1


async def test_a_rollback_says_nothing_and_keeps_nothing(services: Services) -> None:
    stream_id = await _new_stream(services)
    member = await _listener(services, stream_id)
    handed: list[object] = []

    async def receive(events: object) -> None:
        handed.append(events)

    services.domain_events = receive
    with pytest.raises(Boom):
        async with services.change() as tx:
            await tx.append(stream_id, {"type": "never"})
            tx.announce("staff", {"type": "never"})
            tx.audit("staff:1", "test.action", "conversation:1")
            tx.emit("never")
            raise Boom
    assert await _heard(member) == [] and handed == []
    async with services.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Event)) == 0
        assert await session.scalar(select(func.count()).select_from(AuditEntry)) == 0


async def test_joined_actions_commit_once_and_domain_events_follow_the_commit(
    services: Services,
) -> None:
    stream_id = await _new_stream(services)
    handed: list[list[object]] = []

    async def receive(events: object) -> None:
        assert isinstance(events, list)
        # The change is already committed when the events are handed over.
        async with services.db.read() as session:
            assert await session.scalar(select(func.count()).select_from(Event)) == 2
        handed.append(events)

    services.domain_events = receive
    async with services.change() as outer:
        await outer.append(stream_id, {"type": "one"})
        outer.emit("first")
        async with services.change(outer) as inner:
            assert inner is outer
            await inner.append(stream_id, {"type": "two"})
            inner.emit("second")
        assert handed == []
    assert handed == [["first", "second"]]


async def test_a_publish_that_fails_after_commit_loses_and_doubles_nothing(
    server: Server,
) -> None:
    """The adviser ends the chat; the broker fails as the news goes out. The ending is stored,
    her open page still hears it once, and a page that reconnects resumes it once."""
    assert server.services is not None
    her, adviser, conversation, token = await connected_pair(server)
    await her.send(
        {"type": "message", "conversation_id": conversation, "client_id": "m", "body": "hi"}
    )
    said = await adviser.receive("message", client_id="m")
    with publishing_fails_once(server.services.broker) as failed:
        await adviser.send({"type": "end", "conversation_id": conversation})
        ended = await her.receive("ended", timeout=5)
    assert failed == [1]
    assert ended["by"] == "adviser" and ended["seq"] == said["seq"] + 1
    async with server.services.db.read() as session:
        stored = await session.get(Conversation, conversation)
        assert stored is not None and stored.status == "ended"
    await her.drain(0.3)
    assert len(her.of_type("ended")) == 1
    await her.close()

    again, _ = await visitor(
        server, token, resume=[{"conversation_id": conversation, "last_seq": said["seq"]}]
    )
    resumed = await again.receive("ended")
    assert resumed["seq"] == ended["seq"]
    await again.drain(0.3)
    assert len(again.of_type("ended")) == 1
    for client in (again, adviser):
        await client.close()


async def test_a_message_whose_publish_fails_is_acked_delivered_and_not_doubled(
    server: Server,
) -> None:
    assert server.services is not None
    her, adviser, conversation, _ = await connected_pair(server)
    with publishing_fails_once(server.services.broker) as failed:
        message = {"type": "message", "conversation_id": conversation, "client_id": "x"}
        await her.send({**message, "body": "are you there"})
        ack = await her.receive("ack", client_id="x")
        assert ack["duplicate"] is False
        assert (await adviser.receive("message", client_id="x"))["seq"] == ack["seq"]
        # Her page did not hear back in time and sends it again: still one message.
        await her.send({**message, "body": "are you there"})
        assert (await her.receive("ack", client_id="x"))["duplicate"] is True
    assert failed == [1]
    await adviser.drain(0.3)
    assert len(adviser.of_type("message")) == 1
    async with server.services.db.read() as session:
        count = await session.scalar(
            select(func.count()).select_from(Event).where(Event.client_id == "x")
        )
    assert count == 1
    for client in (her, adviser):
        await client.close()


async def test_a_quick_exit_that_fails_halfway_changes_nothing(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Her session ends and her chat ends in one commit: a fault between the two leaves both
    as they were, so pressing the button again does the whole of it."""
    assert server.services is not None
    her, adviser, conversation, token = await connected_pair(server)
    from chat.helpline import conversations

    real_end = conversations.end_conversation

    async def end_then_fail(*args: object, **kwargs: object) -> object:
        await real_end(*args, **kwargs)  # type: ignore[arg-type]
        raise Boom("the node fails after ending the chat")

    monkeypatch.setattr(conversations, "end_conversation", end_then_fail)
    body = f'{{"token": "{token}"}}'
    async with server.http() as http:
        assert (await http.post("/api/visitor/exit", content=body)).status_code == 500
    async with server.services.db.read() as session:
        stored = await session.get(Conversation, conversation)
        assert stored is not None and stored.status == "active"
        she = await session.get(VisitorSession, stored.visitor_id)
        assert she is not None and she.ended_at is None
    await adviser.drain(0.3)
    assert adviser.of_type("ended") == []

    monkeypatch.setattr(conversations, "end_conversation", real_end)
    async with server.http() as http:
        assert (await http.post("/api/visitor/exit", content=body)).status_code == 204
    assert (await adviser.receive("ended"))["by"] == "quick_exit"
    for client in (her, adviser):
        await client.close()
