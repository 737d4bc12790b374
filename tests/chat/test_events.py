"""The domain event bus: typed events delivered once on this node and once on every other."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import secrets
from pathlib import Path

import pytest

from chat.app import create_app
from chat.core.broker import MemoryBroker
from chat.core.events import (
    CORE_EVENTS,
    EVENTS_CHANNEL,
    ConnectionClosed,
    DomainEvent,
    EventBus,
    EventDecodeError,
    NodeEvent,
    StaffDisabled,
    VisitorLeft,
)
from chat.core.services import Services
from chat.core.settings import Settings
from tests.conftest import node_services
from tests.services import BROKER_URL


class Wire:
    """Every bus's frames reach every bus, its own included, as a broker delivers them."""

    def __init__(self) -> None:
        self.buses: list[EventBus] = []

    async def send(self, channel: str, frame: bytes) -> None:
        assert channel == EVENTS_CHANNEL
        for bus in self.buses:
            await bus.received(frame)

    def bus(self) -> EventBus:
        bus = EventBus(self.send)
        self.buses.append(bus)
        return bus


def heard(bus: EventBus, kind: type[DomainEvent], origin_only: bool = False) -> list[DomainEvent]:
    got: list[DomainEvent] = []

    async def keep(event: DomainEvent) -> None:
        got.append(event)

    (bus.on_origin if origin_only else bus.on)(kind, keep)
    return got


async def test_each_node_hears_an_event_once_and_origin_work_runs_once() -> None:
    wire = Wire()
    here, there = wire.bus(), wire.bus()
    here_heard, there_heard = heard(here, VisitorLeft), heard(there, VisitorLeft)
    here_once, there_once = (
        heard(here, VisitorLeft, origin_only=True),
        heard(there, VisitorLeft, origin_only=True),
    )
    await here.publish(VisitorLeft(visitor_id=7, reason="quick_exit"))
    assert here_heard == there_heard == [VisitorLeft(7, "quick_exit")]
    assert here_once == [VisitorLeft(7, "quick_exit")] and there_once == []


def test_every_core_event_survives_the_trip_between_nodes_typed() -> None:
    bus = EventBus(Wire().send)
    for kind in CORE_EVENTS:
        if issubclass(kind, NodeEvent):
            continue
        values = {
            f.name: (3 if f.type in ("int", "int | None") else f.type == "bool" or "ended")
            for f in dataclasses.fields(kind)
        }
        if kind is VisitorLeft:
            values["reason"] = "ended"
        event = kind(**values)
        node, decoded = bus.decode(bus.encode(event))
        assert node == bus.node and decoded == event and type(decoded) is kind


async def test_a_closed_connection_is_told_on_its_node_only() -> None:
    sent: list[bytes] = []

    async def send(_channel: str, frame: bytes) -> None:
        sent.append(frame)

    here = EventBus(send)
    got, once = heard(here, ConnectionClosed), heard(here, ConnectionClosed, origin_only=True)
    closed = ConnectionClosed(connection=object())  # type: ignore[arg-type]
    await here.publish(closed)
    # The connection means nothing on another node: nothing goes on the broker.
    assert got == once == [closed] and sent == []
    await here.publish(StaffDisabled(staff_id=2))
    assert len(sent) == 1


def test_a_frame_that_is_not_a_known_event_is_refused_by_name() -> None:
    bus = EventBus(Wire().send)
    for frame in (
        b"{",
        b'{"type": "Nope", "node": "x", "fields": {}}',
        b'{"type": "StaffDisabled"}',
    ):
        with pytest.raises(EventDecodeError):
            bus.decode(frame)


async def test_an_unknown_frame_from_the_broker_is_ignored_and_later_events_still_arrive() -> None:
    wire = Wire()
    bus = wire.bus()
    got = heard(bus, StaffDisabled)
    await bus.received(b"not json")
    await wire.send(EVENTS_CHANNEL, EventBus(wire.send).encode(StaffDisabled(staff_id=4)))
    assert got == [StaffDisabled(4)]


async def test_a_failing_subscriber_does_not_keep_the_event_from_the_others() -> None:
    bus = EventBus(Wire().send)

    async def broken(_event: StaffDisabled) -> None:
        raise RuntimeError("boom")

    bus.on(StaffDisabled, broken)
    got = heard(bus, StaffDisabled)
    await bus.publish(StaffDisabled(staff_id=1))
    assert got == [StaffDisabled(1)]


async def test_an_undeclared_event_type_cannot_be_published() -> None:
    @dataclasses.dataclass(frozen=True)
    class Unknown(DomainEvent):
        x: int

    with pytest.raises(ValueError, match="not a declared event type"):
        await EventBus(Wire().send).publish(Unknown(1))


@pytest.mark.skipif(
    not BROKER_URL, reason="two nodes need a shared broker: set WILLOW_TEST_BROKER_URL (Redis)"
)
async def test_two_nodes_on_one_redis_each_hear_the_other(settings: Settings) -> None:
    async with node_services(settings) as a, node_services(settings) as b:
        on_a, on_b = heard(a.events, VisitorLeft), heard(b.events, VisitorLeft)
        await a.events.publish(VisitorLeft(visitor_id=1))
        await b.events.publish(VisitorLeft(visitor_id=2))
        for _ in range(100):
            if len(on_a) == len(on_b) == 2:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.1)  # a copy delivered twice would have arrived by now
        assert sorted(e.visitor_id for e in on_a) == sorted(e.visitor_id for e in on_b) == [1, 2]  # type: ignore[attr-defined]


class RecordingBroker(MemoryBroker):
    """A real one-process broker that also remembers which channels it carried."""

    def __init__(self) -> None:
        super().__init__()
        self.carried: list[str] = []

    async def publish(self, channel: str, message: bytes) -> None:
        self.carried.append(channel)
        await super().publish(channel, message)


async def test_an_app_given_a_broker_uses_it_for_news_and_domain_events(
    settings: Settings,
) -> None:
    broker = RecordingBroker()
    services = Services.build(settings, broker=broker)
    assert services.broker is broker and services.hub.broker is broker
    await services.start()
    try:
        got = heard(services.events, StaffDisabled)
        await services.events.publish(StaffDisabled(staff_id=9))
        await services.publish("somewhere", {"type": "x"})
        assert got == [StaffDisabled(9)]
        assert broker.carried == [EVENTS_CHANNEL, "somewhere"]
    finally:
        await services.stop_background()
        await services.db.dispose()


def test_every_event_type_an_app_declares_is_in_the_architecture_table() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "ARCHITECTURE.md").read_text()
    section = doc.split("## Domain events", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `([A-Za-z]+)` \|", section, flags=re.MULTILINE))
    app = create_app(
        Settings(
            env="test",
            secret_key=secrets.token_urlsafe(48),
            database_url="sqlite+aiosqlite:///:memory:",
        )
    )
    declared = {kind.__name__ for kind in app.state.services.events.types}
    assert declared == listed
