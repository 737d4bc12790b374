"""The supervisors' live board: each adviser's status and load, and the flagged chats.

The queue part of the board (by language, by risk, the longest wait against
`WILLOW_WAIT_TARGET_SECONDS`) is drawn by the console from the queue news every adviser and
supervisor already gets (chat/helpline/queue_news.py); this module adds what the queue does not
say. A supervisor's socket gets the whole `board` once after hello; after that, a change (an
adviser's socket opens or closes, she goes available or away, a chat is taken, handed on, taken
over or ended, a chat's risk rises) names the advisers and chats it touched (`note`), and after
BOARD_DELAY one `board_changes` goes to every supervisor on every node with only those rows, so
what it sends grows with the change, not with the service. Nothing she wrote is on the board:
a flagged chat is its id, its risk level and who has it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chat.core.channels import SUPERVISORS_CHANNEL
from chat.core.clock import aware
from chat.core.models import Conversation, Staff
from chat.core.outages import failed_with
from chat.core.presence import STAFF, here_among
from chat.core.services import Services
from chat.core.transport import Connection

log = logging.getLogger("willow.board")

# Changes noted within this long go out as one `board_changes`.
BOARD_DELAY = 0.05
# The most flagged chats the first `board` lists (the most urgent first).
MOST_FLAGGED = 200
ADVISING_ROLES = ("adviser", "supervisor")


def status_of(staff: Staff, here: bool) -> str:
    """online: a socket open and available for chats; away: open but not available."""
    if not here:
        return "offline"
    return "online" if staff.available else "away"


def _load() -> Any:
    return (
        select(func.count())
        .select_from(Conversation)
        .where(Conversation.adviser_id == Staff.id, Conversation.status == "active")
        .scalar_subquery()
    )


async def adviser_rows(
    session: AsyncSession, ids: Iterable[int] | None = None
) -> list[dict[str, Any]]:
    """Advisers and supervisors who take chats (these ids, or all), with status and load."""
    query = (
        select(Staff, _load())
        .where(Staff.role.in_(ADVISING_ROLES), Staff.disabled.is_(False))
        .order_by(Staff.display_name, Staff.id)
    )
    if ids is not None:
        query = query.where(Staff.id.in_(list(ids)))
    rows = (await session.execute(query)).all()
    here = await here_among(session, STAFF, [staff.id for staff, _ in rows])
    return [
        {
            "staff_id": staff.id,
            "name": staff.display_name,
            "role": staff.role,
            "status": status_of(staff, staff.id in here),
            "chats": chats,
            "capacity": staff.capacity,
        }
        for staff, chats in rows
    ]


async def flagged_rows(
    session: AsyncSession, ids: Iterable[int] | None = None
) -> list[dict[str, Any]]:
    """Open chats whose risk was raised: id, level, waiting or with whom. No word of hers."""
    query = (
        select(Conversation, Staff.display_name)
        .outerjoin(Staff, Staff.id == Conversation.adviser_id)
        .where(Conversation.status.in_(("waiting", "active")), Conversation.risk_level != "none")
        .order_by(Conversation.priority.desc(), Conversation.id)
    )
    if ids is None:
        query = query.limit(MOST_FLAGGED)
    else:
        query = query.where(Conversation.id.in_(list(ids)))
    rows = (await session.execute(query)).all()
    return [
        {
            "conversation_id": conversation.id,
            "risk_level": conversation.risk_level,
            "status": conversation.status,
            "adviser_id": conversation.adviser_id if conversation.status == "active" else None,
            "adviser_name": name if conversation.status == "active" else None,
            "since": aware(conversation.created_at).isoformat()
            if conversation.created_at
            else None,
        }
        for conversation, name in rows
    ]


async def snapshot(services: Services) -> dict[str, Any]:
    """The whole board, for a supervisor's socket after hello."""
    async with services.db.read() as session:
        advisers = await adviser_rows(session)
        flagged = await flagged_rows(session)
    return {
        "type": "board",
        "wait_target_seconds": services.settings.wait_target_seconds,
        "advisers": advisers,
        "flagged": flagged,
    }


class BoardNews:
    """This node's board changes, gathered for BOARD_DELAY and sent as one event."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.staff: set[int] = set()
        self.chats: set[int] = set()
        self.pending = False

    def note(self, staff: Iterable[int | None] = (), chats: Iterable[int] = ()) -> None:
        self.staff |= {s for s in staff if s is not None}
        self.chats |= set(chats)
        if self.pending or not (self.staff or self.chats):
            return
        self.pending = True
        self.services.spawn(self._soon())

    async def _soon(self) -> None:
        await asyncio.sleep(BOARD_DELAY)
        # From here on a new change asks for another round, so nothing committed later is lost.
        self.pending = False
        staff, chats = self.staff, self.chats
        self.staff, self.chats = set(), set()
        try:
            await self.services.publish(
                SUPERVISORS_CHANNEL, await changes(self.services, staff, chats)
            )
        except Exception as problem:
            failed_with(problem, log, "board news failed")


async def changes(services: Services, staff: set[int], chats: set[int]) -> dict[str, Any]:
    """`board_changes` for these advisers and chats, read for only those."""
    async with services.db.read() as session:
        advisers = await adviser_rows(session, staff) if staff else []
        flagged = await flagged_rows(session, chats) if chats else []
    still = {row["conversation_id"] for row in flagged}
    listed = {row["staff_id"] for row in advisers}
    return {
        "type": "board_changes",
        "advisers": advisers,
        "flagged": flagged,
        # Ended, or never flagged: off the board.
        "unflagged": sorted(chats - still),
        # Disabled, or no longer taking chats.
        "gone_advisers": sorted(staff - listed),
    }


def note(services: Services, staff: Iterable[int | None] = (), chats: Iterable[int] = ()) -> None:
    """These advisers or chats changed: supervisors hear of it shortly, on every node."""
    found = services.features.find(BoardNews)
    if found is None:
        found = BoardNews(services)
        services.features.add(found)
    found.note(staff, chats)


async def after_hello(connection: Connection, _resume: dict[int, int]) -> None:
    staff = connection.staff
    if staff is None or staff.role != "supervisor":
        return
    connection.send(await snapshot(connection.services))


def install(services: Services) -> None:
    services.sockets.on_hello(after_hello)
