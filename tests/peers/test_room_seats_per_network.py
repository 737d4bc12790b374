"""Forty sessions from one address can no longer fill a room (issue 13, floods): the seats of
one room session taken from one network address are bounded; others are let in, and nothing
of the address is stored."""

from __future__ import annotations

from pathlib import Path

from chat.core.settings import Settings
from tests.peers.conftest import room_server
from tests.peers.roomkit import ROOM, mentor_in
from tests.wsclient import Client, Server, visitor

PROXY = "127.0.0.1"
CROWD = "203.0.113.40"
LIMIT = 3


async def _join(server: Server, forwarded_for: str | None) -> tuple[Client, str]:
    client, _ = await visitor(server, forwarded_for=forwarded_for)
    await client.send({"type": "room_join", "room": ROOM, "accept_rules": True})
    while True:
        frame = await client.receive_any()
        if frame["type"] == "room_welcome":
            return client, "admitted"
        if frame["type"] == "error":
            return client, str(frame["code"])


def _limited(settings: Settings) -> Settings:
    return Settings(
        **{
            **settings.model_dump(),
            "forwarded_allow_ips": [PROXY],
            "room_seats_per_address": LIMIT,
        }
    )


async def test_one_network_cannot_fill_a_room_and_a_seat_comes_back_when_one_leaves(
    settings: Settings,
) -> None:
    async with room_server(_limited(settings)) as rooms:
        mentor, state = await mentor_in(rooms.server)
        assert state["capacity"] > LIMIT * 3
        answers = [await _join(rooms.server, CROWD) for _ in range(LIMIT + 5)]
        admitted = [client for client, answer in answers if answer == "admitted"]
        assert len(admitted) == LIMIT
        assert [answer for _, answer in answers[LIMIT:]] == ["room_full"] * 5

        # Someone else behind the same proxy, and the proxy's own connections (no header,
        # so no address to count), are let in: the room is not full.
        neighbour, answer = await _join(rooms.server, "198.51.100.9")
        assert answer == "admitted"
        bare, answer = await _join(rooms.server, None)
        assert answer == "admitted"

        # One of the crowd leaves: one seat from that network comes free, no more.
        await admitted[0].send({"type": "room_leave"})
        await admitted[0].receive("room_exit")
        again, answer = await _join(rooms.server, CROWD)
        assert answer == "admitted"
        refused, answer = await _join(rooms.server, CROWD)
        assert answer == "room_full"

        # Taking her own place back (another tab, a dropped phone) is not a new seat.
        await admitted[1].send({"type": "room_join", "room": ROOM, "accept_rules": True})
        await admitted[1].receive("room_welcome")

        for client in (*[c for c, _ in answers], neighbour, bare, again, refused, mentor):
            await client.close()

    database = settings.database_url.removeprefix("sqlite+aiosqlite:///")
    if settings.database_url.startswith("sqlite"):
        stored = b"".join(p.read_bytes() for p in Path(database).parent.glob("willow.db*"))
        assert CROWD.encode() not in stored


async def test_the_limit_is_off_at_zero(settings: Settings) -> None:
    off = Settings(**{**_limited(settings).model_dump(), "room_seats_per_address": 0})
    async with room_server(off) as rooms:
        mentor, _ = await mentor_in(rooms.server)
        answers = [await _join(rooms.server, CROWD) for _ in range(LIMIT + 2)]
        assert [answer for _, answer in answers] == ["admitted"] * (LIMIT + 2)
        for client in (*[c for c, _ in answers], mentor):
            await client.close()
