"""Group rooms of 10, 50 and 200 members: deliveries/s and latency, Willow beside the raw relay.

Willow's rooms are real: a bench catalogue holds enough rooms of each size, one trained
mentor per room opens it and writes (a mentor meets only the length limit, so the rate is
not capped by the participants' flood limits), and every other member is a participant who
joined and accepted the rules. Each message must reach every participant once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import yaml

from bench.client import Peer, connect_many
from bench.context import Context
from bench.load import Group, MessageLoad, ladder
from bench.servers import ServerProcess
from bench.socketio_peer import message_frame as socketio_frame
from bench.socketio_peer import socketio_groups
from bench.stats import best_sustained, common_step, per_cpu_second, ratio
from bench.willow import close_all, raw_groups, staff, visitor

TARGET_SIZE = 50
TARGET_DELIVERIES = 30_000
TARGET_P99_MS = 100.0
TARGET_RATIO = 0.25
NOT_AVAILABLE = "not available yet"
MAX_CAPACITY = 500


def room_id(size: int, index: int) -> str:
    return f"bench-{size}-{index}"


def write_room_files(directory: Path, rooms: list[tuple[int, int]]) -> dict[str, str]:
    """A catalogue with `count` rooms of each `size`, and an empty weekly schedule."""
    directory.mkdir(parents=True, exist_ok=True)
    catalogue = [
        {
            "id": room_id(size, index),
            "name": f"Bench room {size}-{index}",
            "description": "A room the benchmark fills with generated members.",
            "languages": ["en"],
            "audience": "Generated load only.",
            "capacity": min(MAX_CAPACITY, size + 10),
            "ground_rules": ["Generated load only."],
        }
        for size, count in rooms
        for index in range(count)
    ]
    rooms_file, schedule_file = directory / "bench-rooms.yaml", directory / "bench-schedule.yaml"
    rooms_file.write_text(yaml.safe_dump(catalogue, sort_keys=False))
    schedule_file.write_text(yaml.safe_dump({"timezone": "Europe/London", "weekly": []}))
    return {"WILLOW_ROOMS_FILE": str(rooms_file), "WILLOW_SCHEDULE_FILE": str(schedule_file)}


class WillowRooms:
    """How the generator opens, joins and writes in a Willow room (peers/events.py)."""

    message_event = "room_message"

    async def open(self, server: ServerProcess, cookie: str, room: str) -> Peer:
        """A mentor who opens the room and stays in it."""
        peer = await staff(server, cookie)
        peer.send({"type": "room_open", "room": room})
        await peer.expect("room_state", within=30)
        return peer

    async def join(self, server: ServerProcess, token: str, room: str) -> Peer:
        peer = await visitor(server, token)
        peer.send({"type": "room_join", "room": room, "accept_rules": True})
        await peer.expect("room_welcome", within=30)
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
    socketio: dict[str, Any] = {}
    async with ctx.socketio() as sio_server:
        for size in profile.room_sizes:
            groups = await socketio_groups(
                sio_server, room_count(profile.room_members_total, size), size, f"r{size}-"
            )
            socketio[str(size)] = await ladder(
                MessageLoad(groups, frame=socketio_frame),
                message_rates(profile.room_delivery_rates, size),
                profile.step_seconds,
                profile.warmup_seconds,
                profile.drain_seconds,
                [sio_server.pid],
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
        "socketio": socketio,
        "summary": summarise(willow, raw, socketio),
    }


async def _willow_rooms(ctx: Context) -> dict[str, Any]:
    driver = WillowRooms()
    profile = ctx.profile
    results: dict[str, Any] = {"status": "ok"}
    counts = [(size, room_count(profile.room_members_total, size)) for size in profile.room_sizes]
    settings = write_room_files(ctx.out / "rooms", counts)
    # Each size gets its own node: closing the last size's rooms (their mentors gone, the
    # grace period over) is real work that would land in the next size's first step.
    for size, count in counts:
        async with ctx.willow(count * (size - 1), count, settings, staff_role="mentor") as (
            server,
            seeded,
        ):
            tokens = iter(seeded.visitor_tokens)
            cookies = iter(seeded.staff_cookies)
            groups = []
            for index in range(count):
                room = room_id(size, index)
                mentor = await driver.open(server, next(cookies), room)
                batch = [next(tokens) for _ in range(size - 1)]
                joined = await connect_many(len(batch), _joiner(driver, server, batch, room))
                groups.append(Group([mentor, *joined], index, senders=[mentor]))
            load = MessageLoad(groups, frame=driver.frame, delivery=driver.message_event)
            results[str(size)] = await ladder(
                load,
                message_rates(profile.room_delivery_rates, size),
                profile.step_seconds,
                profile.warmup_seconds,
                profile.drain_seconds,
                [server.pid],
            )
            close_all([m for g in groups for m in g.members])
    return results


def _joiner(
    driver: WillowRooms, server: ServerProcess, tokens: list[str], room: str
) -> Callable[[int], Awaitable[Peer]]:
    def join(index: int) -> Awaitable[Peer]:
        return driver.join(server, tokens[index], room)

    return join


def _best_deliveries(steps: list[dict[str, Any]], size: int) -> float | None:
    best = best_sustained(steps)
    return None if best is None else best * (size - 1)


def summarise(
    willow: dict[str, Any], raw: dict[str, Any], socketio: dict[str, Any] | None = None
) -> dict[str, Any]:
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
        sio_steps = (socketio or {}).get(size_key, [])
        # Per server CPU-second at the highest offered load all three kept up with.
        rate, (w, r, s) = common_step(willow_steps or [], raw_steps, sio_steps)
        w_cpu, r_cpu, s_cpu = per_cpu_second(w), per_cpu_second(r), per_cpu_second(s)
        out[size_key].update(
            {
                "socketio_deliveries_per_s": _best_deliveries(sio_steps, size)
                if sio_steps
                else None,
                "per_cpu_second_at_deliveries_per_s": None if rate is None else rate * (size - 1),
                "willow_per_cpu_second": w_cpu,
                "raw_per_cpu_second": r_cpu,
                "socketio_per_cpu_second": s_cpu,
                "per_cpu_ratio_of_raw": ratio(w_cpu, r_cpu),
                "per_cpu_times_socketio": ratio(w_cpu, s_cpu),
            }
        )
    return out
