"""Reconnect storm: every visitor drops at once while advisers keep writing, then all come back.

Each visitor resumes with the last `seq` she saw. We measure how long until all are welcomed
again and until all have every message written while they were away, and check that each
one's seqs run without a gap from the first to the last (nothing lost, nothing twice).
"""

from __future__ import annotations

import asyncio
from typing import Any

from bench.client import Peer, clock, connect, connect_many, poll_until
from bench.context import Context
from bench.load import Group, MessageLoad, open_loop
from bench.servers import ServerProcess, Usage, measuring
from bench.stats import Latencies
from bench.willow import PROTOCOL_VERSION, advisers_for, close_all, open_pairs

OFFLINE_SECONDS = 0.5


async def run(ctx: Context) -> dict[str, Any]:
    profile = ctx.profile
    pairs = profile.reconnect_pairs
    async with ctx.willow(pairs, advisers_for(pairs)) as (server, seeded):
        groups = await open_pairs(server, server, seeded.visitor_tokens, seeded.staff_cookies)
        groups = [Group(g.members, g.stream, senders=[g.members[1]]) for g in groups]
        load = MessageLoad(groups)
        await load.warm_up(profile.reconnect_rate, profile.warmup_seconds, profile.drain_seconds)
        result = await _storm(ctx, server, load, groups, seeded.visitor_tokens)
        close_all([m for g in load.groups for m in g.members])
    return {"status": "ok", "visitors": pairs, **result}


async def _storm(
    ctx: Context, server: ServerProcess, load: MessageLoad, groups: list[Group], tokens: list[str]
) -> dict[str, Any]:
    profile = ctx.profile
    usage = Usage([server.pid])
    sending_seconds = OFFLINE_SECONDS + 2 * profile.step_seconds
    async with measuring(usage):
        load.begin()
        # Her seqs skip the adviser's staff-only events (the triage note at assignment):
        # count only what goes missing from here on.
        missing0 = sum(g.members[0].seqs.missing for g in groups)
        repeats0 = sum(g.members[0].seqs.repeats for g in groups)
        sending = asyncio.create_task(
            open_loop(profile.reconnect_rate, sending_seconds, load.send_one)
        )
        await asyncio.sleep(0.2)
        for group in groups:
            group.members[0].close(graceful=False)
        dropped_at = clock()
        await asyncio.sleep(OFFLINE_SECONDS)
        written_offline = set(load.pending)
        back_at = clock()
        welcome = Latencies()
        new_visitors = await connect_many(
            len(groups),
            lambda i: _come_back(server, groups[i], tokens[i], load, welcome),
            concurrency=len(groups),
        )
        all_welcomed = clock() - back_at
        pending = load.pending
        await poll_until(lambda: not any(cid in pending for cid in written_offline), 60)
        all_caught_up = clock() - back_at
        sent = await sending
        await load.drain(profile.drain_seconds)
        resources = usage.stop()
    for group, her in zip(groups, new_visitors, strict=True):
        group.members[0] = her
    missing = sum(g.members[0].seqs.missing for g in groups) - missing0
    repeats = sum(g.members[0].seqs.repeats for g in groups) - repeats0
    return {
        "offline_s": round(back_at - dropped_at, 3),
        "messages_sent": sent,
        "written_while_offline": len(written_offline),
        "all_welcomed_s": round(all_welcomed, 3),
        "all_caught_up_s": round(all_caught_up, 3),
        "welcome_latency": welcome.summary(),
        "undelivered": sum(int(e[2]) for e in load.pending.values()),
        "seq_missing": missing,
        "seq_repeats": repeats,
        "errors": dict(load.errors),
        **resources,
    }


async def _come_back(
    server: ServerProcess, group: Group, token: str, load: MessageLoad, welcome: Latencies
) -> Peer:
    """Come back as the same visitor after her last seq; events count from the first frame."""
    old = group.members[0]
    last = old.seqs.last.get(group.stream, 0)
    started = clock()
    her = await connect(server.ws_url, server.origin)
    her.seqs = old.seqs

    def handle(peer: Peer, event: dict[str, Any], now: float) -> None:
        if event.get("type") == "welcome":
            peer.keep(event)
        else:
            load.on_event(peer, event, now)

    her.handler = handle
    resume = [{"conversation_id": group.stream, "last_seq": last}]
    her.send({"type": "hello", "v": PROTOCOL_VERSION, "token": token, "resume": resume})
    await her.expect("welcome", within=60)
    welcome.add(clock() - started)
    return her
