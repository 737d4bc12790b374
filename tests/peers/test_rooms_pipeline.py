"""Rooms through the one message pipeline: her helplines card is kept in the room's stream for
her alone, a resend is a duplicate before any limit, and a message reads nothing before it is
written (her standing is on her seat)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import update

from chat.core.clock import now
from peers.models import RoomParticipant
from peers.seats import held_seat
from tests.chat.test_message_pipeline import PER_WINDOW, statements
from tests.peers.roomkit import RoomServer, mentor_in, said, say, slowed_then_muted, woman_in
from tests.wsclient import visitor

RISKY = "I am going to kill myself tonight"


async def test_her_helplines_card_comes_back_when_she_reloads(rooms: RoomServer) -> None:
    mentor, _ = await mentor_in(rooms.server)
    her = await woman_in(rooms.server)
    other = await woman_in(rooms.server)
    ack = await said(her.client, "r1", RISKY)
    card = await her.client.receive("helplines")
    assert card["stream_id"] == her.stream_id and card["seq"] > ack["seq"]
    assert card["helplines"] and card["level"] in ("high", "imminent")
    await mentor.receive("room_alert", message_seq=ack["seq"])
    await other.client.receive("room_message", client_id="r1")

    # She reloads the page: a new socket, the same session, back into the room from the start.
    await her.client.close()
    back, _ = await visitor(rooms.server, her.token)
    await back.send({"type": "room_join", "room": "newcomers", "accept_rules": True})
    welcome = await back.receive("room_welcome")
    assert welcome["returning"] is True
    again = await back.receive("helplines")
    assert again["seq"] == card["seq"] and again["helplines"] == card["helplines"]
    # Her card is hers alone, and the staff-only alert stays with staff.
    await other.client.drain(0.3)
    assert other.client.of_type("helplines") == [] and other.client.of_type("room_alert") == []
    assert back.of_type("room_alert") == []
    assert mentor.of_type("helplines") == []
    for client in (back, other.client, mentor):
        await client.close()


async def test_someone_else_who_rejoins_does_not_get_her_card(rooms: RoomServer) -> None:
    mentor, _ = await mentor_in(rooms.server)
    her = await woman_in(rooms.server)
    other = await woman_in(rooms.server)
    await said(her.client, "r1", RISKY)
    await her.client.receive("helplines")
    await other.client.close()
    back, _ = await visitor(rooms.server, other.token)
    await back.send({"type": "room_join", "room": "newcomers", "accept_rules": True})
    await back.receive("room_welcome")
    await back.receive("room_message", client_id="r1")
    await back.drain(0.3)
    assert back.of_type("helplines") == []
    for client in (her.client, back, mentor):
        await client.close()


async def test_a_resend_of_an_acked_room_message_is_a_duplicate_not_too_fast(
    rooms: RoomServer,
) -> None:
    mentor, _ = await mentor_in(rooms.server)
    her = await woman_in(rooms.server)
    for i in range(PER_WINDOW):
        await say(her.client, f"m{i}", f"room line {i}")
    acks = [await her.client.receive("ack", client_id=f"m{i}") for i in range(PER_WINDOW)]
    await say(her.client, "m0", "room line 0")
    again = await her.client.receive("ack", client_id="m0")
    assert again["duplicate"] is True and again["seq"] == acks[0]["seq"]
    await say(her.client, "m9", "and another")
    refused = await her.client.receive("error", code="refused", client_id="m9")
    assert refused["reason"] == "too_fast" and 1 <= refused["retry_after"] <= 10
    for client in (her.client, mentor):
        await client.close()


async def test_a_room_message_makes_no_read_before_its_write(rooms: RoomServer) -> None:
    mentor, _ = await mentor_in(rooms.server)
    her = await woman_in(rooms.server)
    await said(her.client, "warm", "hello everyone")
    await mentor.drain(0.3)
    services = rooms.server.services
    assert services is not None
    with statements(services.db) as seen:
        await said(her.client, "one", "it has been a long week")
    # Her message's own write goes through the appender's writer, not the engine watched here.
    assert "SELECT" not in seen
    for client in (her.client, mentor):
        await client.close()


async def test_slow_mode_and_mute_are_held_on_her_seat(rooms: RoomServer) -> None:
    mentor, _ = await mentor_in(rooms.server)
    her = await woman_in(rooms.server)
    await slowed_then_muted(mentor, her)
    for client in (her.client, mentor):
        await client.close()


async def test_a_mute_whose_news_was_lost_reaches_her_seat_when_the_broker_returns(
    rooms: RoomServer,
) -> None:
    mentor, _ = await mentor_in(rooms.server)
    her = await woman_in(rooms.server)
    services = rooms.server.services
    assert services is not None
    # A mentor's mute committed while the news between nodes was lost.
    async with services.db.write() as db:
        await db.execute(
            update(RoomParticipant)
            .where(RoomParticipant.id == her.participant)
            .values(muted_until=now() + timedelta(minutes=5))
        )
    # Her seat is what a message is checked against, so until then she is heard.
    await said(her.client, "before", "still here")
    services.hub.resync()  # what the hub does when the broker is back
    seats = [held_seat(c) for c in rooms.runtime.held(rooms.runtime.participants, her.participant)]
    for _ in range(100):
        if all(seat is not None and seat.muted_until is not None for seat in seats):
            break
        await asyncio.sleep(0.05)
    await say(her.client, "after", "still here?")
    await her.client.receive("error", code="muted", client_id="after")
    for client in (her.client, mentor):
        await client.close()
