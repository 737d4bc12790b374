"""The backup in docs/OPERATIONS.md, done for real: pg_dump a Willow database, pg_restore it
into an empty one, migrate, and find everything there (accounts log in, chats, reports)."""

from __future__ import annotations

import asyncio
import secrets
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from chat.core.identity import visitor_by_token
from chat.core.models import Conversation, Staff
from chat.core.services import Services
from chat.core.settings import Settings
from chat.core.tally import Happening
from chat.helpline.conversations import request_chat
from chat.helpline.login_guard import LoginRefused
from chat.helpline.staff import login
from chat.helpline.visitors import SessionRequest, start_session
from chat.reporting.counting import count
from chat.reporting.models import ReportCount
from tests.cluster.nodes import ClusterConfig, parse_password, willow
from tests.services import REQUIRE, postgres_url, redis_url, scratch_postgres

pytestmark = pytest.mark.cluster


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        message = f"{name} not installed (it comes with postgresql-client)"
        if REQUIRE:
            pytest.fail(message)
        pytest.skip(message)
    return found


def libpq(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def services_on(url: str) -> Services:
    return Services.build(
        Settings(
            env="test",
            secret_key=secrets.token_urlsafe(48),
            database_url=url,
            broker_url="memory://",
        )
    )


async def fill(url: str) -> None:
    services = services_on(url)
    try:
        token = await start_session(services, SessionRequest(language="pl", topic="alcohol"))
        visitor = await visitor_by_token(services, token)
        assert visitor is not None
        await request_chat(services, visitor)
        at = datetime(2026, 1, 15, 10, tzinfo=UTC)
        await count(services, Happening("contact", {"language": "pl"}, at=at))
    finally:
        await services.db.dispose()


async def restored_figures(url: str) -> tuple[int, int, int]:
    services = services_on(url)
    try:
        async with services.db.read() as session:
            staff = await session.scalar(select(func.count()).select_from(Staff))
            chats = await session.scalar(select(func.count()).select_from(Conversation))
            counts = await session.scalar(select(func.sum(ReportCount.count)))
        return int(staff or 0), int(chats or 0), int(counts or 0)
    finally:
        await services.db.dispose()


async def logs_in(url: str, username: str, password: str) -> bool:
    services = services_on(url)
    try:
        await login(services, username, password, None, "127.0.0.1")
        return True
    except LoginRefused:
        return False
    finally:
        await services.db.dispose()


def test_a_dump_restores_into_an_empty_database_and_willow_runs_on_it(
    tmp_path: Path,
) -> None:
    pg_dump, pg_restore = tool("pg_dump"), tool("pg_restore")
    base, broker = postgres_url(), redis_url()
    with scratch_postgres(base) as original, scratch_postgres(base) as restored:
        config = ClusterConfig(database_url=original, broker_url=broker)
        willow(["migrate"], config.env())
        password = parse_password(
            willow(["staff", "add", "--role", "supervisor", "sam"], config.env())
        )
        asyncio.run(fill(original))

        dump = tmp_path / "willow.dump"
        # The commands docs/OPERATIONS.md gives, with this test's database names.
        subprocess.run(
            [pg_dump, "--format=custom", f"--dbname={libpq(original)}", f"--file={dump}"],
            check=True,
        )
        subprocess.run(
            [pg_restore, "--no-owner", f"--dbname={libpq(restored)}", str(dump)], check=True
        )
        out = willow(["migrate"], ClusterConfig(database_url=restored, broker_url=broker).env())
        assert "up to date" in out

        # One account, one chat, and one contact counted into seven daily cells.
        figures = asyncio.run(restored_figures(restored))
        assert figures == asyncio.run(restored_figures(original)) == (1, 1, 7)
        assert asyncio.run(logs_in(restored, "sam", password))
