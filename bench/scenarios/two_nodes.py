"""Two nodes over Redis and PostgreSQL: the latency the second node adds, beside Redis's own cost.

The same 1:1 load three ways: one node on PostgreSQL with the in-memory broker (the base),
one node on PostgreSQL with Redis (the Redis hop alone), and two nodes with Redis, each
visitor on node 0 and her adviser on node 1 (every message crosses between nodes).
"""

from __future__ import annotations

from typing import Any

from bench.context import Context
from bench.load import MessageLoad, ladder
from bench.redislimit import publish_limit
from bench.seed import postgres_reachable, redis_reachable
from bench.stats import ratio
from bench.willow import advisers_for, close_all, open_pairs, pairs_for

TARGET_ADDED_P50_MS = 1.0


async def run(ctx: Context) -> dict[str, Any]:
    why = await postgres_reachable(ctx.postgres_url) or await redis_reachable(ctx.redis_url)
    if why:
        return {"status": f"not available: {why}"}
    setups = {
        "one_node_memory": (1, "memory://"),
        "one_node_redis": (1, ctx.redis_url),
        "two_nodes_redis": (2, ctx.redis_url),
    }
    results: dict[str, Any] = {}
    for name, (nodes, broker) in setups.items():
        results[name] = await _measure(ctx, nodes, broker)
    limit = await publish_limit(ctx.redis_url, ctx.profile.redis_requests)
    return {
        "status": "ok",
        **results,
        "redis_publish_limit": limit,
        "summary": summarise(results, limit),
    }


async def _measure(ctx: Context, nodes: int, broker: str) -> dict[str, Any]:
    profile = ctx.profile
    pairs = pairs_for(profile.two_node_rate, profile.two_node_pairs)
    async with ctx.willow_cluster(nodes, pairs, advisers_for(pairs), broker) as (servers, seeded):
        groups = await open_pairs(
            servers[0], servers[-1], seeded.visitor_tokens, seeded.staff_cookies
        )
        steps = await ladder(
            MessageLoad(groups),
            [profile.two_node_rate],
            profile.step_seconds,
            profile.warmup_seconds,
            profile.drain_seconds,
            [s.pid for s in servers],
        )
        close_all([m for g in groups for m in g.members])
    return steps[0]


def summarise(results: dict[str, Any], limit: dict[str, Any]) -> dict[str, Any]:
    def p(name: str, key: str) -> float | None:
        value = results[name]["latency"].get(key)
        return None if value is None else float(value)

    behind = [name for name, step in results.items() if not step.get("kept_up")]
    if behind:
        # A backlog's seconds would swamp the milliseconds the second node adds.
        why = f"not comparable: {', '.join(behind)} fell behind at this rate"
        return {"added_p50_ms": None, "added_p99_ms": None, "note": why}
    base50, two50 = p("one_node_memory", "p50_ms"), p("two_nodes_redis", "p50_ms")
    base99, two99 = p("one_node_memory", "p99_ms"), p("two_nodes_redis", "p99_ms")
    redis50 = limit.get("single_client", {}).get("p50_ms") if limit.get("status") == "ok" else None
    added50 = None if base50 is None or two50 is None else round(two50 - base50, 3)
    return {
        "added_p50_ms": added50,
        "added_p99_ms": None if base99 is None or two99 is None else round(two99 - base99, 3),
        "redis_hop_alone_p50_ms": None
        if base50 is None or p("one_node_redis", "p50_ms") is None
        else round(float(p("one_node_redis", "p50_ms") or 0) - base50, 3),
        "redis_publish_round_trip_p50_ms": redis50,
        # How many Redis round trips the second node costs at p50.
        "added_p50_in_redis_round_trips": ratio(added50, redis50),
    }
