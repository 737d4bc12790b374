"""Presence on one node, with the app's clock moved instead of sleeping through the graces.

She is "here" while a socket of hers is open and for a grace after; a wait nobody is behind
leaves the queue then; in a chat the adviser sees her go offline and come back, and after the
longer grace the chat ends as "she left"; an adviser stops being available after her last
socket closed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from chat.core import clock
from chat.core.models import Conversation, Staff
from chat.core.settings import Settings
from tests.conftest import running_server
from tests.wsclient import Client, Server, connected_pair, staff, visitor

GRACE = 120
CHAT_GRACE = 600
STAFF_GRACE = 20


class Clock:
    """Moves the app's clock (chat/core/clock.py) forward."""

    def __init__(self, real: Callable[[], datetime]) -> None:
        self._real = real
        self.ahead = timedelta()

    def now(self) -> datetime:
        return self._real() + self.ahead

    def move(self, seconds: float) -> None:
        self.ahead += timedelta(seconds=seconds)


@pytest.fixture
def moved(monkeypatch: pytest.MonkeyPatch) -> Clock:
    moving = Clock(clock.now)
    monkeypatch.setattr(clock, "now", moving.now)
    return moving


@pytest.fixture
async def node(settings: Settings) -> AsyncIterator[Server]:
    settings = settings.model_copy(
        update={
            "visitor_grace_seconds": GRACE,
            "chat_grace_seconds": CHAT_GRACE,
            "staff_grace_seconds": STAFF_GRACE,
            # The sweep runs when the test says so.
            "presence_sweep_seconds": 3600,
        }
    )
    async with running_server(settings) as running:
        yield running


async def later(server: Server, moved: Clock, seconds: float) -> None:
    """Time passes: this node still beats (its lease runs), then the sweep looks."""
    assert server.services is not None
    moved.move(seconds)
    await server.services.presence.heartbeat()
    await server.services.presence.sweep()


async def status(server: Server, conversation_id: int) -> tuple[str, str | None]:
    assert server.services is not None
    async with server.services.db.read() as session:
        found = await session.get(Conversation, conversation_id)
        assert found is not None
        return found.status, found.ended_by


async def waiting(server: Server) -> tuple[Client, int]:
    her, _ = await visitor(server)
    await her.send({"type": "request_chat"})
    return her, int((await her.receive("queue"))["conversation_id"])


async def closed(client: Client) -> None:
    await client.close()
    # The server notices the close and releases her hold.
    await asyncio.sleep(0.3)


async def test_a_wait_nobody_is_behind_leaves_the_queue_when_the_grace_ends(
    node: Server, moved: Clock
) -> None:
    adviser = await staff(node, await node.staff_session("adviser"))
    her, conversation = await waiting(node)
    await adviser.receive("queue_snapshot", timeout=5)
    await closed(her)

    await later(node, moved, GRACE - 10)
    assert await status(node, conversation) == ("waiting", None)

    await later(node, moved, 20)
    assert await status(node, conversation) == ("ended", "left")
    snapshot = await adviser.receive("queue_snapshot", waiting=[])
    assert snapshot["waiting"] == []


async def test_coming_back_within_the_grace_keeps_her_place(node: Server, moved: Clock) -> None:
    token = await node.visitor_token()
    her, _ = await visitor(node, token)
    await her.send({"type": "request_chat"})
    conversation = int((await her.receive("queue"))["conversation_id"])
    other, second = await waiting(node)
    await closed(her)

    await later(node, moved, GRACE - 10)
    back, _ = await visitor(node, token)
    await later(node, moved, GRACE * 3)

    assert await status(node, conversation) == ("waiting", None)
    position = await back.receive("queue", conversation_id=conversation)
    assert position["position"] == 1
    assert await status(node, second) == ("waiting", None)
    await back.close()
    await other.close()


async def test_the_adviser_sees_her_go_offline_and_come_back(node: Server, moved: Clock) -> None:
    her, adviser, conversation, token = await connected_pair(node)
    await closed(her)
    offline = await adviser.receive("visitor_presence", conversation_id=conversation)
    assert offline["here"] is False

    back, _ = await visitor(node, token)
    again = await adviser.receive("visitor_presence", conversation_id=conversation, here=True)
    assert again["here"] is True
    # She never sees these staff-only events.
    await back.drain(0.3)
    assert not back.of_type("visitor_presence")

    # Away past the waiting grace, a chat is kept: only the longer grace ends it.
    await closed(back)
    await later(node, moved, GRACE + 10)
    assert await status(node, conversation) == ("active", None)
    await later(node, moved, CHAT_GRACE)
    assert await status(node, conversation) == ("ended", "left")
    ended = await adviser.receive("ended", conversation_id=conversation)
    assert ended["by"] == "left"


async def test_an_adviser_is_no_longer_available_after_her_last_socket_closed(
    node: Server, moved: Clock
) -> None:
    login = await node.staff_session("adviser")
    laptop, phone = await staff(node, login), await staff(node, login)
    await laptop.send({"type": "set_available", "available": True})
    await laptop.receive("status")
    watcher = await staff(node, await node.staff_session("adviser"))

    await closed(phone)
    await later(node, moved, STAFF_GRACE * 3)
    assert await available(node, login.username) is True

    await closed(laptop)
    await later(node, moved, STAFF_GRACE - 5)
    assert await available(node, login.username) is True
    await later(node, moved, 10)
    assert await available(node, login.username) is False
    snapshot = await watcher.receive("queue_snapshot", available_advisers=0)
    assert snapshot["available_advisers"] == 0
    await watcher.close()


async def available(server: Server, username: str) -> bool:
    assert server.services is not None
    async with server.services.db.read() as session:
        return bool(await session.scalar(select(Staff.available).where(Staff.username == username)))
