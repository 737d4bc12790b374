"""Group rooms of 10, 50 and 200 members: deliveries/s and latency, Willow beside the raw relay.

The raw relay is measured now. Willow's side needs the room events from peers/ (join a
room, write in it); until a visitor can join a room the way the driver does, it is reported
"not available yet" with the reason.
`WillowRooms` below is the one place to adjust to the room protocol once it exists.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from bench.client import Peer, connect_many
from bench.context import Context
from bench.load import Group, MessageLoad, ladder
from bench.servers import ServerProcess
from bench.stats import best_sustained, ratio
from bench.willow import close_all, probe_event, raw_groups, visitor

TARGET_SIZE = 50
TARGET_DELIVERIES = 30_000
TARGET_P99_MS = 100.0
TARGET_RATIO = 0.25
NOT_AVAILABLE = "not available yet"


class WillowRooms:
    """How the generator joins and writes in a Willow room (peers/events.py, peers/handlers.py):
    the one place to finish; bench/README.md says what is left."""

    join_event = "room_join"
    message_event = "room_message"
    joined_reply = "room_welcome"
    probe_room = "newcomers"  # in the catalogue Willow ships

    async def unavailable(self, server: ServerProcess, token: str) -> str | None:
        """None when a visitor can join a room as the driver does; else why not."""
        probe = {"type": self.join_event, "room": self.probe_room, "accept_rules": True}
        replies = await probe_event(server, token, probe)
        if any(r.get("type") == self.joined_reply for r in replies):
            return None
        errors = [r for r in replies if r.get("type") == "error"]
        if not errors:
            return f"no `{self.joined_reply}` after `{self.join_event}`"
        if errors[0].get("code") == "unknown_type":
            return f"the server does not know `{self.join_event}` yet"
        return (
            f"joining `{self.probe_room}` answers `{errors[0].get('code')}` "
            f"({errors[0].get('message')}): the driver does not open room sessions yet"
        )

    async def join(self, server: ServerProcess, token: str, room: str) -> Peer:
        peer = await visitor(server, token)
        peer.send({"type": self.join_event, "room": room, "accept_rules": True})
        await peer.expect(self.joined_reply, within=30)
        return peer

    def frame(self, _stream: int, client_id: str, body: str) -> bytes:
        return orjson.dumps({"type": self.message_event, "client_id": client_id, "body": body})


def room_count(members_total: int, size: int) -> int:
    return max(1, members_total // size)


def message_rates(delivery_rates: tuple[int, ...], size: int) -> list[int]:
    """Messages/s that make the wanted deliveries/s when each message reaches size-1 others."""
    return [max(1, round(d / (size - 1))) for d in delivery_rates]


async def run(ctx: Context) -> dict[str, Any]:
    profile = ctx.profile
    raw: dict[str, Any] = {}
    async with ctx.raw() as server:
        for size in profile.room_sizes:
            groups = await raw_groups(
                server, room_count(profile.room_members_total, size), size, f"r{size}-"
            )
            raw[str(size)] = await ladder(
                MessageLoad(groups),
                message_rates(profile.room_delivery_rates, size),
                profile.step_seconds,
                profile.warmup_seconds,
                profile.drain_seconds,
                [server.pid],
            )
            close_all([m for g in groups for m in g.members])
    try:
        willow = await _willow_rooms(ctx)
    except Exception as exc:  # the raw figures above still stand
        willow = {"status": "error", "why": f"{type(exc).__name__}: {exc}"}
    return {
        "status": willow["status"] if willow["status"] != "error" else "raw only (Willow: error)",
        "willow": willow,
        "raw": raw,
        "summary": summarise(willow, raw),
    }


async def _willow_rooms(ctx: Context) -> dict[str, Any]:
    driver = WillowRooms()
    profile = ctx.profile
    results: dict[str, Any] = {"status": "ok"}
    members = sum(room_count(profile.room_members_total, s) * s for s in profile.room_sizes)
    async with ctx.willow(visitors=members + 1, advisers=0) as (server, seeded):
        why = await driver.unavailable(server, seeded.visitor_tokens[-1])
        if why is not None:
            return {"status": NOT_AVAILABLE, "why": why}
        tokens = iter(seeded.visitor_tokens)
        for size in profile.room_sizes:
            count = room_count(profile.room_members_total, size)
            batch = [next(tokens) for _ in range(count * size)]
            peers = await connect_many(len(batch), _joiner(driver, server, batch, size))
            groups = [Group(peers[i * size : (i + 1) * size], i) for i in range(count)]
            load = MessageLoad(groups, frame=driver.frame, delivery=driver.message_event)
            results[str(size)] = await ladder(
                load,
                message_rates(profile.room_delivery_rates, size),
                profile.step_seconds,
                profile.warmup_seconds,
                profile.drain_seconds,
                [server.pid],
            )
            close_all(peers)
    return results


def _joiner(
    driver: WillowRooms, server: ServerProcess, tokens: list[str], size: int
) -> Callable[[int], Awaitable[Peer]]:
    def join(index: int) -> Awaitable[Peer]:
        return driver.join(server, tokens[index], f"bench-{size}-{index // size}")

    return join


def _best_deliveries(steps: list[dict[str, Any]], size: int) -> float | None:
    best = best_sustained(steps)
    return None if best is None else best * (size - 1)


def summarise(willow: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for size_key, raw_steps in raw.items():
        size = int(size_key)
        raw_best = _best_deliveries(raw_steps, size)
        willow_steps = willow.get(size_key) if willow.get("status") == "ok" else None
        best = _best_deliveries(willow_steps, size) if willow_steps else None
        out[size_key] = {
            "willow_deliveries_per_s": best if willow_steps else NOT_AVAILABLE,
            "raw_deliveries_per_s": raw_best,
            "raw_limited_by_generator": any(not s["valid"] for s in raw_steps),
            "ratio_of_raw": ratio(best, raw_best),
        }
    return out
