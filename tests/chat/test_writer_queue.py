"""SQLite's one writer place: a writer that frees or fills an adviser's place goes first."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from chat.core.db import Database
from chat.core.writer_queue import WriterQueue


async def test_first_lane_goes_ahead_of_writers_already_queued(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    try:
        async with db.write() as session:
            await session.execute(text("CREATE TABLE log (n INTEGER PRIMARY KEY, who TEXT)"))
        order: list[str] = []
        release = asyncio.Event()

        async def write(who: str, first: bool = False) -> None:
            async with db.write(first) as session:
                await session.execute(text("INSERT INTO log (who) VALUES (:w)"), {"w": who})
                order.append(who)
                if who == "holder":
                    await release.wait()

        holder = asyncio.create_task(write("holder"))
        await asyncio.sleep(0.05)
        joins = [asyncio.create_task(write(f"join{i}")) for i in range(5)]
        await asyncio.sleep(0.05)
        ending = asyncio.create_task(write("end", first=True))
        await asyncio.sleep(0.05)
        release.set()
        await asyncio.gather(holder, *joins, ending)
        assert order == ["holder", "end", *(f"join{i}" for i in range(5))]
        async with db.read() as session:
            stored = list(await session.scalars(text("SELECT who FROM log ORDER BY n")))
        assert stored == order
    finally:
        await db.dispose()


async def test_a_waiter_that_gives_up_loses_no_place_for_the_others() -> None:
    queue = WriterQueue()
    await queue.acquire()
    gives_up = asyncio.create_task(queue.acquire(first=True))
    waits = asyncio.create_task(queue.acquire())
    await asyncio.sleep(0)
    gives_up.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gives_up
    queue.release()
    await asyncio.wait_for(waits, 1)
    assert queue.locked()
    queue.release()
    assert not queue.locked()


async def test_a_waiter_cancelled_as_the_place_reaches_it_passes_it_on() -> None:
    queue = WriterQueue()
    await queue.acquire()
    late = asyncio.create_task(queue.acquire())
    after = asyncio.create_task(queue.acquire())
    await asyncio.sleep(0)
    queue.release()  # handed to `late`...
    late.cancel()  # ...which is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await late
    await asyncio.wait_for(after, 1)
    assert queue.locked()
    queue.release()
    assert not queue.locked()
