"""Closed or full: a woman turned away is in no queue, and hears when advisers answer again.

A `request_chat` or `come_back` refused with `helpline_closed` or `helpline_full` leaves her in
no queue (nothing is stored). So does anything she sends that needs a conversation she does not
have: a `message` or `danger_now` from a socket with no conversation of hers, while the
helpline is closed or full, is answered with that same error (naming the event and its
`client_id`), never stored. An old page, or a hand-written client, learns why.

Her socket is then watched on its node. Every WATCH_SECONDS, while any socket is watched, the
node asks `admit` once (closed hours need no read; a surge limit reads the queue's length and
the team once, for every watched socket), and when a new chat would be let in, each watched
socket gets `helpline_status` with `open: true` and is watched no more. Nothing puts her in
the queue by itself: she may have stepped away, or someone may be looking at her screen, so
the page shows her a Start button and she chooses. `watch_helpline` asks the same question for
a socket that (re)connected on the closed screen: `helpline_status` at once, and the watch.

When a surge ends, every woman watched is told at once; those who start first are let in, the
others are turned away again (and watched again) if the limit is reached once more.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Literal

from chat.core.events import ConnectionClosed
from chat.core.outages import failed_with
from chat.core.protocol import ClientEventModel, ProtocolError
from chat.core.services import Services
from chat.core.transport import Connection
from chat.helpline.assign import admit
from chat.helpline.routing_errors import RoutingError

# How often a node with turned-away women on it asks whether advisers answer again.
WATCH_SECONDS = 10.0
log = logging.getLogger("willow.queue")


class WatchHelpline(ClientEventModel):
    """On the closed screen (after a reconnect): is the helpline answering, and say when it is."""

    type: Literal["watch_helpline"]


def status(refused: RoutingError | None) -> dict[str, Any]:
    """Her `helpline_status`: open, or closed or full with when it opens (as the error says)."""
    if refused is None:
        return {"type": "helpline_status", "open": True, "code": None, "opens_at": None}
    return {
        "type": "helpline_status",
        "open": False,
        "code": refused.code,
        "opens_at": refused.extra.get("opens_at"),
    }


class Opening:
    """This node's sockets of women turned away, told once advisers answer again."""

    def __init__(self, services: Services) -> None:
        self.services = services
        # Keyed by identity: a connection is a plain (unhashable) dataclass.
        self.watched: dict[int, Connection] = {}
        self.running = False

    def watch(self, connection: Connection) -> None:
        if connection.closing is not None:
            return
        self.watched[id(connection)] = connection
        if not self.running:
            self.running = True
            self.services.spawn(self._loop())

    def forget(self, connection: Connection) -> None:
        self.watched.pop(id(connection), None)

    async def check(self) -> int:
        """Tell every watched socket if a new chat would be let in now; how many were told."""
        try:
            await admit(self.services)
        except RoutingError:
            return 0
        told, self.watched = self.watched, {}
        news = status(None)
        for connection in told.values():
            if connection.closing is None:
                connection.send(news)
        return len(told)

    async def _loop(self) -> None:
        try:
            while self.watched:
                await asyncio.sleep(WATCH_SECONDS)
                try:
                    await self.check()
                except Exception as problem:
                    failed_with(problem, log, "checking whether the helpline opened failed")
        finally:
            self.running = False


def opening_of(services: Services) -> Opening:
    found = services.features.find(Opening)
    if found is None:
        found = Opening(services)
        services.features.add(found)
    return found


async def admit_or_watch(connection: Connection, ref: str | None = "request_chat") -> None:
    """`admit`, and when it refuses (closed or full), her socket is watched before the error
    goes back to her: she hears when advisers answer again."""
    try:
        await admit(connection.services, ref=ref)
    except RoutingError:
        opening_of(connection.services).watch(connection)
        raise


async def refuse_without_conversation(connection: Connection, conversation_id: int) -> None:
    """A visitor's event for a conversation this socket has no part in: while closed or full
    she is in no queue, and is told so (`helpline_closed` / `helpline_full`, naming the event
    and its `client_id`); otherwise the caller answers `not_found` as before."""
    if connection.visitor is None or conversation_id in connection.writable:
        return
    await admit_or_watch(connection, ref=None)


async def _on_watch(connection: Connection, _event: WatchHelpline) -> None:
    if connection.visitor is None:
        raise ProtocolError("forbidden", ref="watch_helpline")
    try:
        await admit_or_watch(connection, ref="watch_helpline")
    except RoutingError as refused:
        connection.send(status(refused))
        return
    connection.send(status(None))


def install(services: Services) -> None:
    opening = opening_of(services)
    services.sockets.add_events({"watch_helpline": WatchHelpline})
    services.sockets.handle(WatchHelpline, _on_watch)

    async def closed(event: ConnectionClosed) -> None:
        opening.forget(event.connection)

    services.events.on(ConnectionClosed, closed)
