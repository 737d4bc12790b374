"""1% of clients stop reading: the others must not slow down and server memory must stay bounded.

The same load runs twice. Every run has a few "hot" conversations whose adviser writes fast
and long messages. In the baseline the hot visitors read; in the second run they stop
reading (with a small socket buffer, so back-pressure reaches the server quickly). We compare
the other conversations' latency and the server's memory, and see whether the server cut the
stalled clients off (close code 4008) instead of buffering for them.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bench.client import Peer, poll_until
from bench.context import Context
from bench.load import Group, MessageLoad
from bench.servers import Usage
from bench.stats import ratio
from bench.willow import advisers_for, close_all, open_pairs, pairs_for

STALLED_SHARE = 0.01
SMALL_RECEIVE_BUFFER = 4096
CLOSE_TOO_SLOW = 4008  # chat/core/transport.py


def stalled_count(pairs: int) -> int:
    return max(1, round(pairs * STALLED_SHARE))


async def run(ctx: Context) -> dict[str, Any]:
    profile = ctx.profile
    normal = pairs_for(profile.stalled_rate, profile.stalled_pairs)
    hot = stalled_count(normal)
    normal_advisers = advisers_for(normal)
    settings = {"WILLOW_SEND_QUEUE_SIZE": str(profile.stalled_queue_size)}
    async with ctx.willow(normal + hot, normal_advisers + hot, settings) as (server, seeded):
        tokens, cookies = seeded.visitor_tokens, seeded.staff_cookies
        normal_groups = await open_pairs(server, server, tokens[:normal], cookies[:normal_advisers])
        hot_groups = await open_pairs(
            server,
            server,
            tokens[normal:],
            cookies[normal_advisers:],
            receive_buffer=SMALL_RECEIVE_BUFFER,
        )
        # Only the adviser writes in a hot conversation, and only the visitor stalls.
        hot_groups = [Group(g.members, g.stream, senders=[g.members[1]]) for g in hot_groups]
        load = MessageLoad(normal_groups)
        flood = MessageLoad(hot_groups, body="w" * profile.stalled_body_bytes)
        seconds = profile.stalled_seconds
        offered = profile.stalled_flood_rate * seconds * profile.stalled_body_bytes
        await load.warm_up(profile.stalled_rate, profile.warmup_seconds, profile.drain_seconds)
        baseline = await _phase(
            load,
            flood,
            profile.stalled_rate,
            hot * profile.stalled_flood_rate,
            seconds,
            ctx,
            server.pid,
        )
        stalled_peers = [g.members[0] for g in hot_groups]
        for peer in stalled_peers:
            peer.pause_reading()
        stalled = await _phase(
            load,
            flood,
            profile.stalled_rate,
            hot * profile.stalled_flood_rate,
            seconds,
            ctx,
            server.pid,
        )
        cut_off = await _cut_off(stalled_peers, within=profile.drain_seconds)
        close_all([m for g in (*normal_groups, *hot_groups) for m in g.members])
    return {
        "status": "ok",
        "pairs": normal + hot,
        "stalled_clients": hot,
        "send_queue_size": profile.stalled_queue_size,
        "baseline": baseline,
        "with_stalled": stalled,
        "stalled_cut_off": cut_off,
        "close_codes": [p.close_code for p in stalled_peers],
        "summary": summarise(baseline, stalled, hot, cut_off)
        | {"offered_to_each_stalled_mib": round(offered / 2**20, 2)},
    }


async def _phase(
    load: MessageLoad,
    flood: MessageLoad,
    rate: int,
    flood_rate: int,
    seconds: float,
    ctx: Context,
    pid: int,
) -> dict[str, Any]:
    flood_task = asyncio.create_task(flood.warm_up(flood_rate, seconds, 0.0))
    try:
        return await load.step(rate, seconds, ctx.profile.drain_seconds, Usage([pid]))
    finally:
        await flood_task


async def _cut_off(peers: list[Peer], within: float) -> int:
    """Read again and count the stalled clients the server had disconnected."""
    for peer in peers:
        peer.resume_reading()
    await poll_until(lambda: all(p.closed.is_set() for p in peers), within, every=0.05)
    # A writer stuck on a full socket may not get its close frame out: closed counts too.
    return sum(1 for p in peers if p.closed.is_set() or p.close_code == CLOSE_TOO_SLOW)


def summarise(
    baseline: dict[str, Any], stalled: dict[str, Any], hot: int, cut_off: int
) -> dict[str, Any]:
    p99_before = baseline["latency"].get("p99_ms")
    p99_after = stalled["latency"].get("p99_ms")
    peak_before = baseline["server_peak_rss_mib"][0]
    peak_after = stalled["server_peak_rss_mib"][0]
    return {
        "others_p99_ms_baseline": p99_before,
        "others_p99_ms_with_stalled": p99_after,
        "others_p99_slowdown": ratio(p99_after, p99_before),
        "others_lost": stalled["undelivered"],
        "server_peak_rss_mib_baseline": peak_before,
        "server_peak_rss_mib_with_stalled": peak_after,
        "server_rss_growth_per_stalled_mib": round((peak_after - peak_before) / hot, 2),
        "stalled_cut_off": f"{cut_off} of {hot}",
    }
