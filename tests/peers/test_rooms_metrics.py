"""/metrics on a real server counts the people in rooms on this node, by role only."""

from __future__ import annotations

from tests.chat.test_metrics import samples, scrape, value
from tests.peers.roomkit import RoomServer, close_all, mentor_in, woman_in


async def test_room_members_are_counted_by_role_and_leave_the_count(rooms: RoomServer) -> None:
    server = rooms.server
    mentor, _state = await mentor_in(server)
    first = await woman_in(server)
    second = await woman_in(server)
    text = await scrape(server)
    found = samples(text)
    assert value(found, "willow_room_members", role="mentor") == 1
    assert value(found, "willow_room_members", role="participant") == 2
    for woman in (first, second):
        assert woman.name not in text and woman.token not in text
    await second.client.send({"type": "room_leave"})
    await second.client.receive("room_exit")
    await mentor.receive("room_left")
    found = samples(await scrape(server))
    assert value(found, "willow_room_members", role="participant") == 1
    await close_all(mentor, first.client, second.client)
