"""Queue routing: time from a visitor's request_chat to her `assigned`, at rising arrival rates.

Visitors are connected and welcomed beforehand, so an arrival is only the request. Several
advisers take chats as they see them, as a team would: adviser number k reaches for a chat
only while more than k are waiting, so one waiting chat is not grabbed by every adviser at
once (each failed grab would cost the server a write transaction). A visitor
ends her chat as soon as she is assigned, so advisers stay free. Latency counts from the
intended arrival time.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from bench.client import Peer, connect_many, poll_until
from bench.context import Context
from bench.load import open_loop
from bench.servers import Usage, measuring
from bench.stats import Latencies, generator_verdict
from bench.willow import adviser, close_all, visitor

TARGET_RATE = 50
TARGET_P99_MS = 50.0
RETRY_SECONDS = 0.05


class AutoAdviser:
    """An adviser who takes the next chat whenever someone waits and she is free."""

    def __init__(self, peer: Peer, rank: int = 0) -> None:
        self.peer = peer
        self.rank = rank
        self.busy = False
        self.waiting = 0
        self.errors: Counter[str] = Counter()
        peer.handler = self.on_event

    def on_event(self, _peer: Peer, event: dict[str, Any], _now: float) -> None:
        kind = event.get("type")
        if kind == "queue_snapshot":
            self.waiting = len(event.get("waiting", ()))
        elif kind == "queue_changes":
            added, removed = len(event.get("added", ())), len(event.get("removed", ()))
            self.waiting = max(0, self.waiting + added - removed)
        elif kind == "assigned":
            self.busy = False
        elif kind == "error":
            code = str(event.get("code"))
            self.errors[code] += 1
            self.busy = False
            if code == "queue_empty":
                self.waiting = 0
            elif code == "at_capacity":
                asyncio.get_running_loop().call_later(RETRY_SECONDS, self.take)
                return
        self.take()

    def take(self) -> None:
        if self.waiting > self.rank and not self.busy:
            self.busy = True
            self.peer.send({"type": "take_next"})


class Arrivals:
    """Visitors asking for a chat on schedule; each ends her chat once assigned."""

    def __init__(self, visitors: list[Peer]) -> None:
        self.pool = visitors
        self.next = 0
        self.asked: dict[int, float] = {}  # visitor index -> intended arrival time
        self.latency = Latencies()
        self.errors: Counter[str] = Counter()
        for index, peer in enumerate(visitors):
            peer.tag = index
            peer.handler = self.on_event

    def arrive(self, _k: int, intended: float) -> None:
        peer = self.pool[self.next]
        self.asked[self.next] = intended
        self.next += 1
        peer.send({"type": "request_chat"})

    def on_event(self, peer: Peer, event: dict[str, Any], now: float) -> None:
        kind = event.get("type")
        if kind == "assigned":
            intended = self.asked.pop(peer.tag, None)
            if intended is not None:
                self.latency.add(now - intended)
                peer.send({"type": "end", "conversation_id": event["conversation_id"]})
        elif kind == "error":
            self.errors[str(event.get("code"))] += 1


def visitors_needed(rates: tuple[int, ...], seconds: float) -> int:
    return sum(round(r * seconds) for r in rates) + len(rates)


async def run(ctx: Context) -> dict[str, Any]:
    profile = ctx.profile
    needed = visitors_needed(profile.routing_rates, profile.step_seconds)
    async with ctx.willow(needed, profile.routing_advisers) as (server, seeded):
        advisers = [
            AutoAdviser(await adviser(server, c), rank)
            for rank, c in enumerate(seeded.staff_cookies)
        ]
        visitors = await connect_many(needed, lambda i: visitor(server, seeded.visitor_tokens[i]))
        arrivals = Arrivals(visitors)
        steps = []
        for rate in profile.routing_rates:
            steps.append(await _step(ctx, server.pid, arrivals, advisers, rate))
            await asyncio.sleep(0.3)
        close_all([a.peer for a in advisers] + visitors)
    return {
        "status": "ok",
        "advisers": profile.routing_advisers,
        "steps": steps,
        "summary": summarise(steps),
    }


async def _step(
    ctx: Context, pid: int, arrivals: Arrivals, advisers: list[AutoAdviser], rate: int
) -> dict[str, Any]:
    profile = ctx.profile
    arrivals.latency = Latencies()
    arrivals.errors.clear()
    for staff in advisers:
        staff.errors.clear()
    usage = Usage([pid])
    async with measuring(usage):
        sent = await open_loop(rate, profile.step_seconds, arrivals.arrive)
        await poll_until(lambda: not arrivals.asked, profile.drain_seconds, every=0.01)
        resources = usage.stop()
    unassigned = len(arrivals.asked)
    arrivals.asked.clear()  # a late assignment belongs to no later step
    adviser_errors: Counter[str] = Counter()
    for staff in advisers:
        adviser_errors.update(staff.errors)
    valid, note = generator_verdict(resources["generator_cpu"])  # type: ignore[arg-type]
    return {
        "offered_rate": rate,
        "arrivals": sent,
        "assigned": len(arrivals.latency),
        "unassigned": unassigned,
        "latency": arrivals.latency.summary(),
        "visitor_errors": dict(arrivals.errors),
        "adviser_errors": dict(adviser_errors),
        **resources,
        "valid": valid,
        "note": note,
    }


def summarise(steps: list[dict[str, Any]]) -> dict[str, Any]:
    return {f"p99_ms_at_{s['offered_rate']}_per_s": s["latency"].get("p99_ms") for s in steps} | {
        "unassigned": sum(s["unassigned"] for s in steps)
    }
