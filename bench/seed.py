"""Accounts for a run, written to the database before the server starts.

Staff accounts go through `chat.helpline.staff.create_staff`, as `willow staff add` does.
Their login sessions and the visitors' anonymous sessions are inserted directly (a keyed hash
of a random token, as Willow stores them), so thousands of visitors cost a second, not a
minute of HTTP.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import insert, select, update

from chat.core.models import Staff, StaffSession, VisitorSession
from chat.core.security import new_token, token_hash
from chat.core.services import Services
from chat.core.settings import Settings
from chat.helpline.staff import create_staff
from chat.schema import upgrade

ADVISER_CAPACITY = 40  # the most Willow allows; keeps the number of adviser accounts small


@dataclass
class Seeded:
    visitor_tokens: list[str]
    staff_cookies: list[str]  # one logged-in adviser per entry


async def seed(
    database_url: str, secret_key: str, visitors: int, advisers: int, role: str = "adviser"
) -> Seeded:
    """Migrate the database, then create staff of `role` (logged in) and visitor sessions.

    Mentors are created with their training recorded, since untrained mentors cannot open rooms.
    """
    settings = Settings(
        env="test",
        secret_key=secret_key,
        database_url=database_url,
        broker_url="memory://",
        adviser_capacity=ADVISER_CAPACITY,
    )
    services = Services.build(settings)
    key = settings.effective_secret_key
    try:
        await upgrade(services.db.engine)
        staff_ids = await _advisers(services, advisers, role)
        cookies = [new_token() for _ in staff_ids]
        tokens = [new_token() for _ in range(visitors)]
        expires = datetime.now(UTC) + timedelta(days=1)
        async with services.db.write() as session:
            if staff_ids:
                await session.execute(
                    insert(StaffSession),
                    [
                        {
                            "token_hash": token_hash(cookie, key),
                            "csrf_token": new_token(),
                            "staff_id": staff_id,
                            "expires_at": expires,
                        }
                        for cookie, staff_id in zip(cookies, staff_ids, strict=True)
                    ],
                )
            for start in range(0, len(tokens), 5000):
                batch = tokens[start : start + 5000]
                await session.execute(
                    insert(VisitorSession), [{"token_hash": token_hash(t, key)} for t in batch]
                )
    finally:
        await services.db.dispose()
    return Seeded(tokens, cookies)


async def _advisers(services: Services, count: int, role: str = "adviser") -> list[int]:
    """The first through `create_staff`; the others share its password hash, because argon2
    takes a noticeable moment per account and a full run needs hundreds of advisers."""
    if count == 0:
        return []
    first = await create_staff(
        services, f"bench-{role}-0", role, secrets.token_urlsafe(16), f"Bench {role} no. 0"
    )
    # Training recorded for everyone: untrained mentors open no rooms, untrained advisers
    # take no chats.
    trained = datetime.now(UTC)
    rows = [
        {
            "username": f"bench-{role}-{index}",
            "display_name": f"Bench {role} no. {index}",
            "password_hash": first.password_hash,
            "role": role,
            "capacity": ADVISER_CAPACITY,
            "available": False,
            "trained_at": trained,
        }
        for index in range(1, count)
    ]
    async with services.db.write() as session:
        if trained is not None:
            await session.execute(
                update(Staff).where(Staff.id == first.id).values(trained_at=trained)
            )
        if rows:
            await session.execute(insert(Staff), rows)
        result = await session.execute(select(Staff.id).order_by(Staff.id))
        return [int(i) for i in result.scalars()]


def plain_postgres_url(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def postgres_reachable(base_url: str) -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        connection = await asyncio.wait_for(asyncpg.connect(plain_postgres_url(base_url)), 5)
    except Exception as exc:
        return f"PostgreSQL at {base_url.split('@')[-1]} unreachable: {type(exc).__name__}"
    await connection.close()
    return None


async def create_scratch_database(base_url: str) -> str:
    """A new empty PostgreSQL database for one scenario; drop it with `drop_scratch_database`."""
    name = f"willow_bench_{secrets.token_hex(5)}"
    connection = await asyncpg.connect(plain_postgres_url(base_url))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    head = base_url.rpartition("/")[0]
    return f"{head}/{name}"


async def drop_scratch_database(base_url: str, scratch_url: str) -> None:
    name = scratch_url.rpartition("/")[2]
    connection = await asyncpg.connect(plain_postgres_url(base_url))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def redis_reachable(url: str) -> str | None:
    import redis.asyncio as aioredis

    client = aioredis.from_url(url)
    try:
        await asyncio.wait_for(client.ping(), 5)
    except Exception as exc:
        return f"Redis at {url} unreachable: {type(exc).__name__}"
    finally:
        await client.aclose()
    return None
