"""The queue and the advisers as routing sees them, read inside the transaction that acts on
the decision (chat/helpline/routing.py is the decision; this module only reads rows).

Every transaction that assigns chats first takes one routing lock: a transaction-level
advisory lock on PostgreSQL (released by its commit or rollback, so a dead node never holds
it), the database's single writer on SQLite. Two nodes therefore never decide from the same
picture: a chat goes to one adviser, and no adviser passes her capacity.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Executable, Select, case, exists, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from chat.core.clock import aware
from chat.core.models import Conversation, ReturnVisit, Staff
from chat.core.outages import failed_with
from chat.core.services import Services
from chat.core.settings import Settings
from chat.helpline.estimate import Kind
from chat.helpline.routing import DEFAULT_LANGUAGES, Adviser, Waiting, specialism_for

# Any fixed 64-bit number: the key of the routing lock (pg_advisory_xact_lock).
ROUTING_LOCK = 0x57494C4C4F57  # "WILLOW"
ADVISING_ROLES = ("adviser", "supervisor")
# At most one routing round per node this often; and a round at least this often anyway.
ROUND_DELAY = 0.02
TICK_SECONDS = 5.0
log = logging.getLogger("willow.routing")


class Router:
    """This node's routing rounds (chat/helpline/assign.py): one asked for at a time, so a
    burst of changes makes one round; and a slow tick, so an offer whose time has come goes
    out even when nothing else happens."""

    def __init__(self, services: Services, one_round: Callable[[], Awaitable[None]]) -> None:
        self.services = services
        self.one_round = one_round
        self.pending = False
        self.ticking = False
        self.last = float("-inf")
        # The last round found no adviser with a free place.
        self.full = False
        self.offers_due = False

    def wanted(self, arrival: bool = False) -> None:
        """Something changed that may let a chat start: run a round at once, or, when one
        ran less than ROUND_DELAY ago, as soon as that much time has passed.

        A new arrival (`arrival`: any change to the queue itself, which frees no place: she
        joins, she leaves it or is taken, her risk or her choice changes) needs no round
        while every adviser is full (`full`, from the last round): only a change that frees
        a place can start a chat then, and that change runs a round itself, on whichever node
        it happens. So a surge of arrivals costs nothing here, and neither does the chat a
        round has just handed over (no second round right behind it).
        """
        if not self.ticking:
            self.ticking = True
            self.services.spawn(self._tick())
        if arrival and self.full:
            return
        if self.pending:
            return
        self.pending = True
        loop = asyncio.get_running_loop()
        self.services.spawn(self._soon(max(0.0, self.last + ROUND_DELAY - loop.time())))

    async def _soon(self, wait: float) -> None:
        if wait > 0:
            await asyncio.sleep(wait)
        self.pending = False
        self.last = asyncio.get_running_loop().time()
        try:
            await self.one_round()
        except Exception as problem:
            failed_with(problem, log, "routing round failed")

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            # The offer's time may have come for someone: the tick's round looks.
            self.offers_due = True
            self.wanted()


async def lock_routing(session: AsyncSession) -> None:
    """Hold the routing lock until this transaction ends (a no-op on SQLite's single writer)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ROUTING_LOCK})


def seconds(at: datetime | None) -> float:
    return aware(at).timestamp() if at is not None else 0.0


def as_waiting(conversation: Conversation) -> Waiting:
    return Waiting(
        id=conversation.id,
        risk=conversation.priority,
        since=seconds(conversation.created_at),
        language=conversation.language,
        specialism=specialism_for(conversation.topic),
        any_adviser=bool(conversation.any_adviser),
    )


def as_adviser(staff: Staff, active: int, settings: Settings) -> Adviser:
    return Adviser(
        id=staff.id,
        capacity=staff.capacity,
        active=active,
        available=bool(staff.available) and not staff.disabled,
        trained=staff.trained_at is not None or not settings.chats_need_training,
        languages=frozenset(staff.languages or DEFAULT_LANGUAGES),
        specialisms=None if staff.specialisms is None else frozenset(staff.specialisms),
    )


async def waiting_rows(session: AsyncSession) -> list[Conversation]:
    result = await session.execute(
        select(Conversation)
        .where(Conversation.status == "waiting")
        .order_by(Conversation.priority.desc(), Conversation.created_at, Conversation.id)
    )
    return list(result.scalars())


# How many waiting chats one read takes, in the queue's order (a surge is read in pages
# only as far as free places reach).
PAGE = 100


def _waiting(*extra: Any) -> Select[Any]:
    """The waiting chats' plain columns as routing reads them (and `extra` ones), with the
    adviser a returning woman waits for."""
    return (
        select(
            Conversation.id,
            Conversation.priority,
            Conversation.created_at,
            Conversation.language,
            Conversation.topic,
            Conversation.any_adviser,
            Conversation.visitor_id,
            ReturnVisit.adviser_id.label("for_adviser"),
            *extra,
        )
        .outerjoin(
            ReturnVisit,
            (ReturnVisit.conversation_id == Conversation.id)
            & ReturnVisit.wait_for_adviser.is_(True),
        )
        .where(Conversation.status == "waiting")
    )


def waiting_query(offset: int = 0, limit: int | None = PAGE) -> Executable:
    """The waiting chats' plain columns in the queue's order (read by `waiting_page`)."""
    query = (
        _waiting()
        .order_by(Conversation.priority.desc(), Conversation.created_at, Conversation.id)
        .offset(offset)
    )
    return query if limit is None else query.limit(limit)


def as_waiting_rows(rows: Iterable[Any]) -> list[tuple[Waiting, int]]:
    """Rows of `waiting_query` as routing sees them, with each one's visitor id (pure: the
    whole queue's rows are turned into these off the event loop)."""
    return [(waiting_of(row, row.for_adviser), row.visitor_id) for row in rows]


def waiting_of(row: Any, for_adviser: int | None = None) -> Waiting:
    """One waiting chat's row as routing sees it."""
    return Waiting(
        id=row.id,
        risk=row.priority,
        since=seconds(row.created_at),
        language=row.language,
        specialism=specialism_for(row.topic),
        any_adviser=bool(row.any_adviser),
        for_adviser=for_adviser,
    )


async def waiting_page(
    session: AsyncSession, offset: int = 0, limit: int | None = PAGE
) -> list[tuple[Waiting, int]]:
    """Waiting chats in the queue's order as routing sees them, with each one's visitor id:
    plain columns, no ORM objects, so reading thousands stays cheap."""
    return as_waiting_rows(await session.execute(waiting_query(offset, limit)))


def _ranked() -> Any:
    """The waiting chats' plain columns, each with her place in the queue's order (1 first)
    and how many wait: numbered and counted by the database, not in Python."""
    return _waiting(
        func.row_number()
        .over(order_by=(Conversation.priority.desc(), Conversation.created_at, Conversation.id))
        .label("position"),
        func.count().over().label("total"),
    ).subquery("ranked")


def stretch_query(front: int, start: int, length: int) -> Executable:
    """The first `front` waiting chats and the `length` after the first `start`, in the
    queue's order, each with her position and how many wait (see `read_stretch`)."""
    ranked = _ranked()
    return (
        select(ranked)
        .where(
            or_(
                ranked.c.position <= front,
                (ranked.c.position > start) & (ranked.c.position <= start + length),
            )
        )
        .order_by(ranked.c.position)
    )


def kinds_query(start: int) -> Executable:
    """How many waiting chats there are of each kind (language, topic, her choice of any
    adviser, the adviser she waits for), among the first `start` and in the whole queue, in
    one pass: what the estimate of a woman further back needs to know of those ahead of
    her. Rows of (language, topic, any adviser, adviser waited for, first `start`, all)."""
    ranked = _ranked()
    return select(
        ranked.c.language,
        ranked.c.topic,
        ranked.c.any_adviser,
        ranked.c.for_adviser,
        func.sum(case((ranked.c.position <= start, 1), else_=0)),
        func.count(),
    ).group_by(ranked.c.language, ranked.c.topic, ranked.c.any_adviser, ranked.c.for_adviser)


def kinds(rows: Iterable[Any]) -> dict[Kind, int]:
    """Rows of (language, topic, any adviser, adviser waited for, count) as counts by kind."""
    found: dict[Kind, int] = {}
    for language, topic, any_adviser, for_adviser, count in rows:
        key = (language, specialism_for(topic), bool(any_adviser), for_adviser)
        found[key] = found.get(key, 0) + int(count or 0)
    return found


def kinds_both(rows: Iterable[Any]) -> tuple[dict[Kind, int], dict[Kind, int]]:
    """Rows of `kinds_query` as counts by kind: of the first `start`, and of everyone."""
    rows = list(rows)
    return kinds(row[:5] for row in rows), kinds((*row[:4], row[5]) for row in rows)


def as_stretch_rows(rows: Iterable[Any]) -> list[tuple[Waiting, int, int]]:
    """Rows of `stretch_query` as (her, her visitor id, her position)."""
    rows = list(rows)
    return [
        (waiting, visitor_id, int(row.position))
        for (waiting, visitor_id), row in zip(as_waiting_rows(rows), rows, strict=True)
    ]


async def advisers(session: AsyncSession, settings: Settings) -> dict[int, tuple[Staff, Adviser]]:
    """Every available adviser, with her chats counted now: one statement (it is on the path
    from a chat's end to the next woman's start, and each statement is a round trip)."""
    active = (
        select(func.count())
        .select_from(Conversation)
        .where(Conversation.status == "active", Conversation.adviser_id == Staff.id)
        .correlate(Staff)
        .scalar_subquery()
    )
    result = await session.execute(
        select(Staff, active).where(
            Staff.available.is_(True),
            Staff.disabled.is_(False),
            Staff.role.in_(ADVISING_ROLES),
        )
    )
    return {s.id: (s, as_adviser(s, int(count or 0), settings)) for s, count in result}


async def due_for_offer(
    session: AsyncSession, settings: Settings, at: datetime, limit: int = 200
) -> list[Waiting]:
    """Waiting chats not yet asked whether any adviser will do, whose time to match is up:
    plain columns, no ORM objects (in a surge the same rows are read at every tick while
    nobody needs asking)."""
    cutoff = at - timedelta(seconds=settings.match_wait_seconds)
    result = await session.execute(
        select(
            Conversation.id,
            Conversation.priority,
            Conversation.created_at,
            Conversation.language,
            Conversation.topic,
            Conversation.any_adviser,
        )
        .where(
            Conversation.status == "waiting",
            Conversation.offered_at.is_(None),
            Conversation.any_adviser.is_(False),
            Conversation.created_at <= cutoff,
            or_(Conversation.language.is_not(None), Conversation.topic.is_not(None)),
            # Waiting for the adviser she came back to: asked about that instead
            # (chat/helpline/returning.py), since any adviser would not widen her match.
            ~exists().where(
                ReturnVisit.conversation_id == Conversation.id,
                ReturnVisit.wait_for_adviser.is_(True),
            ),
        )
        .order_by(Conversation.created_at)
        .limit(limit)
    )
    return [waiting_of(row) for row in result]


async def recent_handling_seconds(session: AsyncSession, limit: int = 200) -> list[float]:
    """How long the most recently ended chats lasted from assignment to end, oldest first."""
    result = await session.execute(
        select(Conversation.assigned_at, Conversation.ended_at)
        .where(
            Conversation.status == "ended",
            Conversation.assigned_at.is_not(None),
            Conversation.ended_at.is_not(None),
        )
        .order_by(Conversation.ended_at.desc())
        .limit(limit)
    )
    return [seconds(ended) - seconds(assigned) for assigned, ended in reversed(result.all())]
