"""What an idle connection holds, by where it was allocated (tracemalloc), Willow beside raw.

The idle scenario (bench/scenarios/idle.py) measures resident memory per welcomed, idle
connection. This says what that memory is: it starts a Willow node (or the raw server) under
bench/traced.py, opens warm-up connections, switches tracemalloc on, opens N more idle
connections (Willow's say hello and are welcomed, as in the scenario), and reports the bytes
still allocated per connection, first as the process holds them and then after a collection
of cyclic garbage, with the allocation sites that hold the most.

    .venv/bin/python -m bench.idlemem                   # Willow, 2,000 connections
    .venv/bin/python -m bench.idlemem --server raw      # the raw stack alone
    .venv/bin/python -m bench.idlemem --top 40 --group traceback
    .venv/bin/python -m bench.idlemem --tree /tmp/willow-base   # another commit's server code

Resident memory (RSS) is more than this: the allocator's own overhead and fragmentation, and
whatever C libraries allocate outside Python's allocator (uvloop's handles, libuv), which
tracemalloc does not see. The difference between RSS per connection and traced bytes per
connection is that part.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import tracemalloc
from pathlib import Path
from typing import Any

import psutil
import uvloop

from bench.client import Peer, connect, connect_many, poll_until
from bench.context import Context
from bench.profiles import SMOKE
from bench.seed import seed
from bench.servers import (
    ServerProcess,
    WillowConfig,
    _spawn,
    free_port,
    pin_generator,
    raise_fd_limit,
    start_willow,
    wait_ready,
)
from bench.willow import close_all, visitor

WARM = 50
SETTLE_SECONDS = 2.0


async def _raw(out: Path, logs: Path) -> ServerProcess:
    port = free_port()
    argv = [sys.executable, "-m", "bench.traced", str(out), "--", "bench.rawserver"]
    server = _spawn("raw", [*argv, "--port", str(port)], dict(os.environ), port, logs)
    try:
        await wait_ready(server, "/nothing")
    except BaseException:
        server.stop()
        raise
    return server


async def measure(kind: str, count: int, scratch: Path, tree: Path | None = None) -> dict[str, Any]:
    ctx = Context(SMOKE, scratch / "out", scratch / "db")
    out = scratch / "snapshot"
    tokens: list[str] = []
    if kind == "willow":
        config = WillowConfig(database_url=ctx.sqlite_url())
        tokens = (
            await seed(config.database_url, config.secret_key, count + WARM, 0)
        ).visitor_tokens
        server = await start_willow(
            config, ctx.logs, wrapper=["bench.traced", str(out), "--", "chat.cli"], tree=tree
        )

        async def opener(index: int) -> Peer:
            return await visitor(server, tokens[index])
    else:
        server = await _raw(out, ctx.logs)

        async def opener(index: int) -> Peer:
            return await connect(f"{server.ws_url}?room=idle", server.origin)

    try:
        process = psutil.Process(server.pid)
        warm = await connect_many(WARM, opener)
        await asyncio.sleep(0.5)
        rss0 = process.memory_info().rss
        os.kill(server.pid, signal.SIGUSR1)
        await asyncio.sleep(0.2)
        rest = await connect_many(count, lambda i: opener(WARM + i), concurrency=50)
        await asyncio.sleep(SETTLE_SECONDS)
        rss1 = process.memory_info().rss
        os.kill(server.pid, signal.SIGUSR2)
        if not await poll_until(out.exists, 120, every=0.2):
            raise RuntimeError(f"no snapshot from {kind}:\n{server.log_tail()}")
        close_all(warm + rest)
    finally:
        server.stop()
    return {
        "server": kind,
        "connections": count,
        # RSS with tracemalloc on is larger than without (its own records): compare runs alike.
        "rss_kib_per_connection_traced_run": round((rss1 - rss0) / count / 1024, 2),
        "held": tracemalloc.Snapshot.load(str(out)),
        "collected": tracemalloc.Snapshot.load(str(out) + ".collected"),
    }


def _interesting(snapshot: tracemalloc.Snapshot) -> tracemalloc.Snapshot:
    # tracemalloc's own bookkeeping and the snapshot machinery are not the server's.
    return snapshot.filter_traces(
        [
            tracemalloc.Filter(False, tracemalloc.__file__),
            tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
            tracemalloc.Filter(False, "<unknown>"),
        ]
    )


def report(result: dict[str, Any], top: int, group: str) -> str:
    count = result["connections"]
    held = _interesting(result["held"])
    collected = _interesting(result["collected"])
    total_held = sum(s.size for s in held.statistics("filename"))
    total_left = sum(s.size for s in collected.statistics("filename"))
    lines = [
        f"{result['server']}: {count} idle connections",
        f"  traced, as held:            {total_held / count / 1024:7.2f} KiB per connection",
        f"  traced, after gc.collect(): {total_left / count / 1024:7.2f} KiB per connection",
        f"  RSS (tracemalloc on):       {result['rss_kib_per_connection_traced_run']:7.2f} KiB "
        "per connection",
        f"  top {top} by {group} (after collection), bytes and blocks per connection:",
    ]
    for stat in collected.statistics(group)[:top]:
        frames = stat.traceback.format(
            limit=6 if group == "traceback" else 1, most_recent_first=True
        )
        where = "\n      ".join(f.strip() for f in frames if f.strip() and not f.startswith("    "))
        lines.append(f"  {stat.size / count:8.1f} B {stat.count / count:6.2f}  {where}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.idlemem", description=__doc__)
    parser.add_argument("--server", choices=("willow", "raw"), default="willow")
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--group", choices=("lineno", "filename", "traceback"), default="lineno")
    parser.add_argument("--tree", type=Path, default=None, help="run this checkout's server")
    args = parser.parse_args(argv)
    # Inherited by the server (bench/traced.py): a traceback needs frames, a line one.
    os.environ["BENCH_TRACE_FRAMES"] = "25" if args.group == "traceback" else "1"
    pin_generator()
    raise_fd_limit(args.connections + WARM + 200)
    with tempfile.TemporaryDirectory(prefix="willow-idlemem-") as scratch:
        result = uvloop.run(measure(args.server, args.connections, Path(scratch), args.tree))
    print(report(result, args.top, args.group))
    return 0


if __name__ == "__main__":
    sys.exit(main())
