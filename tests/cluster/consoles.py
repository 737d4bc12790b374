"""Advisers' consoles and women asking for a chat, kept going through the fault script.

A console behaves as the staff page does under faults (it is a PageClient: it reconnects after
any close, to the next node when one does not answer) and presses "Take next" and "End" when
told. The feeder opens a new waiting chat every so often, on alternating nodes, and shrugs off
the moments a node or the database cannot take one (as a woman would try again later).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

from tests.cluster.pageclient import PageClient, Place
from tests.wsclient import Client, Server, StaffLogin, visitor


@dataclass
class Console(PageClient):
    """One of an adviser's consoles: the chats it was told it holds, and what it was refused."""

    assigned: list[int] = field(default_factory=list)
    ended: set[int] = field(default_factory=set)
    welcomed: set[int] = field(default_factory=set)

    async def _handle(self, socket: Any, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "welcome":
            self.welcomed.update(int(c) for c in event.get("conversations", []))
        elif kind == "assigned":
            self.assigned.append(int(event["conversation_id"]))
        elif kind == "ended":
            self.ended.add(int(event["conversation_id"]))
        await super()._handle(socket, event)

    async def press(self, event: dict[str, Any]) -> None:
        await self._send(event)

    def refused(self, code: str) -> int:
        return sum(1 for e in self.errors if e.get("code") == code)


@dataclass
class Adviser:
    """An adviser with a console on each node, who takes chats and ends some as she goes."""

    login: StaffLogin
    staff_id: int
    consoles: list[Console]

    @classmethod
    def on(cls, name: str, servers: list[Server], login: StaffLogin, staff_id: int) -> Adviser:
        consoles = [
            Console(f"{name}-{i}", servers[i:] + servers[:i], Place(), cookie=login.cookie)
            for i in range(len(servers))
        ]
        return cls(login, staff_id, consoles)

    def holds(self) -> list[int]:
        """Her chats as her consoles were told: welcomed or assigned, and not ended."""
        told: set[int] = set()
        ended: set[int] = set()
        for console in self.consoles:
            told.update(console.welcomed, console.assigned)
            ended.update(console.ended)
        return sorted(told - ended)

    async def work(self, stop: asyncio.Event, every: float) -> None:
        """All her consoles press "Take next" at the same moment, again and again; every
        third round she ends one of her chats, so that a place frees and the race is on."""
        turn = 0
        while not stop.is_set():
            turn += 1
            await asyncio.gather(*(c.press({"type": "take_next"}) for c in self.consoles))
            await asyncio.sleep(every)
            held = self.holds()
            if turn % 3 == 0 and held:
                console = self.consoles[turn % len(self.consoles)]
                await console.press({"type": "end", "conversation_id": held[0]})


async def feed(
    servers: list[Server], stop: asyncio.Event, every: float, into: list[Client]
) -> None:
    """A new woman asks for a chat every `every` seconds, on alternating nodes, until `stop`
    (a node or the database that cannot take her now is skipped: she tries again later)."""
    turn = 0
    while not stop.is_set():
        server = servers[turn % len(servers)]
        turn += 1
        with contextlib.suppress(Exception):
            her, _ = await asyncio.wait_for(visitor(server), 3)
            into.append(her)
            await her.send({"type": "request_chat"})
        await asyncio.sleep(every)
