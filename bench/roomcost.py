"""What one room delivery costs a Willow node, beside the raw relay, in CPU time and calls.

The rooms scenario's figure, deliveries per server CPU-second, moves with whatever else the
machine runs. This sends a fixed number of room messages at a fixed rate through a real
server and reports what the server's process spent on them, from the first send until the
last delivery: CPU time per delivery and per message, and deliveries per CPU-second. The
load is the rooms scenario's own (bench/scenarios/rooms.py): rooms of `--size` members, a
trained mentor in each who opens the room and writes, every other member a participant who
must receive each message once (a delivery).

``--server raw`` measures the raw relay (bench/rawserver.py) with the same rooms and rate,
so "share of raw" is two figures from one session: run both back to back.

    .venv/bin/python -m bench.roomcost                            # Willow, rooms of 50, 30,000/s
    .venv/bin/python -m bench.roomcost --server raw               # the raw relay, the same load
    .venv/bin/python -m bench.roomcost --size 200 --rooms 2       # rooms of 200
    .venv/bin/python -m bench.roomcost --calls --top 30           # Python calls per delivery
    .venv/bin/python -m bench.roomcost --tree /tmp/willow-base    # another commit's server code

``--tree`` runs the node from another checkout's ``chat``, ``moderation``, ``peers`` and
``frontend`` (``git archive <commit> chat moderation peers frontend | tar -x -C DIR``), for a
before and after in one session. ``--calls`` runs the node under cProfile for the measured
stretch only (bench/profiled.py): the call count per delivery is the steady figure.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import uvloop

from bench.client import Peer, connect_many, poll_until
from bench.context import Context
from bench.load import Group, MessageLoad, open_loop
from bench.pathcost import _counters, _cpu, _cpu_apart, calls
from bench.profiles import SMOKE
from bench.scenarios.rooms import WillowRooms, room_id, write_room_files
from bench.seed import seed
from bench.servers import ServerProcess, WillowConfig, pin_generator, start_raw, start_willow
from bench.willow import close_all, raw_groups


@dataclass(frozen=True)
class Options:
    server: str
    size: int
    rooms: int
    rate: int  # deliveries a second offered
    messages: int
    calls: bool
    top: int
    tree: Path | None
    env: dict[str, str]


def parse(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.roomcost", description=__doc__)
    parser.add_argument("--server", choices=("willow", "raw"), default="willow")
    parser.add_argument("--size", type=int, default=50, help="members per room, mentor included")
    parser.add_argument("--rooms", type=int, default=4, help="rooms (the short run: 200 members)")
    parser.add_argument(
        "--rate", type=int, default=30_000, help="deliveries a second offered (messages × others)"
    )
    parser.add_argument("--messages", type=int, default=4000, help="messages measured")
    parser.add_argument("--calls", action="store_true", help="count calls with cProfile")
    parser.add_argument("--top", type=int, default=25, help="functions listed with --calls")
    parser.add_argument("--tree", type=Path, default=None, help="run this checkout's server")
    parser.add_argument(
        "--env", action="append", default=[], metavar="WILLOW_X=VALUE", help="a node setting"
    )
    args = parser.parse_args(argv)
    env = dict(item.partition("=")[::2] for item in args.env)
    if any(not key.startswith("WILLOW_") for key in env):
        parser.error("--env sets WILLOW_ settings only")
    if args.size < 2 or args.rooms < 1 or args.rate < 1 or args.messages < 1:
        parser.error("--size at least 2; --rooms, --rate and --messages at least 1")
    if args.tree is not None and not (args.tree / "chat" / "cli.py").is_file():
        parser.error(f"--tree {args.tree}: no chat/cli.py there")
    if args.server == "raw" and (args.calls or args.tree or env):
        parser.error("--calls, --tree and --env are for --server willow")
    return Options(
        args.server,
        args.size,
        args.rooms,
        args.rate,
        args.messages,
        args.calls,
        args.top,
        args.tree,
        env,
    )


def message_rate(options: Options) -> float:
    """Messages a second that make the offered deliveries (each reaches size - 1 others)."""
    return options.rate / (options.size - 1)


@contextlib.asynccontextmanager
async def willow_rooms(
    ctx: Context, options: Options, profile_to: Path | None
) -> AsyncIterator[tuple[ServerProcess, list[Group]]]:
    """A node with the bench's room catalogue, each room opened by its mentor and filled."""
    url = ctx.sqlite_url()
    settings = write_room_files(ctx.scratch / "rooms", [(options.size, options.rooms)])
    config = WillowConfig(database_url=url, extra={**settings, **options.env})
    wrapper = None if profile_to is None else ["bench.profiled", str(profile_to), "--"]
    seeded = await seed(
        url, config.secret_key, options.rooms * (options.size - 1), options.rooms, "mentor"
    )
    server = await start_willow(config, ctx.logs, wrapper=wrapper, tree=options.tree)
    try:
        driver = WillowRooms()
        tokens, cookies = iter(seeded.visitor_tokens), iter(seeded.staff_cookies)
        groups = []
        for index in range(options.rooms):
            room = room_id(options.size, index)
            mentor = await driver.open(server, next(cookies), room)
            batch = [next(tokens) for _ in range(options.size - 1)]

            def join(i: int, batch: list[str] = batch, room: str = room) -> Any:
                return driver.join(server, batch[i], room)

            joined: list[Peer] = await connect_many(len(batch), join)
            groups.append(Group([mentor, *joined], index, senders=[mentor]))
        yield server, groups
    finally:
        server.stop()


@contextlib.asynccontextmanager
async def _raw(ctx: Context, options: Options) -> AsyncIterator[tuple[ServerProcess, list[Group]]]:
    server = await start_raw(ctx.logs)
    try:
        # As in the rooms scenario's raw rows (the relay has no limits: any member writes).
        yield server, await raw_groups(server, options.rooms, options.size, "r")
    finally:
        server.stop()


async def measure(ctx: Context, options: Options, profile_to: Path | None) -> dict[str, Any]:
    rate = message_rate(options)
    seconds = options.messages / rate
    willow = options.server == "willow"
    node = willow_rooms(ctx, options, profile_to) if willow else _raw(ctx, options)
    async with node as (server, groups):
        if willow:
            load = MessageLoad(groups, frame=WillowRooms().frame, delivery="room_message")
        else:
            load = MessageLoad(groups)
        await load.warm_up(rate, min(2.0, seconds), drain=20)
        before = _counters(server) if willow else {}
        cpu0, t0 = _cpu(server), time.perf_counter()
        kernel0 = _kernel(server)
        _children0, threads0 = _cpu_apart(server)
        if profile_to is not None:
            os.kill(server.pid, signal.SIGUSR1)
        load.begin()
        sent = await open_loop(rate, seconds, load.send_one)
        await load.drain(max(30.0, seconds))
        if profile_to is not None:
            os.kill(server.pid, signal.SIGUSR2)
            await poll_until(profile_to.exists, 30, every=0.1)
        cpu, wall = _cpu(server) - cpu0, time.perf_counter() - t0
        kernel = _kernel(server) - kernel0
        _children1, threads1 = _cpu_apart(server)
        after = _counters(server) if willow else {}
        undelivered = sum(int(entry[2]) for entry in load.pending.values())
        peers = [m for g in groups for m in g.members]
        deliveries = load.delivered
        result = {
            "server": options.server,
            "tree": str(options.tree) if options.tree else "this checkout",
            "size": options.size,
            "rooms": options.rooms,
            "offered_deliveries_per_s": options.rate,
            "messages_per_s": round(rate, 1),
            "sent": sent,
            "acked": load.acks,
            "delivered": deliveries,
            "undelivered": undelivered,
            "errors": dict(load.errors),
            "seq_missing": sum(p.seqs.missing for p in peers),
            "seq_repeats": sum(p.seqs.repeats for p in peers),
            "server_cpu_s": round(cpu, 3),
            "wall_s": round(wall, 2),
            "cpu_share": round(cpu / wall, 3) if wall else None,
            "cpu_us_per_delivery": round(cpu / max(deliveries, 1) * 1e6, 2),
            "cpu_us_per_message": round(cpu / sent * 1e6, 1),
            # The kernel's part (system time): mostly the socket writes, one per frame.
            "system_us_per_delivery": round(kernel / max(deliveries, 1) * 1e6, 2),
            "other_threads_us_per_message": round((threads1 - threads0) / sent * 1e6, 1),
            "deliveries_per_cpu_s": round(deliveries / cpu) if cpu else None,
            "mean_batch": _mean_batch(before, after),
            "latency": load.latency.summary(),
            "settings": options.env,
        }
        close_all(peers)
    return result


def _kernel(server: ServerProcess) -> float:
    """System CPU seconds of the server's process (every thread)."""
    return float(psutil.Process(server.pid).cpu_times().system)


def _mean_batch(before: dict[str, float], after: dict[str, float]) -> float | None:
    name, batches = "willow_messages_stored_total", "willow_message_batches_total"
    count = after.get(batches, 0.0) - before.get(batches, 0.0)
    stored = after.get(name, 0.0) - before.get(name, 0.0)
    return round(stored / count, 2) if count else None


def report(result: dict[str, Any]) -> str:
    server = "Willow" if result["server"] == "willow" else "raw relay"
    lines = [
        f"room cost, {server}: {result['sent']} messages at {result['messages_per_s']}/s into "
        f"{result['rooms']} rooms of {result['size']} ({result['offered_deliveries_per_s']} "
        f"deliveries/s offered), server code: {result['tree']}",
        f"  server CPU {result['server_cpu_s']} s in {result['wall_s']} s wall "
        f"({result['cpu_share']:.0%} of a core): {result['cpu_us_per_delivery']} µs per delivery, "
        f"{result['cpu_us_per_message']} µs per message, "
        f"{result['deliveries_per_cpu_s']} deliveries per CPU-second; of a delivery's µs "
        f"{result['system_us_per_delivery']} in the kernel",
        f"  mean batch {result['mean_batch']}, the node's other threads "
        f"{result['other_threads_us_per_message']} µs per message (in the figures above)",
        f"  acked {result['acked']}, delivered {result['delivered']}, undelivered "
        f"{result['undelivered']}, seq gaps {result['seq_missing']}, repeats "
        f"{result['seq_repeats']}, errors {result['errors'] or 'none'}",
        f"  latency (noisy on a shared machine): p50 {result['latency'].get('p50_ms')} ms, "
        f"p99 {result['latency'].get('p99_ms')} ms; load average {os.getloadavg()[0]:.2f}",
    ]
    profile = result.get("profile")
    if profile:
        per_delivery = profile["calls_per_message"] * result["sent"] / max(result["delivered"], 1)
        lines.append(
            f"  Python calls on the event loop: {profile['calls_per_message']} per message, "
            f"{per_delivery:.1f} per delivery"
        )
        lines.append("  own%   cum%  calls/msg  function")
        for row in profile["top"]:
            lines.append(
                f"  {row['own_share']:5.1%} {row['cumulative_share']:6.1%} "
                f"{row['calls_per_message']:9.2f}  {row['function']}"
            )
    return "\n".join(lines)


async def run(options: Options) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="willow-roomcost-") as scratch:
        folder = Path(scratch)
        ctx = Context(SMOKE, folder / "out", folder / "db")
        profile_to = folder / "profile.pstats" if options.calls else None
        result = await measure(ctx, options, profile_to)
        if profile_to is not None:
            result["profile"] = calls(profile_to, result["sent"], options.top)
        return result


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    pin_generator()
    result = uvloop.run(run(options))
    print(report(result))
    print(json.dumps({k: v for k, v in result.items() if k != "profile"}), file=sys.stderr)
    ok = result["undelivered"] == 0 and not result["seq_missing"] and not result["seq_repeats"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
