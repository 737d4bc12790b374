"""Who is here, across nodes: one mechanism for visitors, staff and room seats.

A socket's presence belongs to the node that holds it. Each node keeps a lease row in
`presence_nodes`, renewed by its heartbeat (every third of the lease); for each subject it holds
at least one socket of (a visitor, a staff account, a room seat: a `kind` and an id) it keeps a
row in `presence_holds` with `released_at` empty. When the node's last socket of a subject
closes, the row is released (`released_at` set). When a node dies (kill -9), its lease lapses:
the `presence` housekeeping job, run by one node at a time, releases every hold of a lapsed node
as of the moment its lease ran out, and removes the node's row.

A subject is here while any hold of it is unreleased on a node whose lease runs; it has been
away since the latest release of its holds. Features register per kind what happens:
- `away`: the subject's last socket anywhere closed (or its node died): at once;
- `back`: a socket of it opened while it was away;
- `expired`: called by the sweep for a subject away at least the kind's grace, with the time it
  has been away since; it returns True when it is done with the subject (its holds are then
  forgotten), False to be asked again on the next sweep (a longer grace still running).

A database outage is not a death: a node that retakes its own lease, lapsed while its
heartbeat could not reach the database, gives the other lapsed nodes one more lease before a
sweep may reclaim them, and a socket that closed while the
database was away is released by the next heartbeat that reaches it, as of the close.

Every check reads the database, so the answer is the same on every node; the app's clock
(chat/core/clock.py) decides what has lapsed, so tests move time instead of sleeping.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import DateTime, Integer, String, and_, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from chat.core import clock
from chat.core.clock import aware
from chat.core.db import Database
from chat.core.models import Base
from chat.core.outages import failed_with

log = logging.getLogger("willow.presence")

VISITOR = "visitor"
STAFF = "staff"


class PresenceNode(Base):
    """A running node and how long its lease lasts without another heartbeat."""

    __tablename__ = "presence_nodes"

    node: Mapped[str] = mapped_column(String(32), primary_key=True)
    lease_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PresenceHold(Base):
    """A node holds a socket of a subject (released_at empty), or did until released_at."""

    __tablename__ = "presence_holds"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    subject: Mapped[int] = mapped_column(Integer, primary_key=True)
    node: Mapped[str] = mapped_column(String(32), primary_key=True)
    # How many of the subject's sockets the node holds (mentors in a room are counted by it).
    sockets: Mapped[int] = mapped_column(Integer, default=1)
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


Away = Callable[[int], Awaitable[None]]
Back = Callable[[int], Awaitable[None]]
# Called after any change of the subject's sockets (arrive, leave, a node's holds reclaimed).
Changed = Callable[[int], Awaitable[None]]
Grace = float | Callable[[], float]
# (subject, away since) -> done with it
Expired = Callable[[int, datetime], Awaitable[bool]]


async def _nothing(_subject: int) -> None:
    return None


@dataclass
class Kind:
    name: str
    grace: Grace
    expired: Expired
    away: Away = _nothing
    back: Back = _nothing
    changed: Changed | None = None

    @property
    def grace_seconds(self) -> float:
        return self.grace() if callable(self.grace) else self.grace


class Presence:
    """This node's side: its lease, the subjects it holds sockets of, and the sweep."""

    def __init__(self, db: Database, node: str, lease_seconds: float) -> None:
        self._db = db
        self.node = node
        self.lease_seconds = lease_seconds
        self.kinds: dict[str, Kind] = {}
        # (kind, subject) -> sockets open on this node
        self._held: dict[tuple[str, int], int] = {}
        self._locks: dict[tuple[str, int], asyncio.Lock] = {}
        # Socket closes the database could not be told of (it was down): (kind, subject) ->
        # when. The heartbeat writes them once it answers, or the hold would never end.
        self._untold: dict[tuple[str, int], datetime] = {}
        # A heartbeat failed (the database did not answer) since the last one that worked.
        self._cut_off = False

    def track(
        self,
        kind: str,
        grace_seconds: Grace,
        expired: Expired,
        away: Away = _nothing,
        back: Back = _nothing,
        changed: Changed | None = None,
    ) -> None:
        """`grace_seconds` may be a function, read at each sweep (tests shorten it)."""
        if kind in self.kinds:
            raise ValueError(f"presence kind {kind!r} is tracked twice")
        self.kinds[kind] = Kind(kind, grace_seconds, expired, away, back, changed)

    # --- sockets on this node -------------------------------------------------------------

    def holds(self, kind: str, subject: int) -> bool:
        return self._held.get((kind, subject), 0) > 0

    async def arrive(self, kind: str, subject: int) -> None:
        """A socket of the subject opened here (after hello)."""
        key = (kind, subject)
        tracked = self.kinds[kind]
        async with self._lock(key):
            self._held[key] = self._held.get(key, 0) + 1
            self._untold.pop(key, None)
            if self._held[key] > 1 and tracked.changed is None:
                return
            at = clock.now()
            async with self._db.write() as session:
                was_here = await _here(session, kind, subject, at)
                await self._hold(session, kind, subject, self._held[key])
        if not was_here:
            await tracked.back(subject)
        if tracked.changed is not None:
            await tracked.changed(subject)

    async def leave(self, kind: str, subject: int) -> None:
        """A socket of the subject closed here."""
        key = (kind, subject)
        tracked = self.kinds[kind]
        async with self._lock(key):
            count = self._held.get(key, 0) - 1
            if count > 0:
                self._held[key] = count
                if tracked.changed is not None:
                    try:
                        async with self._db.write() as session:
                            await self._hold(session, kind, subject, count)
                    except Exception:
                        self._untold[key] = clock.now()
                        raise
                    await tracked.changed(subject)
                return
            self._held.pop(key, None)
            at = clock.now()
            try:
                still_here = await self._release(kind, subject, at)
            except Exception:
                # Told when the database answers again (heartbeat), as of now.
                self._untold[key] = at
                raise
        self._locks.pop(key, None)
        if not still_here:
            await tracked.away(subject)
        if tracked.changed is not None:
            await tracked.changed(subject)

    async def _release(self, kind: str, subject: int, at: datetime) -> bool:
        """Release this node's hold of the subject as of `at`: is it still here elsewhere?"""
        async with self._db.write() as session:
            await session.execute(
                update(PresenceHold)
                .where(
                    PresenceHold.kind == kind,
                    PresenceHold.subject == subject,
                    PresenceHold.node == self.node,
                )
                .values(released_at=at)
            )
            return await _here(session, kind, subject, at)

    async def _tell_untold(self) -> None:
        """Write the socket changes an outage kept from the database, and tell the features."""
        for key, at in list(self._untold.items()):
            kind, subject = key
            tracked = self.kinds.get(kind)
            async with self._lock(key):
                if self._untold.get(key) != at:
                    continue  # it came back (or changed again) meanwhile
                count = self._held.get(key, 0)
                if count > 0:
                    async with self._db.write() as session:
                        await self._hold(session, kind, subject, count)
                    still_here = True
                else:
                    still_here = await self._release(kind, subject, at)
                del self._untold[key]
            if tracked is None:
                continue
            if not still_here:
                await tracked.away(subject)
            if tracked.changed is not None:
                await tracked.changed(subject)

    def _lock(self, key: tuple[str, int]) -> asyncio.Lock:
        return self._locks.setdefault(key, asyncio.Lock())

    async def _hold(self, session: AsyncSession, kind: str, subject: int, sockets: int) -> None:
        insert = sqlite_insert if self._db.is_sqlite else postgres_insert
        statement = insert(PresenceHold).values(
            kind=kind, subject=subject, node=self.node, sockets=sockets, released_at=None
        )
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=["kind", "subject", "node"],
                set_={"released_at": None, "sockets": sockets},
            )
        )

    # --- the lease ------------------------------------------------------------------------

    async def heartbeat(self) -> None:
        """Renew this node's lease; if it had lapsed (another node, or this node's own sweep
        on an earlier run, may have released its holds), take the lease again, hold again what
        this node still holds, and tell the features those subjects are here after all."""
        at = clock.now()
        until = at + timedelta(seconds=self.lease_seconds)
        retaken: list[tuple[str, int]] = []
        try:
            async with self._db.write() as session:
                renewed = await session.execute(
                    update(PresenceNode)
                    .where(PresenceNode.node == self.node, PresenceNode.lease_until > at)
                    .values(lease_until=until)
                )
                if getattr(renewed, "rowcount", 0) == 0:
                    retaken = await self._retake(session, at, until)
        except Exception:
            self._cut_off = True
            raise
        self._cut_off = False
        await self._tell_untold()
        # After a lapse (a database outage longer than the lease): whoever was counted away
        # while this node could not beat is back, and counts (a room's mentors) are redone.
        for kind, subject in retaken:
            tracked = self.kinds.get(kind)
            if tracked is None:
                continue
            await tracked.back(subject)
            if tracked.changed is not None:
                await tracked.changed(subject)

    async def _retake(
        self, session: AsyncSession, at: datetime, until: datetime
    ) -> list[tuple[str, int]]:
        """Take the lapsed lease again and hold again what this node holds: the subjects
        that had been counted away meanwhile."""
        lapsed = await session.scalar(
            select(func.count()).select_from(PresenceNode).where(PresenceNode.node == self.node)
        )
        insert = sqlite_insert if self._db.is_sqlite else postgres_insert
        await session.execute(
            insert(PresenceNode)
            .values(node=self.node, lease_until=until)
            .on_conflict_do_update(index_elements=["node"], set_={"lease_until": until})
        )
        if lapsed and self._cut_off:
            # This running node could not reach the database for a whole lease: an outage,
            # most often for every node alike. The others whose lease lapsed meanwhile get one
            # lease to beat again before a sweep takes them for dead (an outage is not a death;
            # a node that really died is reclaimed one lease later). A lapse without a failed
            # beat (this node was merely slow) proves nothing of the others: none is given.
            await session.execute(
                update(PresenceNode)
                .where(PresenceNode.node != self.node, PresenceNode.lease_until <= at)
                .values(lease_until=until)
            )
        retaken: list[tuple[str, int]] = []
        for (kind, subject), sockets in list(self._held.items()):
            if sockets > 0:
                was_here = await _here(session, kind, subject, at)
                await self._hold(session, kind, subject, sockets)
                if not was_here:
                    retaken.append((kind, subject))
        return retaken

    async def run_forever(self) -> None:
        """Every node beats for as long as it runs."""
        failing = False
        while True:
            try:
                await self.heartbeat()
            except Exception:
                if not failing:
                    # One line when beating stops, one when it resumes (not one per beat).
                    log.warning("presence heartbeat failed; retrying")
                failing = True
            else:
                if failing:
                    log.warning("presence heartbeat works again")
                failing = False
            await asyncio.sleep(self.lease_seconds / 3)

    async def stop(self) -> None:
        """A node that stops politely releases its holds now rather than at lease end."""
        at = clock.now()
        async with self._db.write() as session:
            await session.execute(
                update(PresenceHold)
                .where(PresenceHold.node == self.node, PresenceHold.released_at.is_(None))
                .values(released_at=at)
            )
            await session.execute(delete(PresenceNode).where(PresenceNode.node == self.node))

    # --- the sweep (housekeeping: one node at a time) -------------------------------------

    async def sweep(self) -> int:
        """Release the holds of lapsed nodes, tell who went away, act on expired absences.

        The node that sweeps is alive: it beats first, so it never takes its own holds for a
        dead node's when its lease ran out during an outage it has just come through."""
        await self.heartbeat()
        at = clock.now()
        touched, gone = await self._reclaim(at)
        for name, subject in gone:
            if name in self.kinds:
                await self.kinds[name].away(subject)
        for name, subject in touched:
            changed = self.kinds[name].changed if name in self.kinds else None
            if changed is not None:
                await changed(subject)
        done = 0
        for kind in self.kinds.values():
            for subject, since in await self._away_longer_than(kind, at):
                try:
                    finished = await kind.expired(subject, since)
                except Exception as problem:
                    failed_with(
                        problem, log, "presence: acting on an absence (%s) failed", kind.name
                    )
                    continue
                if finished:
                    await self._forget(kind.name, subject)
                    done += 1
        return done

    async def _reclaim(self, at: datetime) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
        """Holds of nodes whose lease lapsed are released as of the lapse: whose holds were
        released, and which of them are now away."""
        async with self._db.write() as session:
            found = await session.execute(
                select(PresenceNode.node, PresenceNode.lease_until).where(
                    PresenceNode.lease_until <= at
                )
            )
            lapsed = {node: until for node, until in found.all()}
            touched: set[tuple[str, int]] = set()
            for node, until in lapsed.items():
                rows = await session.execute(
                    update(PresenceHold)
                    .where(PresenceHold.node == node, PresenceHold.released_at.is_(None))
                    .values(released_at=until)
                    .returning(PresenceHold.kind, PresenceHold.subject)
                )
                touched.update((kind, subject) for kind, subject in rows.all())
                await session.execute(
                    delete(PresenceNode).where(
                        PresenceNode.node == node, PresenceNode.lease_until <= at
                    )
                )
            # Holds of a node with no lease row at all (it never beat, or was removed).
            orphans = await session.execute(
                update(PresenceHold)
                .where(
                    PresenceHold.released_at.is_(None),
                    ~PresenceHold.node.in_(select(PresenceNode.node)),
                )
                .values(released_at=at)
                .returning(PresenceHold.kind, PresenceHold.subject)
            )
            touched.update((kind, subject) for kind, subject in orphans.all())
            away = [
                (kind, subject)
                for kind, subject in sorted(touched)
                if not await _here(session, kind, subject, at)
            ]
        return sorted(touched), away

    async def _away_longer_than(self, kind: Kind, at: datetime) -> list[tuple[int, datetime]]:
        cutoff = at - timedelta(seconds=kind.grace_seconds)
        live = select(PresenceHold.subject).where(
            PresenceHold.kind == kind.name, PresenceHold.released_at.is_(None)
        )
        async with self._db.read() as session:
            rows = await session.execute(
                select(PresenceHold.subject, func.max(PresenceHold.released_at))
                .where(PresenceHold.kind == kind.name, PresenceHold.subject.not_in(live))
                .group_by(PresenceHold.subject)
                .having(func.max(PresenceHold.released_at) <= cutoff)
            )
            return [(subject, aware(since)) for subject, since in rows.all() if since is not None]

    async def _forget(self, kind: str, subject: int) -> None:
        """Done with an absence; a hold that came back meanwhile is kept."""
        async with self._db.write() as session:
            live = await session.scalar(
                select(func.count())
                .select_from(PresenceHold)
                .where(
                    PresenceHold.kind == kind,
                    PresenceHold.subject == subject,
                    PresenceHold.released_at.is_(None),
                )
            )
            if not live:
                await session.execute(
                    delete(PresenceHold).where(
                        PresenceHold.kind == kind, PresenceHold.subject == subject
                    )
                )

    # --- questions ------------------------------------------------------------------------

    async def here(self, kind: str, subject: int) -> bool:
        async with self._db.read() as session:
            return await _here(session, kind, subject, clock.now())

    async def sockets(self, session: AsyncSession, kind: str, subject: int) -> int:
        """How many sockets of the subject are open on live nodes (in the caller's
        transaction)."""
        found = await session.scalar(
            select(func.coalesce(func.sum(PresenceHold.sockets), 0))
            .join(PresenceNode, PresenceNode.node == PresenceHold.node)
            .where(
                PresenceHold.kind == kind,
                PresenceHold.subject == subject,
                PresenceHold.released_at.is_(None),
                PresenceNode.lease_until > clock.now(),
            )
        )
        return int(found or 0)

    async def count_here(self, kind: str, subjects: list[int]) -> set[int]:
        """Which of these subjects are here now."""
        if not subjects:
            return set()
        async with self._db.read() as session:
            rows = await session.scalars(
                select(PresenceHold.subject)
                .join(PresenceNode, PresenceNode.node == PresenceHold.node)
                .where(
                    PresenceHold.kind == kind,
                    PresenceHold.subject.in_(subjects),
                    PresenceHold.released_at.is_(None),
                    PresenceNode.lease_until > clock.now(),
                )
            )
            return set(rows)


async def _here(session: AsyncSession, kind: str, subject: int, at: datetime) -> bool:
    """Any unreleased hold of the subject on a node whose lease runs."""
    found = await session.scalar(
        select(func.count())
        .select_from(PresenceHold)
        .join(PresenceNode, PresenceNode.node == PresenceHold.node)
        .where(
            and_(
                PresenceHold.kind == kind,
                PresenceHold.subject == subject,
                PresenceHold.released_at.is_(None),
                PresenceNode.lease_until > at,
            )
        )
    )
    return bool(found)


async def here_among(session: AsyncSession, kind: str, subjects: list[int]) -> set[int]:
    """Which of these subjects have a socket open on some node whose lease runs, now."""
    if not subjects:
        return set()
    rows = await session.scalars(
        select(PresenceHold.subject)
        .join(PresenceNode, PresenceNode.node == PresenceHold.node)
        .where(
            PresenceHold.kind == kind,
            PresenceHold.subject.in_(subjects),
            PresenceHold.released_at.is_(None),
            PresenceNode.lease_until > clock.now(),
        )
        .distinct()
    )
    return set(rows.all())
