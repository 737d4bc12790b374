"""What the operator sees of a running node: Prometheus instruments, one registry per app.

Every label here takes its value from a short fixed list (a language code, an error code, a
risk category); `bounded` turns anything else into "other", so no label ever carries an
identifier, an address or words someone wrote. Figures that are cheaper to read than to keep
up to date (queue length, sockets open) are sampled when /metrics is read, by samplers each
feature registers; the hot path only adds to counters, and fan-out counts once per batch.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Collection, Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger("willow.metrics")

Sampler = Callable[[], Awaitable[None]]
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
OTHER = "other"
# Seconds: a wait for an adviser runs from moments to an hour or more.
WAIT_BUCKETS = (5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200)
HANDLING_BUCKETS = (60, 300, 600, 1200, 1800, 2700, 3600, 5400, 7200)
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
# Seconds from a message stored to the learned layer's verdict (a queue, then a model).
LEARNED_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
STATEMENTS = ("select", "insert", "update", "delete")


def bounded(value: object, known: Collection[str]) -> str:
    """The value when it is one of the known ones, else "other"."""
    text = str(value)
    return text if text in known else OTHER


class _Counted(Collector):
    """Counters a component already keeps as plain integers, read at scrape time."""

    def __init__(self) -> None:
        self.sources: dict[str, tuple[str, Callable[[], int]]] = {}

    def collect(self) -> Iterator[CounterMetricFamily]:
        for name, (documentation, read) in self.sources.items():
            yield CounterMetricFamily(name, documentation, value=read())


class Metrics:
    """The instruments of one app. Features call them; /metrics renders them."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._counted = _Counted()
        self.registry.register(self._counted)
        self.samplers: list[Sampler] = []
        self._build_queue()
        self._build_traffic()
        self._build_safety()
        self._build_storage()

    def _build_queue(self) -> None:
        r = self.registry
        self.queue_waiting = Gauge(
            "willow_queue_waiting", "Chats waiting for an adviser", ["language"], registry=r
        )
        self.queue_longest_wait = Gauge(
            "willow_queue_longest_wait_seconds",
            "How long the longest-waiting chat has waited",
            ["language"],
            registry=r,
        )
        self.wait_seconds = Histogram(
            "willow_wait_seconds",
            "From asking to talk to an adviser taking the chat",
            ["language"],
            buckets=WAIT_BUCKETS,
            registry=r,
        )
        self.handling_seconds = Histogram(
            "willow_handling_seconds",
            "From an adviser taking a chat to its end",
            buckets=HANDLING_BUCKETS,
            registry=r,
        )
        self.chats_ended = Counter(
            "willow_chats_ended", "Chats ended, by whether an adviser took them", ["outcome"],
            registry=r,
        )  # fmt: skip
        self.advisers_available = Gauge(
            "willow_advisers_available", "Advisers marked available", registry=r
        )
        self.adviser_capacity = Gauge(
            "willow_adviser_capacity", "Chats the available advisers can hold at once", registry=r
        )
        self.active_chats = Gauge("willow_active_chats", "Chats an adviser has taken", registry=r)
        self.helpline_open = Gauge(
            "willow_helpline_open",
            "1 while the service hours (WILLOW_HOURS_FILE) say the helpline is open",
            registry=r,
        )

    def _build_traffic(self) -> None:
        r = self.registry
        self.sockets_open = Gauge("willow_sockets_open", "Sockets open on this node", registry=r)
        self.ready = Gauge(
            "willow_ready", "1 when this node reaches its database and broker (/readyz)", registry=r
        )
        self.room_members = Gauge(
            "willow_room_members", "People in a room on this node, by role", ["role"], registry=r
        )
        self.deliveries = Counter(
            "willow_deliveries", "Frames put on this node's send queues", registry=r
        )
        self.send_queue_cutoffs = Counter(
            "willow_send_queue_cutoffs", "Sockets cut off for reading too slowly", registry=r
        )
        self.resumes = Counter(
            "willow_resumes", "Hellos that resume a conversation after a seq", registry=r
        )
        self.broker_reconnects = Counter(
            "willow_broker_reconnects", "Times the broker subscriber was reconnected", registry=r
        )
        self.errors = Counter(
            "willow_errors", "Error events sent to clients, by code", ["code"], registry=r
        )

    def _build_safety(self) -> None:
        r = self.registry
        self.flags = Counter(
            "willow_flags", "Messages flagged for staff", ["category", "level"], registry=r
        )
        self.alerts = Counter(
            "willow_alerts", "Alerts raised to supervisors", ["kind", "level"], registry=r
        )
        # The learned risk layer (moderation/safeguarding/learned.py), off the message path.
        self.learned_seconds = Histogram(
            "willow_learned_risk_seconds",
            "From a message stored to the learned layer's verdict on it",
            buckets=LEARNED_BUCKETS,
            registry=r,
        )
        self.learned_skipped = Counter(
            "willow_learned_risk_skipped",
            "Messages the learned layer skipped: node busy, queue full, or worker failed",
            ["reason"],
            registry=r,
        )
        self.learned_flags = Counter(
            "willow_learned_risk_flags",
            "Messages the learned layer raised to current danger after the rules",
            ["category"],
            registry=r,
        )

    def _build_storage(self) -> None:
        r = self.registry
        self.database_seconds = Histogram(
            "willow_database_seconds",
            "Time one database statement took",
            ["statement"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.broker_seconds = Histogram(
            "willow_broker_publish_seconds",
            "Time one publish (or one batch) to the broker took",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )

    def count(self, name: str, documentation: str, read: Callable[[], int]) -> None:
        """Expose an integer a component already keeps (e.g. messages stored) as a counter."""
        self._counted.sources[name] = (documentation, read)

    def sample(self, sampler: Sampler) -> None:
        """Run `sampler` before each scrape, to set gauges read from the database or memory."""
        self.samplers.append(sampler)

    def error(self, code: str, known: Collection[str]) -> None:
        self.errors.labels(bounded(code, known)).inc()

    @contextmanager
    def timing_broker(self) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.broker_seconds.observe(time.perf_counter() - started)

    def watch_database(self, engine: AsyncEngine) -> None:
        """Time each statement the engine runs, labelled only by its verb."""
        sync = engine.sync_engine

        def before(
            _conn: Any, _cursor: Any, _sql: str, _params: Any, context: Any, *_: Any
        ) -> None:
            context._willow_started = time.perf_counter()

        def after(_conn: Any, _cursor: Any, sql: str, _params: Any, context: Any, *_: Any) -> None:
            started = getattr(context, "_willow_started", None)
            if started is not None:
                verb = bounded(sql.lstrip()[:6].lower(), STATEMENTS)
                self.database_seconds.labels(verb).observe(time.perf_counter() - started)

        event.listen(sync, "before_cursor_execute", before)
        event.listen(sync, "after_cursor_execute", after)

    async def render(self) -> bytes:
        for sampler in self.samplers:
            try:
                await sampler()
            except Exception:
                # A figure that cannot be read now must not hide the others.
                log.exception("metrics sampler failed")
        return generate_latest(self.registry)
