"""What one arrival costs the node in a surge, in figures a busy machine cannot change:
`python -m bench.arrival_cost [--waiting 5000] [--arrivals 200]`.

A fresh SQLite database gets `waiting` women in the queue and advisers who are all full (as in
bench/routing_round.py). Then `arrivals` more women ask to talk, one after another, as the
server does it: `request_chat` (her conversation, and the report's count of a new contact),
then her first `queue` event. Counted per arrival: SQL statements, write transactions
(commits: each one a turn of SQLite's one writer), and CPU milliseconds (process time, so
other processes on the machine do not count). Routing rounds and staff news are left out
(they are shared by a burst of arrivals and measured by the surge scenario).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, select

from bench.routing_round import _fill
from chat.core.models import VisitorSession
from chat.core.services import Services
from chat.core.settings import Settings
from chat.core.tally import Happening
from chat.helpline.assign import install as install_routing
from chat.helpline.conversations import queue_position, request_chat
from chat.helpline.queue_news import news_of
from chat.reporting import counting
from chat.schema import upgrade


class Counts:
    def __init__(self) -> None:
        self.statements = 0
        self.commits = 0


def _listen_for_counts(services: Services) -> None:
    async def counted(happening: Happening) -> None:
        await counting.count(services, happening)

    within = getattr(counting, "count_within", None)
    if within is None:  # the code before counting joined the arrival's transaction
        services.tally.listen(counted)
    else:
        services.tally.listen(counted, within=within)


async def measure(database_url: str, waiting: int, arrivals: int) -> dict[str, Any]:
    settings = Settings(
        env="test",
        secret_key=secrets.token_urlsafe(48),
        database_url=database_url,
        broker_url="memory://",
        assignment="auto",
    )
    services = Services.build(settings)
    router = install_routing(services)
    router.wanted = lambda arrival=False: None  # type: ignore[method-assign]
    _listen_for_counts(services)
    counts = Counts()
    try:
        await upgrade(services.db.engine)
        await services.start()
        await _fill(services, waiting)
        async with services.db.write() as session:
            await session.execute(
                insert(VisitorSession),
                [{"token_hash": secrets.token_hex(16), "language": "en"} for _ in range(arrivals)],
            )
        async with services.db.read() as session:
            newcomers = list(
                (
                    await session.scalars(
                        select(VisitorSession).order_by(VisitorSession.id.desc()).limit(arrivals)
                    )
                ).all()
            )
        # One news tick, as a running node has had one lately: an arrival's estimate takes
        # the queue's count by kind from it (before the stretches: the whole queue's reading).
        news = news_of(services)
        tick = getattr(news, "stretch_news", None) or getattr(news, "current", None)
        if tick is not None:
            await tick()
        # Staff news is shared by a burst; leave it out of the per-arrival figures.
        services.queue_news_pending = True
        sync_engine = services.db.engine.sync_engine

        def statement(*_args: Any) -> None:
            counts.statements += 1

        def commit(*_args: Any) -> None:
            counts.commits += 1

        event.listen(sync_engine, "before_cursor_execute", statement)
        event.listen(sync_engine, "commit", commit)
        cpu: list[float] = []
        for visitor in reversed(newcomers):
            started = time.process_time()
            conversation = await request_chat(services, visitor)
            first = await queue_position(services, conversation.id)
            cpu.append(time.process_time() - started)
            assert first is not None
        event.remove(sync_engine, "before_cursor_execute", statement)
        event.remove(sync_engine, "commit", commit)
        return {
            "waiting_before": waiting,
            "arrivals": arrivals,
            "statements_per_arrival": round(counts.statements / arrivals, 2),
            "write_transactions_per_arrival": round(counts.commits / arrivals, 2),
            "cpu_ms_per_arrival_median": round(statistics.median(cpu) * 1000, 3),
            "cpu_ms_per_arrival_mean": round(statistics.fmean(cpu) * 1000, 3),
        }
    finally:
        await services.stop_background()
        await services.broker.close()
        await services.db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.arrival_cost")
    parser.add_argument("--waiting", type=int, default=5000)
    parser.add_argument("--arrivals", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'arrivals.db'}"
        print(json.dumps(asyncio.run(measure(url, args.waiting, args.arrivals)), indent=2))


if __name__ == "__main__":
    main()
