"""One scheduler for every periodic purge and expiry, run by every node, done once per interval.

Each feature registers its jobs at install (`services.housekeeping.register(name, every, work)`)
and every node runs the same loop. Before running a job a node claims it with one conditional
UPDATE of the job's row in `housekeeping_jobs`: due (`next_run_at` passed) and not leased to a
node that is running it now. The claim moves `next_run_at` one interval on and takes a lease, so
of the nodes that look at the same moment exactly one gets the row (PostgreSQL re-checks the
condition after the other's update commits; SQLite has one writer) and the others find it not
due. The lease is given back when the job ends; a node that dies mid-run holds it only until
it expires, then another node runs the job.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from chat.core.clock import now
from chat.core.db import Database
from chat.core.models import HousekeepingJob
from chat.core.outages import failed_with

log = logging.getLogger("willow.housekeeping")

# How long a node may hold a job before others assume it died; no purge takes near this long.
LEASE_SECONDS = 15 * 60
# A node looks for due jobs at least this often, whatever the jobs' intervals.
LONGEST_NAP_SECONDS = 60.0

# Does the work and says how many rows it removed.
Work = Callable[[], Awaitable[int]]


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: float
    work: Work
    lease_seconds: float = LEASE_SECONDS


class Housekeeping:
    """The node's scheduler; the jobs' rows in the database decide which node runs what."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.jobs: dict[str, Job] = {}
        self._rows_made = False

    def register(
        self, name: str, every_seconds: float, work: Work, lease_seconds: float = LEASE_SECONDS
    ) -> None:
        """Run `work` once per `every_seconds` across all nodes (first soon after start)."""
        if every_seconds <= 0:
            raise ValueError(f"housekeeping job {name!r}: the interval must be positive")
        if name in self.jobs:
            raise ValueError(f"housekeeping job {name!r} is registered twice")
        self.jobs[name] = Job(name, every_seconds, work, lease_seconds)

    async def run_forever(self) -> None:
        """Every node runs this for as long as the app runs."""
        while True:
            try:
                await self.run_due()
            except Exception as problem:
                failed_with(problem, log, "housekeeping round failed")
            await asyncio.sleep(self._nap())

    def _nap(self) -> float:
        shortest = min((job.every_seconds for job in self.jobs.values()), default=None)
        return LONGEST_NAP_SECONDS if shortest is None else min(shortest, LONGEST_NAP_SECONDS)

    async def run_due(self) -> dict[str, int]:
        """Run every job that is due and that this node claims; how many rows each removed."""
        await self._make_rows()
        done: dict[str, int] = {}
        for job in list(self.jobs.values()):
            if await self.claim(job):
                done[job.name] = await self._run(job)
        return done

    async def claim(self, job: Job) -> bool:
        """Take the job for this run if it is due and nobody holds it; at most one node wins."""
        at = now()
        async with self._db.write() as session:
            result = await session.execute(
                update(HousekeepingJob)
                .where(
                    HousekeepingJob.name == job.name,
                    HousekeepingJob.next_run_at <= at,
                    or_(HousekeepingJob.lease_until.is_(None), HousekeepingJob.lease_until <= at),
                )
                .values(
                    next_run_at=at + timedelta(seconds=job.every_seconds),
                    lease_until=at + timedelta(seconds=job.lease_seconds),
                )
            )
        return bool(getattr(result, "rowcount", 0))

    async def _run(self, job: Job) -> int:
        removed = 0
        try:
            removed = await job.work()
        except Exception as problem:
            failed_with(problem, log, "housekeeping job %s failed", job.name)
        else:
            if removed:
                log.info("housekeeping: %s removed %d", job.name, removed)
        await self._release(job, removed)
        return removed

    async def _release(self, job: Job, removed: int) -> None:
        async with self._db.write() as session:
            await session.execute(
                update(HousekeepingJob)
                .where(HousekeepingJob.name == job.name)
                .values(lease_until=None, last_finished_at=now(), last_removed=removed)
            )

    async def _make_rows(self) -> None:
        """A row per registered job, due now; rows other nodes made are left as they are."""
        if self._rows_made or not self.jobs:
            return
        insert = sqlite_insert if self._db.is_sqlite else postgres_insert
        rows = [{"name": name, "next_run_at": now(), "last_removed": 0} for name in self.jobs]
        async with self._db.write() as session:
            await session.execute(insert(HousekeepingJob).values(rows).on_conflict_do_nothing())
        self._rows_made = True

    async def next_runs(self) -> dict[str, datetime]:
        """When each job is next due (for operators and tests)."""
        async with self._db.read() as session:
            rows = await session.execute(select(HousekeepingJob.name, HousekeepingJob.next_run_at))
            return dict(rows.tuples().all())
