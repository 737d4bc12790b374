"""The fault script: two nodes carry live 1:1 and room traffic while a node is killed, Redis
restarts and PostgreSQL stops for ten seconds; then the database is asked what happened.

Clients behave as the pages do (tests/cluster/pageclient.py). The script runs on its own Redis
and its own PostgreSQL (tests/cluster/private.py), so stopping them disturbs nobody else, and
it ends by itself in well under two minutes.

Asserted: nothing acked is lost or doubled (the events table holds each acked client_id once,
at the acked seq); every message sent was acked in the end; every socket hears every message
of its chat or room once things settle (no deaf socket); each outage costs a few log lines on
a node, not thousands, and no traceback.

And presence (the nodes run with graces of seconds, shorter than the PostgreSQL stop, so that
an outage must not pass for a death): no ghost seat (the women whose node was killed and who
never came back hold no seat after the grace, those still connected hold theirs); no room open
without a mentor (a room whose mentor's node was killed closes on time, and the room whose
mentor stayed counts exactly her); no adviser over capacity (two advisers, a console on each
node, press "Take next" together all through the faults while new women keep asking).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select, text

from chat.core.models import Conversation, Event, Staff
from chat.core.presence import PresenceHold, PresenceNode
from chat.core.services import Services
from chat.core.settings import Settings
from peers.models import RoomParticipant, RoomSession
from peers.runtime import ROOM as ROOM_KIND
from peers.runtime import SEAT
from tests.cluster.conftest import server_errors
from tests.cluster.consoles import Adviser, feed
from tests.cluster.nodes import ClusterConfig, Node, start_all, stop_all, willow
from tests.cluster.pageclient import PageClient, Place
from tests.cluster.private import PrivatePostgres, PrivateRedis, postgres_bin
from tests.cluster.talk import pair
from tests.peers.roomkit import mentor_in, trained_mentor, woman_in
from tests.services import REQUIRE
from tests.wsclient import Client, Server

pytestmark = pytest.mark.cluster

# Each writer sends one message this often (inside the 8 per 10 s a visitor may send).
EVERY = 1.5
# After the last fault: how long every message may take to be acked and heard.
SETTLE_SECONDS = 25.0
# A node's log may say this much per outage: down, back, and a line or two around them.
LINES_PER_OUTAGE = 6
# The server's access lines, one or two per socket opened, are counted apart: new women keep
# arriving through the outages, and pages reconnect. A storm would be thousands.
CONNECTION_LINES_PER_OUTAGE = 200
ACCESS = ("connection open", "connection closed", '"WebSocket /ws"')
ROOM = "newcomers"
# The room whose mentor is on the node that is killed, and never comes back.
ORPHANED = "mothers"

# Presence in seconds, every grace shorter than the ten-second PostgreSQL stop.
LEASE = 3.0
SWEEP = 0.5
SEAT_GRACE = 4.0
MENTOR_GRACE = 6.0
CAPACITY = 2
GRACES = {
    "WILLOW_PRESENCE_LEASE_SECONDS": str(LEASE),
    "WILLOW_PRESENCE_SWEEP_SECONDS": str(SWEEP),
    "WILLOW_VISITOR_GRACE_SECONDS": "5",
    "WILLOW_CHAT_GRACE_SECONDS": "8",
    "WILLOW_STAFF_GRACE_SECONDS": "3",
    "WILLOW_ROOM_PARTICIPANT_GRACE_SECONDS": str(SEAT_GRACE),
    "WILLOW_ROOM_MENTOR_GRACE_SECONDS": str(MENTOR_GRACE),
}
# A death shows within its lease and a sweep or two; a loaded machine adds a little.
NOTICED = LEASE + 2 * SWEEP + 2.0


@dataclass
class Faulty:
    redis: PrivateRedis
    postgres: PrivatePostgres
    nodes: list[Node]
    config: ClusterConfig


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Faulty]:
    missing = [b for b in ("redis-server", "redis-cli") if shutil.which(b) is None]
    if missing or postgres_bin() is None:
        message = f"the fault script needs redis-server and PostgreSQL installed ({missing})"
        if REQUIRE:
            pytest.fail(message)
        pytest.skip(message)
    redis = PrivateRedis()
    postgres = PrivatePostgres()
    logs = tmp_path_factory.mktemp("faults")
    try:
        redis.start()
        postgres.init()
        postgres.start()
        config = ClusterConfig(database_url=postgres.url, broker_url=redis.url)
        willow(["migrate"], config.env())
        nodes = [Node(name, config, logs / f"{name}.log", extra_env=GRACES) for name in ("a", "b")]
        start_all(nodes)
        try:
            yield Faulty(redis, postgres, nodes, config)
        finally:
            stop_all(nodes)
    finally:
        redis.kill()
        postgres.remove()


@pytest.fixture
async def services(faulty: Faulty) -> AsyncIterator[Services]:
    built = Services.build(
        Settings(
            env="test",
            secret_key=faulty.config.secret_key,
            database_url=faulty.config.database_url,
            broker_url="memory://",
        )
    )
    try:
        yield built
    finally:
        await built.db.dispose()


async def writer(client: PageClient, stop: asyncio.Event) -> None:
    """Write a new line every EVERY seconds, as a person would, until `stop`."""
    turn = 0
    while not stop.is_set():
        turn += 1
        await client.write(f"{client.name}-{turn}", f"{client.name} line {turn}")
        await asyncio.sleep(EVERY)


@dataclass
class Seats:
    """Who is where in the rooms, to ask the database about after the faults."""

    room_session: int  # ROOM, whose mentor stays connected throughout
    connected: list[int]  # participants who stay connected (page clients)
    ghosts: list[int]  # participants on node B who never come back once it is killed
    orphaned_session: int  # ORPHANED, whose mentor is on node B and never comes back
    kept: list[Client]  # their sockets, closed at the end


async def set_up(
    faulty: Faulty, services: Services
) -> tuple[list[tuple[PageClient, list[str]]], list[int], list[int], int, list[Client]]:
    """Two 1:1 chats across the nodes and a room with women on both: (client, who it hears),
    the participant ids of those women and of two ghosts-to-be on node B, the room's session,
    and the ghosts' sockets."""
    a, b = (Server(node.url, services) for node in faulty.nodes)
    clients: list[tuple[PageClient, list[str]]] = []
    # Their first sockets close only once the page clients are about to take over: with graces
    # of seconds, a slow set-up must not end a chat or close the room before the script starts.
    opening: list[Client] = []
    for index, (hers, his) in enumerate(((a, b), (b, a))):
        talk = await pair(hers, his)
        opening += [talk.her, talk.adviser]
        place = Place(conversation_id=talk.conversation_id)
        her = PageClient(f"her{index}", [hers, his], place, token=talk.token)
        adviser = PageClient(f"adv{index}", [his, hers], place, cookie=talk.login.cookie)
        clients += [(her, [adviser.name]), (adviser, [her.name])]
    login = await trained_mentor(a)
    mentor, state = await mentor_in(a, ROOM, login)
    women = [await woman_in(server, ROOM) for server in (a, b)]
    # Two more on node B, who will never come back once it is killed.
    ghosts = [await woman_in(b, ROOM) for _ in range(2)]
    opening += [mentor, *(woman.client for woman in women)]
    room = [f"room{i}" for i in range(2)]
    for index, (woman, (first, second)) in enumerate(zip(women, ((a, b), (b, a)), strict=True)):
        client = PageClient(room[index], [first, second], Place(room=ROOM), token=woman.token)
        clients.append((client, [name for name in room if name != client.name]))
    watcher = PageClient("mentor", [a, b], Place(room=ROOM, mentor=True), cookie=login.cookie)
    clients.append((watcher, room))
    for socket in opening:
        await socket.close()
    return (
        clients,
        [woman.participant for woman in women],
        [ghost.participant for ghost in ghosts],
        int(state["stream_id"]),
        [ghost.client for ghost in ghosts],
    )


async def set_up_seats(faulty: Faulty, services: Services) -> Seats:
    """ORPHANED, opened by a mentor on node B, with a woman on node A."""
    a, b = (Server(node.url, services) for node in faulty.nodes)
    mentor, state = await mentor_in(b, ORPHANED, await trained_mentor(b))
    stays = await woman_in(a, ORPHANED)
    return Seats(
        room_session=0,  # set by set_up
        connected=[],  # set by set_up
        ghosts=[],  # set by set_up
        orphaned_session=int(state["stream_id"]),
        kept=[mentor, stays.client],
    )


async def set_up_advisers(faulty: Faulty, services: Services) -> list[Adviser]:
    """Two advisers of capacity CAPACITY, each with a console on each node."""
    a, b = (Server(node.url, services) for node in faulty.nodes)
    advisers = []
    for index in range(2):
        login = await a.staff_session("adviser")
        async with services.db.write() as session:
            staff = (
                await session.execute(select(Staff).where(Staff.username == login.username))
            ).scalar_one()
            staff.capacity = CAPACITY
            staff_id = staff.id
        advisers.append(Adviser.on(f"cap{index}", [a, b], login, staff_id))
    return advisers


def log_marks(nodes: list[Node]) -> list[int]:
    return [node.log_size() for node in nodes]


def lines_since(node: Node, mark: int) -> list[str]:
    return [line for line in node.log_text(mark).splitlines() if line.strip()]


async def test_nothing_acked_is_lost_or_doubled_through_a_node_kill_redis_and_postgres(
    faulty: Faulty, services: Services
) -> None:
    started = time.monotonic()
    node_b = faulty.nodes[1]
    seats = await set_up_seats(faulty, services)
    advisers = await set_up_advisers(faulty, services)
    clients, seats.connected, seats.ghosts, seats.room_session, ghosts = await set_up(
        faulty, services
    )
    seats.kept += ghosts
    consoles = [console for adviser in advisers for console in adviser.consoles]
    waiting: list[Client] = []
    servers = [Server(node.url, services) for node in faulty.nodes]
    stop_writing, stop_all_clients = asyncio.Event(), asyncio.Event()
    runners = [asyncio.create_task(c.run(stop_all_clients)) for c, _ in clients]
    runners += [asyncio.create_task(c.run(stop_all_clients)) for c in consoles]
    writers = [
        asyncio.create_task(writer(c, stop_writing)) for c, _ in clients if c.name != "mentor"
    ]
    # The advisers and the women asking for a chat go on until everything has settled.
    workers = [asyncio.create_task(a.work(stop_all_clients, 0.8)) for a in advisers]
    workers.append(asyncio.create_task(feed(servers, stop_all_clients, 1.0, waiting)))
    log_lines: dict[str, list[str]] = {}
    try:
        await asyncio.sleep(3)

        # 1. Node B dies without a word; its clients come back on A, then B is started again.
        killed_at = datetime.now(UTC)
        node_b.kill()
        await asyncio.sleep(3)
        await asyncio.to_thread(node_b.start)
        await asyncio.to_thread(node_b.wait_ready)
        await asyncio.sleep(2)

        # 2. Redis goes for five seconds and comes back empty.
        marks = log_marks(faulty.nodes)
        retries_before_redis = retries(clients)
        faulty.redis.kill()
        await asyncio.sleep(5)
        faulty.redis.start()
        await asyncio.sleep(4)
        # Stored while Redis was away is acked all the same: no message was answered retry.
        retries_during_redis = retries(clients) - retries_before_redis
        log_lines["redis"] = [
            line for n, m in zip(faulty.nodes, marks, strict=True) for line in lines_since(n, m)
        ]

        # 3. PostgreSQL stops for ten seconds.
        marks = log_marks(faulty.nodes)
        await asyncio.to_thread(faulty.postgres.stop)
        # A woman opening the page now is told to try again shortly, not given a 500.
        async with httpx.AsyncClient(base_url=faulty.nodes[0].url) as http:
            for _ in range(20):
                opened = await http.post("/api/visitor/session")
                assert opened.status_code == 503, opened.text
                assert opened.headers["retry-after"] == "5"
        await asyncio.sleep(10)
        await asyncio.to_thread(faulty.postgres.start)
        postgres_back = datetime.now(UTC)
        await asyncio.sleep(4)
        log_lines["postgres"] = [
            line for n, m in zip(faulty.nodes, marks, strict=True) for line in lines_since(n, m)
        ]
    finally:
        stop_writing.set()
        await asyncio.gather(*writers, return_exceptions=True)

    # Every message sent is acked in the end, and everyone hears what the others said.
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline and not all_settled(clients):  # noqa: ASYNC110
        await asyncio.sleep(0.5)

    # Presence, asked of the database while everyone who stayed is still connected.
    try:
        await check_seats_and_mentors(services, seats, killed_at)
        await assignments_after(services, advisers, postgres_back)
    finally:
        stop_all_clients.set()
        await asyncio.gather(*runners, *workers, return_exceptions=True)
        for leftover in [*seats.kept, *waiting]:
            with contextlib.suppress(Exception):
                await leftover.close()
    await check_capacity(services, advisers, postgres_back)

    by_name = {c.name: c for c, _ in clients}
    for client, _ in clients:
        assert client.unacked() == [], (
            f"{client.name}: never acked {client.unacked()}; closes {client.closes}, "
            f"errors {[(e.get('code'), e.get('reason')) for e in client.errors]}; "
            f"the mentor was sent {by_name['mentor'].other[-30:]}"
        )
        assert client.ack_conflicts == [], f"{client.name}: acked twice at different seqs"
    for client, hears in clients:
        for other in hears:
            wanted = set(by_name[other].acked)
            missing = wanted - set(client.heard)
            assert not missing, f"{client.name} never heard {sorted(missing)} (a deaf socket)"
            doubled = [cid for cid in wanted if len(client.heard[cid]) != 1]
            assert not doubled, f"{client.name} heard {doubled} more than once"

    # The database agrees: each acked message stored once, at the seq its sender was given.
    async with services.db.read() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT client_id, seq, stream_id FROM events "
                    "WHERE client_id IS NOT NULL AND type IN ('message', 'room_message')"
                )
            )
        ).all()
    stored: dict[str, list[int]] = {}
    for client_id, seq, _stream in rows:
        stored.setdefault(str(client_id), []).append(int(seq))
    for client, _ in clients:
        for client_id, seq in client.acked.items():
            assert stored.get(client_id) == [seq], (
                f"{client_id}: acked at {seq}, stored {stored.get(client_id)}"
            )
    # Every answer named its event and, for a message, its client_id; the PostgreSQL stop was
    # answered `retry` (maybe stored), never an untagged error.
    errors = [e for c, _ in clients for e in c.errors]
    assert all(e.get("ref") and e.get("client_id") for e in errors), errors
    assert any(e["code"] == "retry" for e in errors), (
        "no message met the PostgreSQL stop: "
        + "; ".join(f"{c.name} closed {c.closes}, {c.connections} sockets" for c, _ in clients)
    )
    assert retries_during_redis == 0, "a message stored while Redis was away was not acked"
    # (`not_in_room`: a room message while the room had no mentor, e.g. hers reconnecting.)
    assert {e["code"] for e in errors} <= {"retry", "refused", "not_in_room"}, errors

    # The metrics count each outage once, and both dependencies are up again.
    async with httpx.AsyncClient(base_url=faulty.nodes[0].url) as http:
        metrics = (await http.get("/metrics")).text
    for dependency in ("broker", "database"):
        assert f'willow_dependency_up{{dependency="{dependency}"}} 1.0' in metrics
        assert f'willow_dependency_outages_total{{dependency="{dependency}"}} 1.0' in metrics

    total = sum(len(c.acked) for c, _ in clients)
    assert total >= 100, f"too little traffic to mean anything: {total} messages"

    # A few lines per outage, and no traceback for an expected one.
    for outage, lines in log_lines.items():
        assert not server_errors("\n".join(lines)), (
            f"{outage}: tracebacks or errors:\n" + "\n".join(lines)
        )
        access = [line for line in lines if any(part in line for part in ACCESS)]
        said = [line for line in lines if line not in access]
        assert len(said) <= LINES_PER_OUTAGE * len(faulty.nodes), (
            f"{outage}: {len(said)} lines:\n" + "\n".join(said[:40])
        )
        assert len(access) <= CONNECTION_LINES_PER_OUTAGE, f"{outage}: {len(access)} sockets"
    assert time.monotonic() - started < 110


def retries(clients: list[tuple[PageClient, list[str]]]) -> int:
    """How many `retry` answers the clients have been sent so far."""
    return sum(1 for c, _ in clients for e in c.errors if e.get("code") == "retry")


def all_settled(clients: list[tuple[PageClient, list[str]]]) -> bool:
    by_name = {c.name: c for c, _ in clients}
    for client, hears in clients:
        if client.unacked():
            return False
        for other in hears:
            if not set(by_name[other].acked) <= set(client.heard):
                return False
    return True


@dataclass
class Presence:
    """What the database says of the rooms now."""

    seated: set[int]  # of the connected and the ghosts: who has a seat (not left)
    held: set[int]  # of the same: who has a seat hold on a node whose lease runs
    left_at: dict[int, datetime | None]
    room: tuple[str, int]  # ROOM: status, mentors_present
    mentor_sockets: int  # ROOM: the mentor sockets live nodes hold
    orphaned: tuple[str, datetime | None]  # ORPHANED: status, closed_at

    def settled(self, seats: Seats) -> bool:
        return (
            self.seated == set(seats.connected)
            and self.held == set(seats.connected)
            and self.room == ("open", 1)
            and self.mentor_sockets == 1
            and self.orphaned[0] == "closed"
        )


async def presence_now(services: Services, seats: Seats) -> Presence:
    everyone = [*seats.connected, *seats.ghosts]
    live = (
        select(PresenceHold.subject, func.sum(PresenceHold.sockets))
        .join(PresenceNode, PresenceNode.node == PresenceHold.node)
        .where(PresenceHold.released_at.is_(None), PresenceNode.lease_until > func.now())
        .group_by(PresenceHold.subject)
    )
    async with services.db.read() as session:
        left = dict(
            (
                await session.execute(
                    select(RoomParticipant.id, RoomParticipant.left_at).where(
                        RoomParticipant.id.in_(everyone)
                    )
                )
            ).all()
        )
        held = dict(
            (
                await session.execute(
                    live.where(PresenceHold.kind == SEAT, PresenceHold.subject.in_(everyone))
                )
            ).all()
        )
        mentors = dict(
            (
                await session.execute(
                    live.where(
                        PresenceHold.kind == ROOM_KIND, PresenceHold.subject == seats.room_session
                    )
                )
            ).all()
        )
        room = await session.get(RoomSession, seats.room_session)
        orphaned = await session.get(RoomSession, seats.orphaned_session)
        assert room is not None and orphaned is not None
        return Presence(
            seated={p for p, at in left.items() if at is None},
            held=set(held),
            left_at=left,
            room=(room.status, room.mentors_present),
            mentor_sockets=int(mentors.get(seats.room_session, 0)),
            orphaned=(orphaned.status, orphaned.closed_at),
        )


async def check_seats_and_mentors(services: Services, seats: Seats, killed_at: datetime) -> None:
    """No ghost seat, no room open without a mentor, and no mentor counted twice."""
    deadline = time.monotonic() + NOTICED + 2
    now = await presence_now(services, seats)
    while not now.settled(seats) and time.monotonic() < deadline:
        await asyncio.sleep(0.3)
        now = await presence_now(services, seats)
    # Those who stayed connected kept their seats through every fault, held on a live node.
    assert now.seated == set(seats.connected), (
        f"seats: {now.left_at}; connected {seats.connected}, ghosts {seats.ghosts}, "
        f"node B killed at {killed_at}"
    )
    assert now.held == set(seats.connected), f"live seat holds of {now.held}"
    # The women on the killed node who never came back lost their seats on time.
    for ghost in seats.ghosts:
        left = now.left_at[ghost]
        assert left is not None
        assert left - killed_at <= timedelta(seconds=NOTICED + SEAT_GRACE + 2), (
            f"a ghost seat for {left - killed_at} after the kill"
        )
    # The mentor who stayed is counted once; the room whose mentor died closed on time.
    assert now.room == ("open", 1), f"{ROOM}: {now.room}"
    assert now.mentor_sockets == 1, f"{ROOM}: {now.mentor_sockets} mentor sockets held"
    status, closed_at = now.orphaned
    assert status == "closed" and closed_at is not None, f"{ORPHANED} still {status}"
    open_without_mentor = closed_at - killed_at
    assert timedelta(seconds=MENTOR_GRACE) <= open_without_mentor, open_without_mentor
    assert open_without_mentor <= timedelta(seconds=NOTICED + MENTOR_GRACE + 2), (
        f"{ORPHANED} stayed open without a mentor for {open_without_mentor}"
    )


async def assignments(
    services: Services, advisers: list[Adviser]
) -> list[tuple[int, str, int, datetime]]:
    """Every assignment and end of the advisers' chats, in the order they were stored:
    (event id, type, adviser, when)."""
    ids = [adviser.staff_id for adviser in advisers]
    async with services.db.read() as session:
        rows = await session.execute(
            select(Event.id, Event.type, Conversation.adviser_id, Event.created_at)
            .join(Conversation, Conversation.id == Event.stream_id)
            .where(Conversation.adviser_id.in_(ids), Event.type.in_(("assigned", "ended")))
            .order_by(Event.id)
        )
        return [(int(i), str(t), int(a), at) for i, t, a, at in rows.all() if a is not None]


async def assignments_after(services: Services, advisers: list[Adviser], since: datetime) -> None:
    """Wait (briefly) until each adviser has taken a chat since PostgreSQL came back."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        rows = await assignments(services, advisers)
        taken = {a for _, kind, a, at in rows if kind == "assigned" and at >= since}
        if taken == {adviser.staff_id for adviser in advisers}:
            return
        await asyncio.sleep(0.3)


async def check_capacity(services: Services, advisers: list[Adviser], since: datetime) -> None:
    """Replayed in the order stored, no adviser ever held more chats than her capacity."""
    rows = await assignments(services, advisers)
    for adviser in advisers:
        mine = [(kind, at) for _, kind, who, at in rows if who == adviser.staff_id]
        held = peak = 0
        for kind, _ in mine:
            held += 1 if kind == "assigned" else -1
            peak = max(peak, held)
        taken = [at for kind, at in mine if kind == "assigned"]
        # The race was run at the limit, many times, and went on once PostgreSQL was back.
        assert peak == CAPACITY, f"adviser {adviser.staff_id} held {peak} chats at once"
        assert len(taken) >= 2 * CAPACITY, f"adviser {adviser.staff_id} took only {len(taken)}"
        assert any(at >= since for at in taken), "no chat taken after PostgreSQL came back"
        refused = sum(console.refused("at_capacity") for console in adviser.consoles)
        assert refused, "her consoles pressed at capacity and were never told at_capacity"
