"""Auto-assignment on two real nodes under many arrivals at once (issue 11, "Routing").

Sixty women ask for a chat at the same moment across both nodes, a quarter of them say they
are in danger now, three advisers with three places each (two consoles on one node, one on
the other) become available together, chats end while twenty more women arrive, and then
chats end with the queue standing still. Routing rounds run on both nodes at once
throughout. What an adviser and a woman would check:

- no chat is handed to two advisers, and each woman is told once who answers her;
- no adviser ever holds more chats than her capacity (counted on her own console, which
  can only under-count what the server gave her);
- when places free up with the queue unchanged, the chats handed over are the first in
  the queue's order (risk first, then the longest wait): no lower-risk chat is taken while
  a higher-risk one that any adviser could answer still waits.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select, update

from chat.core.models import Conversation, Event, Staff
from chat.core.services import Services
from chat.core.settings import Settings
from tests.cluster.conftest import empty_conversations, server_errors
from tests.cluster.nodes import ClusterConfig, Node, start_all, stop_all, willow
from tests.services import postgres_url, redis_url, scratch_postgres
from tests.wsclient import Client, Server, staff, visitor

pytestmark = pytest.mark.cluster

CAPACITY = 3
FIRST_WAVE = 60
SECOND_WAVE = 20
# Every DANGER_EVERY-th woman says she is in danger now while she waits.
DANGER_EVERY = 4
SETTLE = 20.0


@dataclass
class Console:
    """An adviser's console: every chat handed to her, and how many she held at most."""

    client: Client
    name: str
    held: list[int] = field(default_factory=list)
    given: list[int] = field(default_factory=list)
    most: int = 0
    errors: list[dict[str, object]] = field(default_factory=list)

    async def listen(self) -> None:
        while True:
            try:
                event = await self.client.receive_any(timeout=60)
            except TimeoutError:
                continue
            if event.get("type") == "assigned":
                conversation = int(str(event["conversation_id"]))
                self.given.append(conversation)
                self.held.append(conversation)
                self.most = max(self.most, len(self.held))
            elif event.get("type") == "error":
                self.errors.append(event)

    async def end_one(self) -> int:
        """End her oldest chat (forgotten here before the server hears of it); how many ended."""
        if not self.held:
            return 0
        conversation = self.held.pop(0)
        await self.client.send({"type": "end", "conversation_id": conversation})
        return 1


@pytest.fixture(scope="module")
def auto_config() -> Iterator[ClusterConfig]:
    with scratch_postgres(postgres_url()) as url:
        config = ClusterConfig(database_url=url, broker_url=redis_url())
        willow(["migrate"], config.env())
        yield config


@pytest.fixture(scope="module")
def auto_nodes(
    auto_config: ClusterConfig, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Node]]:
    logs = tmp_path_factory.mktemp("auto-nodes")
    extra = {"WILLOW_ASSIGNMENT": "auto", "WILLOW_ADVISER_CAPACITY": str(CAPACITY)}
    processes = [
        Node(name, auto_config, logs / f"node-{name}.log", extra_env=extra) for name in ("a", "b")
    ]
    start_all(processes)
    try:
        yield processes
    finally:
        stop_all(processes)


@dataclass
class AutoPair:
    a: Server
    b: Server
    services: Services


@pytest.fixture
async def auto(auto_config: ClusterConfig, auto_nodes: list[Node]) -> AsyncIterator[AutoPair]:
    await empty_conversations(auto_config.database_url)
    services = Services.build(
        Settings(
            env="test",
            secret_key=auto_config.secret_key,
            database_url=auto_config.database_url,
            broker_url="memory://",  # only the database is used from here
            adviser_capacity=CAPACITY,
        )
    )
    marks = [node.log_size() for node in auto_nodes]
    try:
        yield AutoPair(
            Server(auto_nodes[0].url, services), Server(auto_nodes[1].url, services), services
        )
    finally:
        await services.db.dispose()
    await asyncio.sleep(0.2)
    for node, mark in zip(auto_nodes, marks, strict=True):
        errors = server_errors(node.log_text(mark))
        assert not errors, f"node {node.name} logged errors:\n{node.log_text(mark)}"


async def arrive(servers: list[Server], count: int, danger_every: int) -> list[tuple[Client, int]]:
    """`count` women connect across the nodes, then all ask for a chat at once; every
    `danger_every`-th then says she is in danger now, all at once. Returns each with her chat."""
    women = [(await visitor(servers[i % len(servers)]))[0] for i in range(count)]
    await asyncio.gather(*(her.send({"type": "request_chat"}) for her in women))
    queued = await asyncio.gather(*(her.receive("queue", timeout=SETTLE) for her in women))
    chats = [int(event["conversation_id"]) for event in queued]
    in_danger = [(women[i], chats[i]) for i in range(0, count, danger_every)]
    await asyncio.gather(
        *(her.send({"type": "danger_now", "conversation_id": c}) for her, c in in_danger)
    )
    await asyncio.gather(*(her.receive("danger_noted", timeout=SETTLE) for her, _ in in_danger))
    return list(zip(women, chats, strict=True))


async def queue_order(services: Services) -> list[int]:
    """The waiting chats in the queue's order: risk first, then the longest wait."""
    async with services.db.read() as session:
        rows = await session.scalars(
            select(Conversation.id)
            .where(Conversation.status == "waiting")
            .order_by(Conversation.priority.desc(), Conversation.created_at, Conversation.id)
        )
        return list(rows)


async def rank_key(services: Services, chats: list[int]) -> dict[int, tuple[int, float, int]]:
    async with services.db.read() as session:
        rows = await session.execute(
            select(Conversation.id, Conversation.priority, Conversation.created_at).where(
                Conversation.id.in_(chats)
            )
        )
        return {c: (-priority, created.timestamp(), c) for c, priority, created in rows}


async def active_count(services: Services) -> int:
    async with services.db.read() as session:
        found = await session.scalar(
            select(func.count()).select_from(Conversation).where(Conversation.status == "active")
        )
        return int(found or 0)


async def given_count(services: Services) -> int:
    async with services.db.read() as session:
        found = await session.scalar(
            select(func.count())
            .select_from(Conversation)
            .where(Conversation.adviser_id.is_not(None))
        )
        return int(found or 0)


async def settled(
    services: Services, active: int, consoles: list[Console], given: int | None = None
) -> None:
    """Wait until this many chats are active (every free place given), `given` chats have
    been given in all, and the consoles have heard of every chat given."""
    deadline = asyncio.get_running_loop().time() + SETTLE
    while (
        (found := await active_count(services)) != active
        or sum(len(c.given) for c in consoles) != await given_count(services)
        or (given is not None and await given_count(services) != given)
    ):
        if asyncio.get_running_loop().time() > deadline:
            heard = sum(len(c.given) for c in consoles)
            raise AssertionError(
                f"{found} chats active after {SETTLE}s, wanted {active}; consoles heard of "
                f"{heard} of {await given_count(services)}"
            )
        await asyncio.sleep(0.1)


def assert_first_in_line(
    taken: list[int], still: list[int], key: dict[int, tuple[int, float, int]]
) -> None:
    """Every chat taken ranks before every chat still waiting."""
    if taken and still:
        last_taken = max(taken, key=lambda c: key[c])
        first_waiting = min(still, key=lambda c: key[c])
        assert key[last_taken] < key[first_waiting], (
            f"chat {last_taken} {key[last_taken]} was taken while {first_waiting} "
            f"{key[first_waiting]} waited"
        )


async def test_many_arrivals_on_two_nodes_are_assigned_once_within_capacity_risk_first(
    auto: AutoPair,
) -> None:
    services = auto.services
    logins = [await auto.a.staff_session("adviser") for _ in range(3)]
    async with services.db.write() as session:
        await session.execute(
            update(Staff)
            .where(Staff.username.in_([login.username for login in logins]))
            .values(capacity=CAPACITY)
        )
    # Two advisers on node A, one on node B; the first also has a second console on B.
    where = [auto.a, auto.b, auto.a]
    consoles = [
        Console(await staff(server, login), login.username)
        for server, login in zip(where, logins, strict=True)
    ]
    extra = Console(await staff(auto.b, logins[0]), logins[0].username + " (second console)")
    listeners = [asyncio.create_task(c.listen()) for c in (*consoles, extra)]
    try:
        women = await arrive([auto.a, auto.b], FIRST_WAVE, DANGER_EVERY)
        assert await active_count(services) == 0

        # All three become available at once: rounds on both nodes share nine places.
        await asyncio.gather(
            *(c.client.send({"type": "set_available", "available": True}) for c in consoles)
        )
        places = 3 * CAPACITY
        await settled(services, places, consoles)
        waiting = await queue_order(services)
        first = [c for console in consoles for c in console.given]
        key = await rank_key(services, first + waiting)
        assert len(first) == places and len(set(first)) == places
        assert_first_in_line(first, waiting, key)

        # Chats end on both nodes while twenty more women arrive, some in danger.
        async def end_meanwhile() -> int:
            ended = 0
            for _ in range(4):
                ended += sum(await asyncio.gather(*(c.end_one() for c in consoles)))
                await asyncio.sleep(0.05)
            return ended

        ending = asyncio.create_task(end_meanwhile())
        women += await arrive([auto.b, auto.a], SECOND_WAVE, DANGER_EVERY)
        await settled(services, places, consoles, given=places + await ending)

        # Then with the queue standing still: each freed place goes to the first in line.
        for _ in range(3):
            before = {c for console in consoles for c in console.given}
            await asyncio.gather(*(c.end_one() for c in consoles))
            await settled(services, places, consoles, given=len(before) + len(consoles))
            now_given = {c for console in consoles for c in console.given}
            taken = sorted(now_given - before)
            still = await queue_order(services)
            assert len(taken) == len(consoles)
            assert_first_in_line(taken, still, await rank_key(services, taken + still))

        # Every console has heard all it will hear.
        await asyncio.sleep(0.5)
    finally:
        for task in listeners:
            task.cancel()
        for task in listeners:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # One chat to one adviser: no chat on two advisers' consoles, one `assigned` stored each.
    given = [c for console in consoles for c in console.given]
    assert len(given) == len(set(given))
    assert sorted(extra.given) == sorted(consoles[0].given)
    async with services.db.read() as session:
        rows = (
            await session.execute(
                select(Conversation.id, Conversation.adviser_id, Conversation.status).where(
                    Conversation.adviser_id.is_not(None)
                )
            )
        ).all()
        stored = Counter(
            await session.scalars(select(Event.stream_id).where(Event.type == "assigned"))
        )
        advisers = dict(
            (
                await session.execute(
                    select(Staff.username, Staff.id).where(
                        Staff.username.in_([login.username for login in logins])
                    )
                )
            ).all()
        )
    assert sorted(given) == sorted(row.id for row in rows)
    assert stored == dict.fromkeys(given, 1)
    holder = {row.id: row.adviser_id for row in rows}
    for console in consoles:
        assert {holder[c] for c in console.given} == {advisers[console.name]}
    # Never over capacity, on her console or in the database at the end.
    assert [console.most for console in consoles] == [CAPACITY] * len(consoles)
    active = Counter(row.adviser_id for row in rows if row.status == "active")
    assert max(active.values()) <= CAPACITY
    # Each woman given a chat heard it once.
    for her, conversation in women:
        await her.drain(0.05)
        heard = [e for e in her.of_type("assigned") if e["conversation_id"] == conversation]
        assert len(heard) == (1 if conversation in given else 0)
    for client in [her for her, _ in women] + [c.client for c in (*consoles, extra)]:
        await client.close()
