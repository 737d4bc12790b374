"""Idle connections: server memory per open, welcomed websocket, Willow beside the raw server.

Connections are spread over several 127.0.0.x source addresses when there are many, so the
loopback's ephemeral ports are never the limit. The open-files limit is raised first.
"""

from __future__ import annotations

import asyncio
from typing import Any

import psutil

from bench.client import Peer, clock, connect, connect_many
from bench.context import Context
from bench.servers import ServerProcess, raise_fd_limit
from bench.stats import ratio
from bench.willow import close_all, visitor

TARGET_CONNECTIONS = 20_000
TARGET_KIB_PER_CONNECTION = 40.0
WARM = 50  # opened before the baseline, so one-off allocations are not charged per connection
PER_SOURCE_IP = 10_000
SETTLE_SECONDS = 2.0
FD_HEADROOM = 200  # the server and the generator each need a few files beside the sockets


def source_ip(index: int, count: int) -> str | None:
    if count <= PER_SOURCE_IP:
        return None
    return f"127.0.0.{1 + index // PER_SOURCE_IP}"


async def run(ctx: Context) -> dict[str, Any]:
    wanted = ctx.profile.idle_connections
    limit = raise_fd_limit(wanted + FD_HEADROOM)
    count = max(WARM + 1, min(wanted, limit - FD_HEADROOM))
    async with ctx.willow(count, 0) as (server, seeded):
        tokens = seeded.visitor_tokens
        willow = await _measure(
            server,
            count,
            lambda i: visitor(server, tokens[i], source_ip=source_ip(i, count)),
            ping=True,
        )
    async with ctx.raw() as raw_server:
        raw = await _measure(
            raw_server,
            count,
            lambda i: connect(
                f"{raw_server.ws_url}?room=idle", raw_server.origin, source_ip=source_ip(i, count)
            ),
            ping=False,
        )
    return {
        "status": "ok",
        "connections": count,
        "wanted": wanted,
        "fd_limit": limit,
        "willow": willow,
        "raw": raw,
        "summary": {
            "connections": count,
            "willow_kib_per_connection": willow["kib_per_connection"],
            "raw_kib_per_connection": raw["kib_per_connection"],
            # Memory: lower is better, so this is how many times the raw server's cost Willow pays.
            "willow_over_raw": ratio(willow["kib_per_connection"], raw["kib_per_connection"]),
        },
    }


async def _measure(server: ServerProcess, count: int, opener: Any, ping: bool) -> dict[str, Any]:
    process = psutil.Process(server.pid)
    warm = await connect_many(WARM, opener)
    await asyncio.sleep(0.5)
    before = process.memory_info().rss
    started = clock()
    rest = await connect_many(count - WARM, lambda i: opener(WARM + i), concurrency=200)
    opened_s = clock() - started
    await asyncio.sleep(SETTLE_SECONDS)
    after = process.memory_info().rss
    peers = warm + rest
    alive = await _ping_sample(peers) if ping else None
    close_all(peers)
    measured = count - WARM
    return {
        "rss_before_mib": round(before / 2**20, 1),
        "rss_after_mib": round(after / 2**20, 1),
        "kib_per_connection": round((after - before) / measured / 1024, 2),
        "open_per_s": round(measured / opened_s, 1),
        "ping_sample_answered": alive,
    }


async def _ping_sample(peers: list[Peer], sample: int = 100) -> str:
    """Are idle connections still served? A spread-out sample pings and waits for pong."""
    chosen = peers[:: max(1, len(peers) // sample)][:sample]
    for peer in chosen:
        peer.send({"type": "ping"})

    async def pong(peer: Peer) -> bool:
        try:
            await peer.expect("pong", within=10)
        except (TimeoutError, RuntimeError):
            return False
        return True

    answers = await asyncio.gather(*(pong(p) for p in chosen))
    return f"{sum(answers)} of {len(chosen)}"
