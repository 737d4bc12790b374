"""1:1 chats with persistence: many visitor–adviser pairs, rising rates, beside the raw relay.

Each side of a conversation writes at most SENDER_PACE messages/s (Willow's flood limits
apply to visitors), so a higher rate is offered by more conversations: before each step
the generator opens the conversations that step needs.
"""

from __future__ import annotations

from typing import Any

from bench.client import Peer
from bench.context import Context
from bench.load import Group, MessageLoad, ladder
from bench.seed import postgres_reachable
from bench.socketio_peer import message_frame as socketio_frame
from bench.socketio_peer import socketio_groups
from bench.stats import best_sustained, common_step, per_cpu_second, ratio, step_at
from bench.willow import PairSource, close_all, pairs_for, raw_groups, seed_sizes

# Targets for one server process on one core (bench/README.md): where we stand, not asserts.
TARGET_RATE = 1000
TARGET_P50_MS = 2.0
TARGET_P99_MS = 10.0
TARGET_SUSTAINED = 5000


def batches(rates: tuple[int, ...], at_least: int) -> list[int]:
    """How many conversations each step adds to those already open."""
    out, have = [], 0
    for rate in rates:
        need = pairs_for(rate, at_least)
        out.append(max(0, need - have))
        have = max(have, need)
    return out


async def run(ctx: Context) -> dict[str, Any]:
    profile = ctx.profile
    willow = await _willow(ctx, "sqlite")
    async with ctx.raw() as raw_server:
        groups = await raw_groups(raw_server, profile.pairs, 2, "pair")
        raw = await ladder(
            MessageLoad(groups),
            profile.raw_rates,
            profile.step_seconds,
            profile.warmup_seconds,
            profile.drain_seconds,
            [raw_server.pid],
        )
        close_all(_peers(groups))
    # python-socketio relaying the same pairs as rooms of two (room emit), as a chat
    # server written the usual Python way would.
    async with ctx.socketio() as sio_server:
        groups = await socketio_groups(sio_server, profile.pairs, 2, "pair")
        socketio = await ladder(
            MessageLoad(groups, frame=socketio_frame),
            profile.one_to_one_rates,
            profile.step_seconds,
            profile.warmup_seconds,
            profile.drain_seconds,
            [sio_server.pid],
        )
        close_all(_peers(groups))
    return {
        "status": "ok",
        "willow": willow,
        "raw": raw,
        "socketio": socketio,
        "summary": summarise(willow, raw, socketio),
    }


async def run_postgres(ctx: Context) -> dict[str, Any]:
    """Willow's 1:1 ladder again, the node on a scratch PostgreSQL database (the raw relay and
    python-socketio store nothing, so their rows in `one_to_one` stand for both)."""
    why = await postgres_reachable(ctx.postgres_url)
    if why:
        return {"status": f"not available: {why}"}
    willow = await _willow(ctx, "postgresql")
    return {"status": "ok", "willow": willow, "summary": summarise_one(willow)}


async def _willow(ctx: Context, database: str) -> list[dict[str, Any]]:
    profile = ctx.profile
    visitors, advisers = seed_sizes(batches(profile.one_to_one_rates, profile.pairs))
    async with ctx.willow(visitors, advisers, database=database) as (server, seeded):
        source = PairSource(server, server, seeded)
        load = MessageLoad([])

        async def grow(rate: int) -> None:
            missing = pairs_for(rate, profile.pairs) - len(load.groups)
            if missing > 0:
                load.add(await source.take(missing))

        steps = await ladder(
            load,
            profile.one_to_one_rates,
            profile.step_seconds,
            profile.warmup_seconds,
            profile.drain_seconds,
            [server.pid],
            grow,
        )
        close_all(_peers(load.groups))
    return steps


def _peers(groups: list[Group]) -> list[Peer]:
    return [m for g in groups for m in g.members]


def summarise(
    willow: list[dict[str, Any]],
    raw: list[dict[str, Any]],
    socketio: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Willow's best sustained rate and latency at the target rate, each beside the raw limit
    and python-socketio; deliveries per server CPU-second at the highest rate all kept up."""
    sustained, raw_sustained = best_sustained(willow), best_sustained(raw)
    at_target = step_at(willow, TARGET_RATE) or {}
    raw_at_target = step_at(raw, TARGET_RATE) or {}
    p50 = at_target.get("latency", {}).get("p50_ms")
    p99 = at_target.get("latency", {}).get("p99_ms")
    raw_p50 = raw_at_target.get("latency", {}).get("p50_ms")
    raw_p99 = raw_at_target.get("latency", {}).get("p99_ms")
    return {
        "sustained_msgs_per_s": sustained,
        "raw_sustained_msgs_per_s": raw_sustained,
        "sustained_ratio_of_raw": ratio(sustained, raw_sustained),
        "raw_limited_by_generator": any(not s["valid"] for s in raw),
        f"p50_ms_at_{TARGET_RATE}": p50,
        f"p99_ms_at_{TARGET_RATE}": p99,
        f"raw_p50_ms_at_{TARGET_RATE}": raw_p50,
        f"raw_p99_ms_at_{TARGET_RATE}": raw_p99,
        # Latency "ratio" is the limit's latency over Willow's: 1.0 means as fast as raw.
        "p50_ratio_of_raw": ratio(raw_p50, p50),
        "p99_ratio_of_raw": ratio(raw_p99, p99),
        **_per_cpu(willow, raw, socketio or []),
    }


def summarise_one(willow: list[dict[str, Any]]) -> dict[str, Any]:
    """One Willow ladder alone (PostgreSQL): sustained rate, latency at the target rate, and
    deliveries per server CPU-second at the target rate and at the highest rate delivered whole."""
    at_target = step_at(willow, TARGET_RATE) or {}
    rate, (top,) = common_step(willow)
    return {
        "sustained_msgs_per_s": best_sustained(willow),
        f"p50_ms_at_{TARGET_RATE}": at_target.get("latency", {}).get("p50_ms"),
        f"p99_ms_at_{TARGET_RATE}": at_target.get("latency", {}).get("p99_ms"),
        f"per_cpu_second_at_{TARGET_RATE}": per_cpu_second(at_target or None),
        "per_cpu_second_at_msgs_per_s": rate,
        "willow_per_cpu_second": per_cpu_second(top),
    }


def _per_cpu(
    willow: list[dict[str, Any]], raw: list[dict[str, Any]], socketio: list[dict[str, Any]]
) -> dict[str, Any]:
    rate, (w, r, s) = common_step(willow, raw, socketio)
    w_cpu, r_cpu, s_cpu = per_cpu_second(w), per_cpu_second(r), per_cpu_second(s)
    return {
        "socketio_sustained_msgs_per_s": best_sustained(socketio),
        "per_cpu_second_at_msgs_per_s": rate,
        "willow_per_cpu_second": w_cpu,
        "raw_per_cpu_second": r_cpu,
        "socketio_per_cpu_second": s_cpu,
        "per_cpu_ratio_of_raw": ratio(w_cpu, r_cpu),
        "per_cpu_times_socketio": ratio(w_cpu, s_cpu),
    }
