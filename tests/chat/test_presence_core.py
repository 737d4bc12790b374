"""The presence mechanism itself (chat/core/presence.py): two nodes' Presence on one database,
the app's clock moved rather than slept through, a node that stops beating as if killed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import pytest

from chat.core.db import Database
from chat.core.presence import Presence
from chat.core.services import Services
from tests.chat.test_presence import Clock, moved

LEASE = 15.0
GRACE = 60.0
KIND = "visitor-test"
__all__ = ["moved"]  # the fixture


class Calls:
    def __init__(self) -> None:
        self.away: list[int] = []
        self.back: list[int] = []
        self.expired: list[tuple[int, datetime]] = []
        self.changed: list[int] = []

    def track(self, presence: Presence) -> None:
        async def away(subject: int) -> None:
            self.away.append(subject)

        async def back(subject: int) -> None:
            self.back.append(subject)

        async def expired(subject: int, since: datetime) -> bool:
            self.expired.append((subject, since))
            return True

        async def changed(subject: int) -> None:
            self.changed.append(subject)

        presence.track(KIND, GRACE, expired, away=away, back=back, changed=changed)


@pytest.fixture
async def nodes(services: Services) -> AsyncIterator[tuple[Presence, Presence, Calls, Calls]]:
    first, second = Presence(services.db, "node-x", LEASE), Presence(services.db, "node-y", LEASE)
    calls = Calls(), Calls()
    for presence, seen in zip((first, second), calls, strict=True):
        seen.track(presence)
        await presence.heartbeat()
    yield first, second, *calls


async def test_here_while_a_socket_is_open_on_any_node_then_away_then_expired(
    nodes: tuple[Presence, Presence, Calls, Calls], moved: Clock
) -> None:
    x, y, on_x, on_y = nodes
    await x.arrive(KIND, 7)
    assert on_x.back == [7]
    await y.arrive(KIND, 7)  # a second tab, on the other node
    assert on_y.back == []  # she was here already
    await x.leave(KIND, 7)
    assert on_x.away == [] and await y.here(KIND, 7)

    await y.leave(KIND, 7)
    assert on_y.away == [7]
    assert not await x.here(KIND, 7)

    moved.move(GRACE - 1)
    for node in (x, y):
        await node.heartbeat()
    await x.sweep()
    assert on_x.expired == []
    moved.move(2)
    await x.heartbeat()
    await x.sweep()
    assert [subject for subject, _ in on_x.expired] == [7]
    # Done with: the next sweep does not act on it again.
    await x.sweep()
    assert len(on_x.expired) == 1


async def test_a_node_that_stops_beating_loses_its_sockets_when_its_lease_lapses(
    nodes: tuple[Presence, Presence, Calls, Calls], moved: Clock
) -> None:
    x, y, _, on_y = nodes
    await x.arrive(KIND, 8)
    await x.arrive(KIND, 8)  # two sockets of hers on node x
    await y.arrive(KIND, 9)

    # Node x is killed: it beats no more. Within its lease she is still here.
    moved.move(LEASE - 1)
    await y.heartbeat()
    await y.sweep()
    assert on_y.away == [] and await y.here(KIND, 8)

    moved.move(2)
    await y.heartbeat()
    await y.sweep()
    assert on_y.away == [8]
    assert on_y.changed[-1] == 8
    assert not await y.here(KIND, 8) and await y.here(KIND, 9)

    # Her absence counts from the moment the dead node's lease ran out, not from the sweep.
    moved.move(GRACE - 0.5)  # lapsed at LEASE, swept at LEASE + 1: now LEASE + GRACE + 0.5
    await y.heartbeat()
    await y.sweep()
    assert [subject for subject, _ in on_y.expired] == [8]


async def test_a_node_whose_lease_lapsed_but_lives_holds_its_sockets_again(
    nodes: tuple[Presence, Presence, Calls, Calls], moved: Clock
) -> None:
    x, y, _, on_y = nodes
    await x.arrive(KIND, 10)
    # x alone was cut off from the database for longer than its lease; y kept beating.
    moved.move(LEASE - 1)
    await y.heartbeat()
    moved.move(2)
    await y.heartbeat()
    await y.sweep()
    assert on_y.away == [10]

    await x.heartbeat()  # back: it takes its lease again and holds what it still holds
    assert await y.here(KIND, 10)
    moved.move(GRACE * 2)
    await x.heartbeat()
    await y.heartbeat()
    await y.sweep()
    assert on_y.expired == []


async def test_coming_back_within_the_grace_is_not_an_absence(
    nodes: tuple[Presence, Presence, Calls, Calls], moved: Clock
) -> None:
    x, y, on_x, on_y = nodes
    await x.arrive(KIND, 11)
    await x.leave(KIND, 11)
    moved.move(GRACE - 5)
    await y.heartbeat()
    await y.arrive(KIND, 11)
    assert on_y.back == [11]
    moved.move(GRACE * 3)
    await y.heartbeat()
    await y.sweep()
    assert on_y.expired == [] and on_x.expired == []


async def test_the_sockets_open_on_live_nodes_are_counted(
    services: Services, nodes: tuple[Presence, Presence, Calls, Calls], moved: Clock
) -> None:
    x, y, _, _ = nodes
    await x.arrive(KIND, 12)
    await x.arrive(KIND, 12)
    await y.arrive(KIND, 12)
    async with services.db.read() as session:
        assert await y.sockets(session, KIND, 12) == 3
    await x.leave(KIND, 12)
    moved.move(LEASE - 1)  # x dies with one socket still open
    await y.heartbeat()
    moved.move(2)
    await y.heartbeat()
    await y.sweep()
    async with services.db.read() as session:
        assert await y.sockets(session, KIND, 12) == 1


async def test_a_database_outage_longer_than_the_lease_and_the_grace_is_not_a_death(
    nodes: tuple[Presence, Presence, Calls, Calls], moved: Clock
) -> None:
    x, y, on_x, on_y = nodes
    await x.arrive(KIND, 13)
    await y.arrive(KIND, 14)
    # Neither node could beat for longer than a lease and a grace: the database was away.
    moved.move(LEASE + GRACE + 5)
    for node in (x, y):
        await cut_off_beat(node)
    # y comes through first and sweeps before x has beaten again: x is given a lease to beat.
    await y.sweep()
    assert on_y.away == [] and on_y.expired == []
    assert await y.here(KIND, 13)
    await x.heartbeat()
    await x.sweep()
    assert (on_x.away, on_x.expired) == ([], [])

    # A node that really died then is reclaimed one lease later.
    moved.move(LEASE - 1)
    await y.heartbeat()
    moved.move(2)
    await y.sweep()
    assert on_y.away == [13] and await y.here(KIND, 14)


async def test_a_socket_that_closes_while_the_database_is_away_is_released_when_it_answers(
    nodes: tuple[Presence, Presence, Calls, Calls], moved: Clock
) -> None:
    x, y, on_x, on_y = nodes
    await x.arrive(KIND, 15)
    # Node x loses its database (a real one nobody listens for), and her socket closes then.
    reachable = x._db
    away = Database("postgresql+asyncpg://postgres@127.0.0.1:9/willow")
    x._db = away
    try:
        with pytest.raises(Exception):  # noqa: B017 (whatever the driver says: unreachable)
            await x.leave(KIND, 15)
        with pytest.raises(Exception):  # noqa: B017
            await x.heartbeat()
    finally:
        x._db = reachable
        await away.dispose()
    assert await y.here(KIND, 15)  # what the database was last told

    # The database answers again: x's next beat releases her as of the moment she closed.
    moved.move(1)
    await x.heartbeat()
    assert not await y.here(KIND, 15)
    assert on_x.away == [15]
    moved.move(GRACE)
    for node in (x, y):
        await node.heartbeat()
    await y.sweep()
    assert [subject for subject, _ in on_y.expired] == [15]


async def cut_off_beat(node: Presence) -> None:
    """A heartbeat that meets no database (a real one nobody listens for)."""
    reachable = node._db
    node._db = Database("postgresql+asyncpg://postgres@127.0.0.1:9/willow")
    try:
        with pytest.raises(Exception):  # noqa: B017 (whatever the driver says: unreachable)
            await node.heartbeat()
    finally:
        await node._db.dispose()
        node._db = reachable


async def test_a_node_that_was_only_slow_gives_a_dead_node_no_more_time(
    nodes: tuple[Presence, Presence, Calls, Calls], moved: Clock
) -> None:
    x, y, _, on_y = nodes
    await x.arrive(KIND, 16)
    # x is killed; y, busy, does not beat for longer than a lease (no outage: it never tried).
    moved.move(LEASE + 1)
    await y.sweep()
    assert on_y.away == [16]
