"""Housekeeping: every registered purge runs on its schedule, on every node, once per interval."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from chat.core.clock import now
from chat.core.housekeeping import Housekeeping
from chat.core.models import (
    AuditEntry,
    Conversation,
    HousekeepingJob,
    StaffSession,
    Stream,
    VisitorSession,
)
from chat.core.services import Services
from chat.core.settings import Settings
from chat.helpline.retention import purge_unused_visitor_sessions
from chat.helpline.staff import create_staff
from tests.conftest import node_services, running_server
from tests.wsclient import Client, Server, visitor

JOBS = {
    "audit_log",
    "transcripts",
    "visitor_sessions",
    "staff_sessions",
    "room_sessions",
    "room_expiry",
    "presence",
    "seal_second_factor",
}


async def _old_and_new_rows(services: Services) -> dict[str, Any]:
    """One row past its keeping time and one within it, for every purge."""
    settings = services.settings
    staff = await create_staff(services, "purge-adviser", "adviser", "a long password here")
    long_ago = now() - timedelta(days=settings.transcript_retention_days + 1)
    async with services.db.write() as session:
        ended = VisitorSession(token_hash="ended-chat")
        idle = VisitorSession(token_hash="never-chatted")
        fresh = VisitorSession(token_hash="just-arrived")
        waiting = VisitorSession(token_hash="still-waiting")
        session.add_all([ended, idle, fresh, waiting])
        streams = [Stream(kind="conversation", last_seq=0) for _ in range(2)]
        session.add_all(streams)
        await session.flush()
        idle.created_at = waiting.created_at = ended.created_at = long_ago
        session.add_all(
            [
                Conversation(
                    id=streams[0].id,
                    visitor_id=ended.id,
                    status="ended",
                    ended_at=long_ago,
                    ended_by="visitor",
                ),
                Conversation(id=streams[1].id, visitor_id=waiting.id, status="waiting"),
                StaffSession(
                    token_hash="expired",
                    csrf_token="c",
                    staff_id=staff.id,
                    expires_at=now() - timedelta(minutes=1),
                ),
                StaffSession(
                    token_hash="valid",
                    csrf_token="c",
                    staff_id=staff.id,
                    expires_at=now() + timedelta(hours=1),
                ),
                AuditEntry(
                    actor="staff:1",
                    action="old.entry",
                    subject="x",
                    at=now() - timedelta(days=settings.audit_retention_days + 1),
                ),
                AuditEntry(actor="staff:1", action="new.entry", subject="x"),
            ]
        )
    return {"kept_visitors": {"just-arrived", "still-waiting"}, "waiting": streams[1].id}


async def _left(services: Services) -> tuple[set[str], int, set[str], set[str]]:
    async with services.db.read() as session:
        visitors = set(await session.scalars(select(VisitorSession.token_hash)))
        conversations = await session.scalar(select(func.count()).select_from(Conversation))
        staff_sessions = set(await session.scalars(select(StaffSession.token_hash)))
        # Making the test's staff account is itself audited (and recent): not what is purged.
        audit = set(
            await session.scalars(
                select(AuditEntry.action).where(AuditEntry.action != "staff.created")
            )
        )
    return visitors, int(conversations or 0), staff_sessions, audit


async def _until(check: Any, timeout: float = 8.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "housekeeping did not run in time"
        await asyncio.sleep(0.05)


async def test_every_purge_runs_on_its_schedule(settings: Settings) -> None:
    quick = settings.model_copy(update={"housekeeping_seconds": 0.3})
    async with running_server(quick) as server:
        services = server.services
        assert services is not None
        rows = await _old_and_new_rows(services)

        async def purged() -> bool:
            visitors, conversations, staff_sessions, audit = await _left(services)
            return (visitors, conversations, staff_sessions, audit) == (
                rows["kept_visitors"],
                1,
                {"valid"},
                {"new.entry"},
            )

        await _until(purged)
        async with services.db.read() as session:
            finished = {
                name
                for name, at in await session.execute(
                    select(HousekeepingJob.name, HousekeepingJob.last_finished_at)
                )
                if at is not None
            }
        assert finished == JOBS

        # It keeps running: something that grows old later goes at a later round.
        async with services.db.write() as session:
            session.add(
                AuditEntry(
                    actor="staff:1",
                    action="later.entry",
                    subject="x",
                    at=now() - timedelta(days=quick.audit_retention_days, minutes=1),
                )
            )

        async def purged_again() -> bool:
            return "later.entry" not in (await _left(services))[3]

        await _until(purged_again)


async def test_nodes_looking_at_the_same_moment_run_a_job_once(settings: Settings) -> None:
    async with node_services(settings) as one, node_services(settings) as two:
        ran: list[str] = []

        def job(node: str) -> Any:
            async def work() -> int:
                ran.append(node)
                return 0

            return work

        nodes = [Housekeeping(one.db), Housekeeping(two.db)]
        for name, node in zip("ab", nodes, strict=True):
            node.register("probe", 3600, job(name))
        rounds = await asyncio.gather(*(node.run_due() for node in nodes * 3))
    assert len(ran) == 1
    assert sum("probe" in done for done in rounds) == 1


async def test_two_nodes_never_run_one_job_at_the_same_time(settings: Settings) -> None:
    running, most, runs = 0, 0, 0

    async def slow_work() -> int:
        nonlocal running, most, runs
        running += 1
        runs += 1
        most = max(most, running)
        await asyncio.sleep(0.15)
        running -= 1
        return 0

    async with node_services(settings) as one, node_services(settings) as two:
        nodes = [Housekeeping(one.db), Housekeeping(two.db)]
        for node in nodes:
            # Due again long before a run ends: only the lease keeps the other node out.
            node.register("probe", 0.02, slow_work)
        loops = [asyncio.create_task(node.run_forever()) for node in nodes]
        await asyncio.sleep(1.5)
        for loop in loops:
            loop.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
    assert most == 1
    assert runs >= 4


async def test_a_node_that_dies_holding_a_job_keeps_it_only_until_the_lease_ends(
    settings: Settings,
) -> None:
    async def work() -> int:
        return 0

    async with node_services(settings) as one, node_services(settings) as two:
        first, second = Housekeeping(one.db), Housekeeping(two.db)
        for node in (first, second):
            node.register("probe", 0.01, work, lease_seconds=0.5)
        assert "probe" in await first.run_due()
        await asyncio.sleep(0.02)
        # The first node takes the job and dies before giving it back.
        assert await first.claim(first.jobs["probe"])
        await asyncio.sleep(0.02)
        assert not await second.claim(second.jobs["probe"])
        await asyncio.sleep(0.55)
        assert await second.claim(second.jobs["probe"])


async def test_a_job_needs_a_positive_interval_and_a_name_of_its_own(
    services: Services,
) -> None:
    async def work() -> int:
        return 0

    for every in (0, -1):
        with pytest.raises(ValueError, match="interval must be positive"):
            services.housekeeping.register("bad", every, work)
    with pytest.raises(ValueError, match="registered twice"):
        services.housekeeping.register("audit_log", 60, work)


async def test_a_page_whose_unused_session_was_purged_is_told_it_has_ended(server: Server) -> None:
    assert server.services is not None
    her, token = await visitor(server)
    hours = server.services.settings.visitor_session_hours
    assert await purge_unused_visitor_sessions(server.services) == 0
    later = now() + timedelta(hours=hours, minutes=1)
    assert await purge_unused_visitor_sessions(server.services, later) == 1
    await her.send({"type": "request_chat"})
    assert (await her.receive("error"))["code"] == "unauthorized"
    await her.close()
    again = await Client.open(server)
    await again.send({"type": "hello", "v": 1, "token": token})
    assert (await again.receive("error"))["code"] == "unauthorized"
    await again.close()
