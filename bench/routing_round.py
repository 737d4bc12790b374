"""One routing round with thousands waiting, timed on its own (no arrivals competing for the
database): `python -m bench.routing_round [--waiting 5000] [--rounds 50]`.

A fresh database (SQLite in a temporary folder, or a scratch PostgreSQL database with
`--postgres`) gets `waiting` women in the queue and advisers who are all full. Each round ends
one adviser's chat and times `chat.helpline.assign.route`: reading the advisers, the queue in
pages as far as the free place reaches, the decision, the hand-over and its commit. The pure
decision on the whole queue is timed too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, select

from chat.core import streams
from chat.core.models import Conversation, Staff, VisitorSession
from chat.core.services import Services
from chat.core.settings import Settings
from chat.helpline.assign import install as install_routing
from chat.helpline.assign import route
from chat.helpline.conversations import end_conversation
from chat.helpline.queue_state import advisers as read_advisers
from chat.helpline.queue_state import waiting_page
from chat.helpline.routing import assign
from chat.schema import upgrade

ADVISERS = 4
CAPACITY = 40


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    at = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {
        "count": len(values),
        "p50_ms": round(at(0.5) * 1000, 2),
        "p99_ms": round(at(0.99) * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
        "mean_ms": round(statistics.fmean(values) * 1000, 2),
    }


async def _fill(services: Services, waiting: int) -> list[int]:
    """Advisers who are full, and `waiting` women in the queue; returns the active chats."""
    active: list[int] = []
    async with services.db.write() as session:
        await session.execute(
            insert(Staff),
            [
                {
                    "username": f"round-{i}",
                    "display_name": f"Round {i}",
                    "password_hash": "x",
                    "role": "adviser",
                    "capacity": CAPACITY,
                    "available": True,
                    "trained_at": datetime.now(UTC),
                }
                for i in range(ADVISERS)
            ],
        )
        staff_ids = list(await session.scalars(select(Staff.id).order_by(Staff.id)))
        total = waiting + ADVISERS * CAPACITY
        await session.execute(
            insert(VisitorSession), [{"token_hash": secrets.token_hex(16)} for _ in range(total)]
        )
        visitors = list(await session.scalars(select(VisitorSession.id)))
        for index, visitor_id in enumerate(visitors):
            stream = await streams.new_stream(session, "conversation")
            adviser = staff_ids[index // CAPACITY] if index < ADVISERS * CAPACITY else None
            await session.execute(
                insert(Conversation).values(
                    id=stream.id,
                    visitor_id=visitor_id,
                    status="active" if adviser else "waiting",
                    adviser_id=adviser,
                    language="en",
                    priority=index % 4 if adviser is None else 0,
                )
            )
            if adviser is not None:
                active.append(stream.id)
    return active


async def measure(database_url: str, waiting: int, rounds: int) -> dict[str, Any]:
    settings = Settings(
        env="test",
        secret_key=secrets.token_urlsafe(48),
        database_url=database_url,
        broker_url="memory://",
        assignment="auto",
    )
    services = Services.build(settings)
    router = install_routing(services)
    # Rounds run here, one at a time and timed, not in the background after each change.
    router.wanted = lambda arrival=False: None  # type: ignore[method-assign]
    try:
        await upgrade(services.db.engine)
        await services.start()
        active = await _fill(services, waiting)
        timed: list[float] = []
        ending: list[float] = []
        cpu: list[float] = []
        statements = [0]

        def statement(*_args: Any) -> None:
            statements[0] += 1

        # Statements (each a round trip to the database's thread) and process CPU time: the
        # figures a shared machine does not change.
        event.listen(services.db.engine.sync_engine, "before_cursor_execute", statement)
        for conversation in active[:rounds]:
            started = time.perf_counter()
            await end_conversation(services, conversation, by="adviser")
            ending.append(time.perf_counter() - started)
            started, started_cpu = time.perf_counter(), time.process_time()
            made = await route(services)
            timed.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
            assert len(made) == 1, made
        event.remove(services.db.engine.sync_engine, "before_cursor_execute", statement)
        async with services.db.read() as session:
            page = await waiting_page(session, limit=None)
            team = [a for _, a in (await read_advisers(session, settings)).values()]
        queue = [w for w, _ in page]
        # One place free, for a woman far down the queue: the decision walks the whole queue.
        team = [replace(a, active=a.active - 1, languages=frozenset({"so"})) for a in team[:1]]
        queue[-1] = replace(queue[-1], language="so")
        pure: list[float] = []
        for _ in range(20):
            started = time.perf_counter()
            assign(queue, team)
            pure.append(time.perf_counter() - started)
        return {
            "waiting": len(queue),
            "route_round": percentiles(timed),
            "route_round_cpu": percentiles(cpu),
            "statements_per_end_and_round": round(statements[0] / max(1, len(timed)), 2),
            "ending_a_chat_for_comparison": percentiles(ending),
            "pure_decision_whole_queue": percentiles(pure),
        }
    finally:
        await services.stop_background()
        await services.broker.close()
        await services.db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.routing_round")
    parser.add_argument("--waiting", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'round.db'}"
        print(json.dumps(asyncio.run(measure(url, args.waiting, args.rounds)), indent=2))


if __name__ == "__main__":
    main()
