"""SQLite's one writer place, queued on this node, with a lane that goes first.

SQLite lets one transaction write at a time, so the node queues its writers (chat/core/db.py)
instead of retrying "database is locked". In a surge dozens of writers can be queued: each
woman joining the queue writes her chat and a count. A writer that frees or fills an
adviser's place (an adviser ends a chat, a routing round hands the place to the next woman)
asks to go `first`: it waits only for the writer in place and for others of its own lane,
not for the joins queued before it. Within a lane the order is first come, first served.

PostgreSQL has no such queue (many writers at once); there the routing lock alone orders
routing rounds (chat/helpline/queue_state.py).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType


class WriterQueue:
    """A lock handed to the next waiter of the `first` lane, else of the ordinary one."""

    def __init__(self) -> None:
        self._held = False
        self._first: deque[asyncio.Future[None]] = deque()
        self._others: deque[asyncio.Future[None]] = deque()

    def locked(self) -> bool:
        return self._held

    async def acquire(self, first: bool = False) -> None:
        if not self._held and not self._first and not self._others:
            self._held = True
            return
        lane = self._first if first else self._others
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        lane.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                # The place was handed over just as this waiter gave up: pass it on.
                self.release()
            else:
                lane.remove(waiter)
            raise

    def release(self) -> None:
        """Hand the place straight to the next waiter (so nobody can slip in between)."""
        for lane in (self._first, self._others):
            while lane:
                waiter = lane.popleft()
                if not waiter.done():
                    waiter.set_result(None)
                    return
        self._held = False

    @asynccontextmanager
    async def hold(self, first: bool = False) -> AsyncIterator[None]:
        await self.acquire(first)
        try:
            yield
        finally:
            self.release()

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        problem: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.release()
