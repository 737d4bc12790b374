"""Room seats and mentors across two real nodes when one is killed (issue 12, item 4): seats
of women who never come back are freed, a mentor who reconnects counts once, a room with no
mentor takes no participant's message and closes on time."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from peers.models import RoomParticipant, RoomSession
from tests.cluster.presence_nodes import (
    MENTOR_GRACE,
    NOTICED,
    SEAT_GRACE,
    Pair2,
    presence_config,
    presence_nodes,
    two,
)
from tests.cluster.talk import read_what_is_left
from tests.peers.roomkit import mentor_in, said, say, trained_mentor, woman_in

pytestmark = pytest.mark.cluster
__all__ = ["presence_config", "presence_nodes", "two"]


async def room_row(two: Pair2, session_id: int) -> RoomSession:
    async with two.services.db.read() as session:
        found = await session.get(RoomSession, session_id)
        assert found is not None
        return found


async def seats_held(two: Pair2, session_id: int) -> set[int]:
    async with two.services.db.read() as session:
        return set(
            await session.scalars(
                select(RoomParticipant.id).where(
                    RoomParticipant.session_id == session_id, RoomParticipant.left_at.is_(None)
                )
            )
        )


async def eventually(check: object, timeout: float) -> float:
    """Wait until the async check is true; how long it took."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while not await check():  # type: ignore[operator]
        if loop.time() - start > timeout:
            raise AssertionError(f"not so within {timeout}s")
        await asyncio.sleep(0.1)
    return loop.time() - start


async def test_when_the_mentors_node_dies_seats_are_freed_and_the_room_closes_on_time(
    two: Pair2,
) -> None:
    mentor, state = await mentor_in(two.a, "newcomers", await trained_mentor(two.a))
    session_id = int(state["stream_id"])
    on_a = await woman_in(two.a, "newcomers")
    on_b = await woman_in(two.b, "newcomers")
    await said(on_b.client, "before", "the mentor is here")

    two.process(two.a).kill()
    for client in (mentor, on_a.client):
        await read_what_is_left(client)

    # Within the dead node's lease the room counts no mentor, and takes no message from her.
    async def no_mentor() -> bool:
        return (await room_row(two, session_id)).mentors_present == 0

    await eventually(no_mentor, NOTICED)
    await say(on_b.client, "alone", "is anyone there?")
    refused = await on_b.client.receive("error", client_id="alone")
    assert refused["ref"] == "room_message"
    assert not [e for e in on_b.client.of_type("ack") if e.get("client_id") == "alone"]

    # The woman who was on the dead node never comes back: her seat goes after the grace.
    async def only_b_seated() -> bool:
        return await seats_held(two, session_id) == {on_b.participant}

    await eventually(only_b_seated, SEAT_GRACE + NOTICED)
    # With no mentor back, the room closes on time, and the woman on the live node is told.
    await on_b.client.receive("room_closed", timeout=MENTOR_GRACE + NOTICED)
    assert (await room_row(two, session_id)).status == "closed"
    await on_b.client.close()


async def test_a_mentor_who_reconnects_after_her_node_died_counts_once(two: Pair2) -> None:
    login = await trained_mentor(two.a)
    mentor, state = await mentor_in(two.a, "mothers", login)
    session_id = int(state["stream_id"])
    her = await woman_in(two.b, "mothers")

    two.process(two.a).kill()
    await read_what_is_left(mentor)
    again, state_again = await mentor_in(two.b, "mothers", login)
    assert state_again["stream_id"] == session_id

    # Once the dead node's lease lapsed, the room counts her once.
    await asyncio.sleep(NOTICED)
    assert (await room_row(two, session_id)).mentors_present == 1
    await said(her.client, "here", "hello again")

    # She leaves normally: no mentor is left, the room takes no message and closes on time.
    await again.close()

    async def no_mentor() -> bool:
        return (await room_row(two, session_id)).mentors_present == 0

    await eventually(no_mentor, 2)
    await say(her.client, "late", "anyone?")
    assert (await her.client.receive("error", client_id="late"))["ref"] == "room_message"
    await her.client.receive("room_closed", timeout=MENTOR_GRACE + NOTICED)
    assert (await room_row(two, session_id)).status == "closed"
    await her.client.close()
