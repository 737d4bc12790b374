"""Joining a room and talking in it, through a real server, as the room page does."""

from __future__ import annotations

import asyncio

from tests.peers.roomkit import ROOM, RoomServer, mentor_in, said, say, woman_in
from tests.wsclient import Client, visitor


async def _rooms_list(rooms: RoomServer) -> dict[str, dict[str, object]]:
    async with rooms.server.http() as client:
        response = await client.get("/api/rooms")
    response.raise_for_status()
    return {room["id"]: room for room in response.json()["rooms"]}


async def test_closed_room_says_when_it_opens_and_refuses_to_join(rooms: RoomServer) -> None:
    listed = await _rooms_list(rooms)
    assert listed[ROOM]["open"] is False and listed[ROOM]["busy"] is None
    assert isinstance(listed[ROOM]["opens_at"], str)

    her, _ = await visitor(rooms.server)
    await her.send({"type": "room_join", "room": ROOM, "accept_rules": True})
    error = await her.receive("error", code="room_closed")
    assert error["opens_at"] == listed[ROOM]["opens_at"]
    await her.close()


async def test_she_must_accept_the_rules(rooms: RoomServer) -> None:
    mentor, _ = await mentor_in(rooms.server)
    her, _ = await visitor(rooms.server)
    await her.send({"type": "room_join", "room": ROOM, "accept_rules": False})
    await her.receive("error", code="rules_not_accepted")
    await her.send({"type": "room_join", "room": "no-such-room", "accept_rules": True})
    await her.receive("error", code="not_found")
    await her.close()
    await mentor.close()


async def test_join_gives_a_fresh_name_and_the_rules_and_the_room_sees_only_the_name(
    rooms: RoomServer,
) -> None:
    mentor, state = await mentor_in(rooms.server)
    assert state["participants"] == []
    first = await woman_in(rooms.server)
    welcome = first.welcome
    assert welcome["rules"] and welcome["direction"] == "ltr"
    assert len(first.name) >= 5 and welcome["present"] == 1
    joined = await mentor.receive("room_joined")
    assert joined["name"] == first.name and joined["participant"] == first.participant

    second = await woman_in(rooms.server)
    assert second.name != first.name
    seen = await first.client.receive("room_joined", name=second.name)
    # Nothing about her but the room name and a number that means nothing outside this room.
    assert set(seen) == {"type", "stream_id", "seq", "participant", "name", "at"}

    listed = await _rooms_list(rooms)
    assert listed[ROOM]["open"] is True and listed[ROOM]["busy"] == "quiet"
    assert "participants" not in listed[ROOM] and first.name not in str(listed)
    for client in (first.client, second.client, mentor):
        await client.close()


async def test_a_new_session_gets_a_new_name(rooms: RoomServer) -> None:
    mentor, _ = await mentor_in(rooms.server)
    names = {(await woman_in(rooms.server)).name for _ in range(4)}
    assert len(names) == 4
    await mentor.close()


async def test_women_and_mentor_talk_and_each_sees_the_same_order(rooms: RoomServer) -> None:
    mentor, _ = await mentor_in(rooms.server)
    a = await woman_in(rooms.server)
    b = await woman_in(rooms.server)
    ack = await said(a.client, "a1", "hello everyone")
    got = await b.client.receive("room_message", client_id="a1")
    assert got["body"] == "hello everyone" and got["name"] == a.name
    assert got["seq"] == ack["seq"] and got["sender"] == "participant"
    await mentor.receive("room_message", client_id="a1")

    await say(mentor, "m1", "welcome, both of you")
    from_mentor = await a.client.receive("room_message", client_id="m1")
    assert from_mentor["sender"] == "mentor" and from_mentor["participant"] is None
    await b.client.receive("room_message", client_id="m1")

    # A resend after a lost ack is stored once.
    again = await said(a.client, "a1", "hello everyone")
    assert again["duplicate"] is True and again["seq"] == ack["seq"]
    for client in (a.client, b.client, mentor):
        await client.close()


async def test_she_reads_only_from_her_arrival(rooms: RoomServer) -> None:
    mentor, _ = await mentor_in(rooms.server)
    early = await woman_in(rooms.server)
    await said(early.client, "e1", "said before she came")
    late = await woman_in(rooms.server)
    await said(early.client, "e2", "said after she came")
    await late.client.receive("room_message", client_id="e2")
    await late.client.drain(0.3)
    assert [m["client_id"] for m in late.client.of_type("room_message")] == ["e2"]
    for client in (early.client, late.client, mentor):
        await client.close()


async def test_after_a_drop_she_keeps_her_place_and_resumes(rooms: RoomServer) -> None:
    mentor, _ = await mentor_in(rooms.server)
    her = await woman_in(rooms.server)
    other = await woman_in(rooms.server)
    first = await said(other.client, "o1", "one")
    await her.client.receive("room_message", client_id="o1")
    await her.client.close()
    await said(other.client, "o2", "two")

    again, _ = await visitor(rooms.server, her.token)
    await again.send(
        {"type": "room_join", "room": ROOM, "accept_rules": True, "last_seq": first["seq"]}
    )
    welcome = await again.receive("room_welcome")
    assert welcome["pseudonym"] == her.name and welcome["returning"] is True
    await again.receive("room_message", client_id="o2")
    await asyncio.sleep(0.8)  # longer than the grace period
    await other.client.drain(0.2)
    assert other.client.of_type("room_left") == []
    for client in (again, other.client, mentor):
        await client.close()


async def test_without_coming_back_she_leaves_after_the_grace(rooms: RoomServer) -> None:
    mentor, _ = await mentor_in(rooms.server)
    her = await woman_in(rooms.server)
    await her.client.close()
    left = await mentor.receive("room_left", timeout=3)
    assert left["name"] == her.name
    await mentor.close()


async def test_leaving_tells_the_room_she_left(rooms: RoomServer) -> None:
    mentor, _ = await mentor_in(rooms.server)
    her = await woman_in(rooms.server)
    other = await woman_in(rooms.server)
    await her.client.send({"type": "room_leave"})
    assert (await her.client.receive("room_exit"))["reason"] == "left"
    assert (await other.client.receive("room_left"))["name"] == her.name
    # Out of the room, she cannot write to it.
    await say(her.client, "x", "still here?")
    await her.client.receive("error", code="not_in_room")
    for client in (her.client, other.client, mentor):
        await client.close()


async def test_adviser_cannot_join_a_room_as_a_participant(rooms: RoomServer) -> None:
    from tests.wsclient import staff

    adviser = await staff(rooms.server, await rooms.server.staff_session("adviser"))
    await adviser.send({"type": "room_join", "room": ROOM, "accept_rules": True})
    await adviser.receive("error", code="forbidden")
    await adviser.close()


def _unused(_client: Client) -> None:
    """Keeps the import of Client for type hints in helpers."""
