"""A surge: thousands of women join the queue at 50 a second while every adviser is full.

Auto-assignment is on (`WILLOW_ASSIGNMENT=auto`). The advisers fill up with the first
arrivals; the rest wait. While the queue grows, one adviser ends one chat every
`END_EVERY` seconds, and routing gives the freed place to the next woman (risk first, then
the longest wait): "routing" latency is from sending `end` to her `assigned` at that
adviser, each with the whole queue behind it. Every connection counts the bytes it receives,
so the figures say what the queue news costs a waiting woman and an adviser per second as
the queue grows to its full length. The wait estimate's error, from simulated evenings
(bench/evening.py), is reported beside it.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.client import Peer, clock, connect_many
from bench.context import Context
from bench.evening import run_evenings
from bench.load import open_loop
from bench.seed import ADVISER_CAPACITY
from bench.servers import Usage, measuring
from bench.stats import Latencies
from bench.willow import adviser, close_all, visitor

RATE = 50
TARGET_P99_MS = 50.0
END_EVERY = 0.5


class Counted:
    """Bytes and events received by one group of connections."""

    def __init__(self) -> None:
        self.bytes = 0
        self.events = 0


def counting(peer: Peer, counted: Counted) -> None:
    """Count what this connection receives (the frame's JSON, re-encoded: near enough)."""
    previous = peer.handler

    def handler(p: Peer, event: dict[str, Any], now: float) -> None:
        counted.bytes += len(repr(event))
        counted.events += 1
        if previous is not None:
            previous(p, event, now)

    peer.handler = handler


async def run(ctx: Context) -> dict[str, Any]:
    profile = ctx.profile
    women = profile.surge_women
    advisers_needed = profile.surge_advisers
    settings = {"WILLOW_ASSIGNMENT": "auto"}
    async with ctx.willow(women, advisers_needed, settings=settings) as (server, seeded):
        advisers = [await adviser(server, c) for c in seeded.staff_cookies]
        visitors = await connect_many(women, lambda i: visitor(server, seeded.visitor_tokens[i]))
        held: dict[int, list[int]] = {i: [] for i in range(len(advisers))}
        ended_at: dict[int, float] = {}
        latency = Latencies()
        errors: Counter[str] = Counter()
        staff_bytes, women_bytes = Counted(), Counted()

        def on_adviser(index: int) -> Any:
            def handler(_p: Peer, event: dict[str, Any], now: float) -> None:
                kind = event.get("type")
                if kind == "assigned":
                    held[index].append(int(event["conversation_id"]))
                    started = ended_at.pop(index, None)
                    if started is not None:
                        latency.add(now - started)
                elif kind == "error":
                    errors[str(event.get("code"))] += 1

            return handler

        for index, peer in enumerate(advisers):
            peer.handler = on_adviser(index)
            counting(peer, staff_bytes)
        for peer in visitors:
            peer.handler = None
            counting(peer, women_bytes)
            peer.handler = _drop_after(peer.handler)

        def arrive(k: int, _intended: float) -> None:
            visitors[k].send({"type": "request_chat"})

        async def free_places() -> None:
            turn = 0
            while True:
                await asyncio.sleep(END_EVERY)
                index = turn % len(advisers)
                turn += 1
                if index in ended_at or not held[index]:
                    continue
                conversation = held[index].pop(0)
                ended_at[index] = clock()
                advisers[index].send({"type": "end", "conversation_id": conversation})

        usage = Usage([server.pid])
        loop = asyncio.get_running_loop()
        async with measuring(usage):
            started = loop.time()
            _mark_start()
            freer = asyncio.create_task(free_places())
            sent = await open_loop(RATE, women / RATE, arrive)
            # A little longer with the queue at its full length.
            await asyncio.sleep(profile.drain_seconds)
            freer.cancel()
            elapsed = loop.time() - started
            resources = usage.stop()
        close_all(advisers + visitors)
    per_woman = women_bytes.bytes / max(1, women) / elapsed
    per_adviser = staff_bytes.bytes / max(1, len(advisers)) / elapsed
    return {
        "status": "ok",
        "women": women,
        "arrivals": sent,
        "rate_per_s": RATE,
        "advisers": len(advisers),
        "adviser_capacity": ADVISER_CAPACITY,
        "seconds": round(elapsed, 1),
        "routing_after_end": latency.summary(),
        "adviser_errors": dict(errors),
        "bytes_per_s_per_waiting_woman": round(per_woman, 1),
        "bytes_per_s_per_adviser": round(per_adviser, 1),
        "events_per_woman": round(women_bytes.events / max(1, women), 1),
        "events_per_adviser": round(staff_bytes.events / max(1, len(advisers)), 1),
        "estimator": run_evenings(),
        **resources,
        "summary": {
            "routing_p99_ms": latency.summary().get("p99_ms"),
            "target_p99_ms": TARGET_P99_MS,
            "bytes_per_s_per_waiting_woman": round(per_woman, 1),
            "bytes_per_s_per_adviser": round(per_adviser, 1),
        },
    }


def _mark_start() -> None:
    """With WILLOW_BENCH_SURGE_MARK naming a file, write it as the arrivals begin (for a
    profiler attached to the node to record the surge itself, not the set-up)."""
    mark = os.environ.get("WILLOW_BENCH_SURGE_MARK")
    if mark:
        Path(mark).write_text(f"{time.time()}\n")


def _drop_after(previous: Any) -> Any:
    """Keep nothing a waiting woman receives (thousands of inboxes would fill memory)."""

    def handler(p: Peer, event: dict[str, Any], now: float) -> None:
        if previous is not None:
            previous(p, event, now)

    return handler
