"""What every action needs: settings, database, broker and this node's hub, built once per app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import text

from chat.core import audit
from chat.core.appender import Appender
from chat.core.broker import Broker, broker_from_url
from chat.core.clock import now
from chat.core.connections import ConnectionIndex
from chat.core.db import Database
from chat.core.documents import Documents
from chat.core.events import EVENTS_CHANNEL, DomainEvent, EventBus
from chat.core.housekeeping import Housekeeping
from chat.core.hub import Hub, envelope, stream_channel
from chat.core.metrics import Metrics
from chat.core.outages import BROKER, DATABASE, OUTAGES
from chat.core.pipeline import MessagePipeline
from chat.core.presence import Presence
from chat.core.settings import Settings
from chat.core.sockets import SocketRoutes
from chat.core.streams import fetch_after
from chat.core.tally import Tally
from chat.core.throttle import OpenSockets, Throttle
from chat.core.uow import Change, DomainEventSink, drop_events, publish_committed, unit_of_work

F = TypeVar("F")


class Features:
    """The features' own objects (the rooms' runtime, the helplines directory), by type.

    The core cannot name a feature's class, so each feature adds its object at install and
    fetches it back typed: `services.features.get(RoomsRuntime)`.
    """

    def __init__(self) -> None:
        self._objects: dict[type, object] = {}

    def add(self, feature: object) -> None:
        kind = type(feature)
        if kind in self._objects:
            raise ValueError(f"{kind.__name__} is already installed")
        self._objects[kind] = feature

    def replace(self, feature: object) -> None:
        """Put a new value of an installed type in its place (an admin's live edit)."""
        kind = type(feature)
        if kind not in self._objects:
            raise LookupError(f"{kind.__name__} is not installed in this app")
        self._objects[kind] = feature

    def get(self, kind: type[F]) -> F:
        feature = self._objects.get(kind)
        if not isinstance(feature, kind):
            raise LookupError(f"{kind.__name__} is not installed in this app")
        return feature

    def find(self, kind: type[F]) -> F | None:
        feature = self._objects.get(kind)
        return feature if isinstance(feature, kind) else None


@dataclass
class Services:
    settings: Settings
    db: Database
    broker: Broker
    hub: Hub
    # Queue news is coalesced (chat/helpline/conversations.py publish_queue).
    queue_news_pending: bool = False
    queue_news_at: float = float("-inf")  # the event loop's time of the last round of news
    background: set[asyncio.Task[None]] = field(default_factory=set)
    # Called once at shutdown, after background work is cancelled (a feature's worker process).
    closers: list[Callable[[], None]] = field(default_factory=list)
    # What the socket transport dispatches to; each feature registers its own at install.
    sockets: SocketRoutes = field(default_factory=SocketRoutes)
    features: Features = field(default_factory=Features)
    # What admins edit live (hours, rooms, directory, ...): each feature registers its kinds.
    documents: Documents = field(default_factory=Documents)
    # This node's sockets by visitor session and staff account, closed when those end.
    connections: ConnectionIndex = field(default_factory=ConnectionIndex)
    # Every message anyone writes goes through it; features register the verdict's effects.
    messages: MessagePipeline = field(default_factory=MessagePipeline)
    # Receives the domain events of every committed unit of work (chat/core/uow.py): the
    # event bus below, set at start of each app.
    domain_events: DomainEventSink = drop_events
    # Messages are stored in batches (group commit) and published in order once committed.
    appender: Appender = field(init=False)
    # Domain events: features subscribe at install; actions publish after commit.
    events: EventBus = field(init=False)
    # Periodic purges; each feature registers its own at install, every node runs them.
    housekeeping: Housekeeping = field(init=False)
    # Who is here across nodes: each node's lease and the sockets it holds (visitors, staff,
    # room seats); features say what happens when someone is away past a grace.
    presence: Presence = field(init=False)
    # This app's instruments (one registry per app, so test apps do not share figures).
    metrics: Metrics = field(default_factory=Metrics)
    # Happenings for anonymised reporting; the reporting feature listens.
    tally: Tally = field(default_factory=Tally)
    # Attempt counters (logins, floods), shared through Redis when there is one.
    throttle: Throttle = field(init=False)
    # Sockets open on this node per network address (hashed), for the per-address cap.
    sockets_from: OpenSockets = field(default_factory=OpenSockets)

    def __post_init__(self) -> None:
        self.appender = Appender(self.db, self.publish_stored)
        self.throttle = Throttle(
            self.settings.effective_secret_key,
            self.broker.shared_store,
            prefix=self.settings.broker_prefix + "throttle:",
        )
        self.events = EventBus(self.hub.publish)
        self.connections.subscribe(self.events)
        self.domain_events = self._publish_events
        self.housekeeping = Housekeeping(self.db)
        self.housekeeping.register(
            "audit_log", self.settings.housekeeping_seconds, self._purge_audit
        )
        self.presence = Presence(self.db, self.events.node, self.settings.presence_lease_seconds)
        self.housekeeping.register(
            "presence",
            self.settings.presence_sweep_seconds,
            self.presence.sweep,
            # Short, so a node that dies mid-sweep delays the next one by a lease at most.
            lease_seconds=self.settings.presence_lease_seconds
            + self.settings.presence_sweep_seconds,
        )
        self.metrics.watch_database(self.db.engine)
        self.metrics.count(
            "willow_messages_stored", "Messages stored", lambda: self.appender.appended
        )
        self.metrics.count(
            "willow_message_batches",
            "Group commits of messages (messages stored / this = the mean batch)",
            lambda: self.appender.batches,
        )
        self.metrics.sample(self._sample_sockets)

    async def _sample_sockets(self) -> None:
        self.metrics.sockets_open.set(self.hub.member_count())

    async def _purge_audit(self) -> int:
        """Audit entries older than the audit retention go (the core owns the audit log)."""
        days = self.settings.audit_retention_days
        return await audit.purge_before(self.db, now() - timedelta(days=days))

    async def _publish_events(self, events: Sequence[object]) -> None:
        """A unit of work's domain events, once committed, in the order emitted."""
        for event in events:
            if not isinstance(event, DomainEvent):
                raise TypeError(f"{type(event).__name__} is not a domain event")
            await self.events.publish(event)

    async def start(self) -> None:
        """Connect to the broker and hear other nodes' domain events; once, at start."""
        await self.broker.connect()
        await self.hub.listen(EVENTS_CHANNEL, lambda frame: self.spawn(self.events.received(frame)))
        # An outage is logged once each way (chat/core/outages.py); these say when it ends.
        OUTAGES.register(self.metrics.registry)
        OUTAGES.probe(BROKER, self.broker.ping)
        OUTAGES.probe(DATABASE, self.database_answers)

    async def database_answers(self) -> bool:
        async with self.db.read() as session:
            return (await session.execute(text("SELECT 1"))).scalar() == 1

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run work in the background, kept until done and cancelled at shutdown."""
        task = asyncio.create_task(work)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    @asynccontextmanager
    async def change(self, tx: Change | None = None, first: bool = False) -> AsyncIterator[Change]:
        """A unit of work: one commit, then its news in order (chat/core/uow.py).

        Given an open one (`tx`), the caller's work joins it and is committed with it.
        `first`: it frees or fills an adviser's place; on SQLite it goes ahead of the other
        writers queued on this node (chat/core/writer_queue.py).
        """
        async with unit_of_work(self.db, self.hub, self.domain_events, tx, first) as joined:
            yield joined

    async def stop_background(self) -> None:
        OUTAGES.stop()
        await self.appender.close()
        for task in list(self.background):
            task.cancel()
        await asyncio.gather(*self.background, return_exceptions=True)
        for close in self.closers:
            close()

    @classmethod
    def build(cls, settings: Settings, broker: Broker | None = None) -> Services:
        """The services of one app; `broker` replaces the one `settings.broker_url` names."""
        if broker is None:
            broker = broker_from_url(settings.broker_url, prefix=settings.broker_prefix)
        metrics = Metrics()
        return cls(
            settings=settings,
            db=Database(settings.database_url),
            broker=broker,
            hub=Hub(broker, metrics),
            metrics=metrics,
        )

    async def fetch_after(
        self, stream_id: int, after_seq: int, staff: bool, identities: frozenset[str] = frozenset()
    ) -> list[tuple[int, str]]:
        return await fetch_after(self.db, stream_id, after_seq, staff, identities)

    async def publish(
        self,
        channel: str,
        payload: dict[str, object],
        stream_id: int | None = None,
        seq: int | None = None,
        staff_only: bool = False,
        to: str | None = None,
    ) -> None:
        await self.hub.publish(channel, envelope(payload, stream_id, seq, staff_only, to))

    async def publish_stored(self, events: list[tuple[dict[str, Any], int, int, bool]]) -> None:
        """Publish stored events in the order given: (payload, stream id, seq, staff only)."""
        await publish_committed(
            self.hub,
            [
                (stream_channel(stream_id), envelope(payload, stream_id, seq, staff_only))
                for payload, stream_id, seq, staff_only in events
            ],
        )
