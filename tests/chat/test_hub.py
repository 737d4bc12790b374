"""The hub's promise: every member gets each event of a stream once, in order, and only what
it may see — even when news arrives out of order, twice, or not at all."""

from __future__ import annotations

import asyncio

import orjson

from chat.core import streams
from chat.core.hub import Member, envelope, stream_channel
from chat.core.services import Services


async def _store(
    services: Services, stream_id: int, count: int, staff_every: int = 0
) -> list[bytes]:
    """Store `count` events and return their envelopes, as actions would publish them."""
    out = []
    for i in range(1, count + 1):
        staff_only = bool(staff_every) and i % staff_every == 0
        async with services.db.write() as session:
            payload = await streams.append(
                session, stream_id, {"type": "note", "n": i}, staff_only=staff_only
            )
        out.append(envelope(payload, stream_id, payload["seq"], staff_only))
    return out


async def _received(member: Member, count: int) -> list[int]:
    got = []
    for _ in range(count):
        got.append(orjson.loads(await asyncio.wait_for(member.queue.get(), 5))["n"])
    assert member.queue.empty()
    return got


async def _new_stream(services: Services) -> int:
    async with services.db.write() as session:
        return (await streams.new_stream(session, "test")).id


async def test_out_of_order_and_repeated_news_arrives_once_in_order(services: Services) -> None:
    stream_id = await _new_stream(services)
    member = Member(64, services.fetch_after)
    await services.hub.join_stream(stream_id, member, 0)
    envelopes = await _store(services, stream_id, 6)
    broker = services.broker
    # Publish 1, 3, 2, 2, 6, 4, 5, 1: repeats and overtaking, as several nodes can cause.
    for index in (0, 2, 1, 1, 5, 3, 4, 0):
        await broker.publish(stream_channel(stream_id), envelopes[index])
    assert await _received(member, 6) == [1, 2, 3, 4, 5, 6]


async def test_a_lost_message_is_filled_from_the_database(services: Services) -> None:
    stream_id = await _new_stream(services)
    member = Member(64, services.fetch_after)
    await services.hub.join_stream(stream_id, member, 0)
    envelopes = await _store(services, stream_id, 4)
    for index in (0, 3):  # 2 and 3 never arrive as news
        await services.broker.publish(stream_channel(stream_id), envelopes[index])
    assert await _received(member, 4) == [1, 2, 3, 4]


async def test_staff_only_events_reach_staff_and_never_visitors(services: Services) -> None:
    stream_id = await _new_stream(services)
    visitor, adviser = (
        Member(64, services.fetch_after),
        Member(64, services.fetch_after, staff=True),
    )
    for member in (visitor, adviser):
        await services.hub.join_stream(stream_id, member, 0)
    for message in await _store(services, stream_id, 6, staff_every=3):
        await services.broker.publish(stream_channel(stream_id), message)
    assert await _received(adviser, 6) == [1, 2, 3, 4, 5, 6]
    assert await _received(visitor, 4) == [1, 2, 4, 5]

    late_visitor = Member(64, services.fetch_after)
    await services.hub.join_stream(stream_id, late_visitor, 1)
    assert await _received(late_visitor, 3) == [2, 4, 5]


async def test_a_full_queue_marks_the_member_overflowed_without_waiting(services: Services) -> None:
    member = Member(8, services.fetch_after)
    for i in range(8):
        member.offer(str(i))
    assert not member.overflowed
    member.offer("one too many")
    assert member.overflowed and member.queue.qsize() == 8


async def test_an_event_for_one_reader_reaches_her_alone_and_others_keep_their_order(
    services: Services,
) -> None:
    stream_id = await _new_stream(services)
    her, other, adviser = (
        Member(64, services.fetch_after),
        Member(64, services.fetch_after),
        Member(64, services.fetch_after, staff=True),
    )
    her.identities.add("participant:1")
    for member in (her, other, adviser):
        await services.hub.join_stream(stream_id, member, 0)
    published = []
    for n in range(1, 5):
        to = "participant:1" if n == 2 else None
        async with services.db.write() as session:
            payload = await streams.append(session, stream_id, {"type": "note", "n": n}, to=to)
        published.append(envelope(payload, stream_id, payload["seq"], to=to))
    for message in published:
        await services.broker.publish(stream_channel(stream_id), message)
    assert await _received(her, 4) == [1, 2, 3, 4]
    # The others count its seq without seeing it, so nothing is fetched to fill a gap.
    assert await _received(other, 3) == [1, 3, 4]
    assert await _received(adviser, 3) == [1, 3, 4]

    for identities, expected in ((set(), [3, 4]), ({"participant:1"}, [2, 3, 4])):
        late = Member(64, services.fetch_after)
        late.identities |= identities
        await services.hub.join_stream(stream_id, late, 1)
        assert await _received(late, len(expected)) == expected
