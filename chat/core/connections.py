"""This node's open sockets by who holds them, so a session that ends closes all of them.

The transport adds a connection once hello has said who she is; it is removed when the
socket closes (ConnectionClosed: the index is the first subscriber on this node). The
lifecycle subscribers (installed by Services) close every socket of a visitor session, a
staff login or a staff account when the domain event says it ended.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

from chat.core.events import (
    ConnectionClosed,
    EventBus,
    StaffDisabled,
    StaffLoggedOut,
    VisitorForgotten,
    VisitorLeft,
)

if TYPE_CHECKING:
    from chat.core.transport import Connection

# Close code for "this session has ended": the page starts again rather than reconnect.
CLOSE_SESSION_ENDED = 4401
CLOSE_SESSION_ENDED_REASON = "session ended"
# How long an ended identity is remembered: long enough to close a socket whose hello read
# the session just before it ended elsewhere, short enough that a re-enabled account works.
_REMEMBER_SECONDS = 60.0


class _Ended:
    """Identities that ended on any node in the last minute, oldest first."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._keys: OrderedDict[tuple[str, int], float] = OrderedDict()

    def add(self, key: tuple[str, int]) -> None:
        self._keys[key] = self._clock()
        self._keys.move_to_end(key)
        self._forget_old()

    def __contains__(self, key: object) -> bool:
        self._forget_old()
        return key in self._keys

    def _forget_old(self) -> None:
        cutoff = self._clock() - _REMEMBER_SECONDS
        while self._keys and next(iter(self._keys.values())) < cutoff:
            self._keys.popitem(last=False)


class ConnectionIndex:
    def __init__(self) -> None:
        # Connections compare by value, so they are kept by identity.
        self._visitors: dict[int, dict[int, Connection]] = {}
        self._staff: dict[int, dict[int, Connection]] = {}
        self._ended = _Ended()

    def add(self, connection: Connection) -> None:
        """Index a connection that has said who it is; close it at once if that has ended."""
        for table, key in self._keys(connection):
            table.setdefault(key, {})[id(connection)] = connection
        if self._has_ended(connection):
            connection.end(CLOSE_SESSION_ENDED, CLOSE_SESSION_ENDED_REASON)

    def discard(self, connection: Connection) -> None:
        for table, key in self._keys(connection):
            held = table.get(key)
            if held is not None:
                held.pop(id(connection), None)
                if not held:
                    del table[key]

    def of_visitor(self, visitor_id: int) -> list[Connection]:
        return list(self._visitors.get(visitor_id, {}).values())

    def of_staff(self, staff_id: int) -> list[Connection]:
        return list(self._staff.get(staff_id, {}).values())

    def _keys(self, connection: Connection) -> list[tuple[dict[int, dict[int, Connection]], int]]:
        keys = []
        if connection.visitor is not None:
            keys.append((self._visitors, connection.visitor.id))
        if connection.staff is not None:
            keys.append((self._staff, connection.staff.id))
        return keys

    def _has_ended(self, connection: Connection) -> bool:
        if connection.visitor is not None:
            return ("visitor", connection.visitor.id) in self._ended
        if connection.staff is not None:
            return ("staff", connection.staff.id) in self._ended or (
                connection.login_id is not None and ("login", connection.login_id) in self._ended
            )
        return False

    # --- lifecycle: subscribed to the domain events on every node ------------------------

    def subscribe(self, bus: EventBus) -> None:
        bus.on(ConnectionClosed, self._closed)
        bus.on(VisitorLeft, self._visitor_left)
        bus.on(VisitorForgotten, self._visitor_forgotten)
        bus.on(StaffLoggedOut, self._staff_logged_out)
        bus.on(StaffDisabled, self._staff_disabled)

    async def _closed(self, event: ConnectionClosed) -> None:
        self.discard(event.connection)

    async def _visitor_left(self, event: VisitorLeft) -> None:
        self._end_visitor(event.visitor_id)

    async def _visitor_forgotten(self, event: VisitorForgotten) -> None:
        self._end_visitor(event.visitor_id)

    def _end_visitor(self, visitor_id: int) -> None:
        self._ended.add(("visitor", visitor_id))
        for connection in self.of_visitor(visitor_id):
            connection.end(CLOSE_SESSION_ENDED, CLOSE_SESSION_ENDED_REASON)

    async def _staff_logged_out(self, event: StaffLoggedOut) -> None:
        self._ended.add(("login", event.login_id))
        for connection in self.of_staff(event.staff_id):
            if connection.login_id == event.login_id:
                connection.end(CLOSE_SESSION_ENDED, CLOSE_SESSION_ENDED_REASON)

    async def _staff_disabled(self, event: StaffDisabled) -> None:
        self._ended.add(("staff", event.staff_id))
        for connection in self.of_staff(event.staff_id):
            connection.end(CLOSE_SESSION_ENDED, CLOSE_SESSION_ENDED_REASON)
