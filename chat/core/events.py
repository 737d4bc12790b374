"""Typed domain events: what happened, told to every feature on every node.

An action publishes an event once its change is committed. The bus hands it to this node's
subscribers and sends it, encoded with a type tag, on one broker channel; every other node
decodes it back into the same dataclass and hands it to its own subscribers. A node hears its
own event from the broker too and drops that copy, so each subscriber sees an event once.

Two kinds of subscription:
- `on`: on every node, for what only that node can do (close the sockets it holds);
- `on_origin`: only on the node where it happened, for work that must be done once
  (database changes).

A `NodeEvent` (a socket closed) stays on the node where it happened, whichever way one
subscribes: what it carries (the connection) means nothing elsewhere.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import orjson

from chat.core.outages import failed_with

if TYPE_CHECKING:
    from chat.core.transport import Connection

log = logging.getLogger("willow.events")

# The broker channel every node listens on for domain events.
EVENTS_CHANNEL = "domain-events"


@dataclass(frozen=True)
class DomainEvent:
    """Base of every domain event; fields are plain values so they cross nodes as JSON."""


@dataclass(frozen=True)
class NodeEvent(DomainEvent):
    """Told to this node's subscribers only, never sent to other nodes."""


@dataclass(frozen=True)
class ConnectionClosed(NodeEvent):
    """A socket closed on this node (whoever closed it): features let go of what it held.

    Published by the transport once the socket's tasks have stopped, after the close frame,
    before it leaves its channels. `connection.closing` says whether the server ended it, and
    why (a session that ended closes with 4401)."""

    connection: Connection


@dataclass(frozen=True)
class VisitorLeft(DomainEvent):
    """Her session ended: a quick exit, or the end of the session for another reason."""

    visitor_id: int
    reason: Literal["quick_exit", "ended"] = "quick_exit"


@dataclass(frozen=True)
class VisitorForgotten(DomainEvent):
    """She asked for her conversation and session to be deleted, and they are."""

    visitor_id: int


@dataclass(frozen=True)
class ConversationEnded(DomainEvent):
    conversation_id: int
    visitor_id: int
    by: str
    # She was still waiting (never talked with an adviser): she leaves the queue.
    was_waiting: bool = False


@dataclass(frozen=True)
class StaffLoggedOut(DomainEvent):
    """One login ended: logout, or its expiry. Sockets opened with that login close."""

    staff_id: int
    login_id: int


@dataclass(frozen=True)
class StaffDisabled(DomainEvent):
    """The account may no longer be used: every login and socket of it ends."""

    staff_id: int


@dataclass(frozen=True)
class DocumentChanged(DomainEvent):
    """An admin saved or reset an edited document (chat/core/documents.py): read it again."""

    kind: str


CORE_EVENTS: tuple[type[DomainEvent], ...] = (
    VisitorLeft,
    VisitorForgotten,
    ConversationEnded,
    StaffLoggedOut,
    StaffDisabled,
    ConnectionClosed,
    DocumentChanged,
)

E = TypeVar("E", bound=DomainEvent)
Subscriber = Callable[[Any], Awaitable[None]]
# What the bus needs from the broker side: send bytes on a channel to every node.
Send = Callable[[str, bytes], Awaitable[None]]


class EventDecodeError(ValueError):
    """A frame on the events channel is not an event this node knows."""


class EventBus:
    """One per app (Services owns it): subscribers by event type, and this node's id."""

    def __init__(self, send: Send, types: tuple[type[DomainEvent], ...] = CORE_EVENTS) -> None:
        self.node = secrets.token_hex(8)
        self._send = send
        self._types: dict[str, type[DomainEvent]] = {}
        self._everywhere: dict[type[DomainEvent], list[Subscriber]] = {}
        self._origin: dict[type[DomainEvent], list[Subscriber]] = {}
        for kind in types:
            self.declare(kind)

    def declare(self, kind: type[DomainEvent]) -> None:
        """Make an event type known, so this node can decode it from other nodes."""
        known = self._types.get(kind.__name__)
        if known is not None and known is not kind:
            raise ValueError(f"two event types are named {kind.__name__}")
        self._types[kind.__name__] = kind

    @property
    def types(self) -> tuple[type[DomainEvent], ...]:
        return tuple(self._types.values())

    def on(self, kind: type[E], subscriber: Callable[[E], Awaitable[None]]) -> None:
        """Call `subscriber` on every node for each event of this type."""
        self.declare(kind)
        _add(self._everywhere, kind, subscriber)

    def on_origin(self, kind: type[E], subscriber: Callable[[E], Awaitable[None]]) -> None:
        """Call `subscriber` only on the node where the event was published."""
        self.declare(kind)
        _add(self._origin, kind, subscriber)

    async def publish(self, event: DomainEvent) -> None:
        """Deliver here, then to every other node. Call only after the change is committed."""
        if type(event).__name__ not in self._types:
            raise ValueError(f"{type(event).__name__} is not a declared event type")
        await self._deliver(event, self._origin)
        await self._deliver(event, self._everywhere)
        if isinstance(event, NodeEvent):
            return
        try:
            await self._send(EVENTS_CHANNEL, self.encode(event))
        except Exception as problem:
            # This node has acted; other nodes miss it only while the broker is down.
            failed_with(problem, log, "could not send %s to other nodes", type(event).__name__)

    def encode(self, event: DomainEvent) -> bytes:
        fields = dataclasses.asdict(event)
        return orjson.dumps({"type": type(event).__name__, "node": self.node, "fields": fields})

    def decode(self, frame: bytes) -> tuple[str, DomainEvent]:
        """(origin node, event) from what `encode` made on any node."""
        try:
            data = orjson.loads(frame)
            kind = self._types[data["type"]]
            return str(data["node"]), kind(**data["fields"])
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise EventDecodeError(f"not a known domain event: {exc}") from None

    async def received(self, frame: bytes) -> None:
        """An event from the broker: another node's is delivered here; ours was already."""
        try:
            node, event = self.decode(frame)
        except EventDecodeError:
            log.warning("ignored a frame on the events channel that is not a known event")
            return
        if node != self.node:
            await self._deliver(event, self._everywhere)

    async def _deliver(
        self, event: DomainEvent, table: dict[type[DomainEvent], list[Subscriber]]
    ) -> None:
        for subscriber in table.get(type(event), ()):
            try:
                await subscriber(event)
            except Exception as problem:
                # One feature's failure must not keep the event from the others.
                failed_with(problem, log, "%s subscriber failed", type(event).__name__)


def _add(
    table: dict[type[DomainEvent], list[Subscriber]],
    kind: type[DomainEvent],
    subscriber: Subscriber,
) -> None:
    subscribers = table.setdefault(kind, [])
    if subscriber not in subscribers:
        subscribers.append(subscriber)
