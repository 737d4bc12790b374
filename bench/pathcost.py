"""What one 1:1 message costs a Willow node, in CPU time and Python calls.

The machine the benchmark runs on is often shared, so latencies and sustained rates wander
with the neighbours' load. This sends a fixed number of 1:1 messages (the 1:1 scenario's
own, alternating visitor and adviser) at a fixed rate through a real node (`willow run`,
production settings, pinned like the benchmark's) and reports what the node spent on them:

* CPU time of the node's process (every thread: the event loop, SQLite's writer) per
  message, from the first send until the last delivery; apart from it, the CPU time of the
  node's child processes (the learned layer's worker: a process of its own, never counted in
  the node's figure) and of the node's threads other than the event loop's;
* the mean number of messages per group commit (the appender's batches: more per batch is
  cheaper per message, and a busier node batches more, so a figure says its batch size);
* with ``--calls``, Python function calls per message on the event loop's thread (cProfile,
  switched on for the measured stretch only: bench/profiled.py). The call count is the
  steady figure: it does not depend on what else the machine does. cProfile slows the node,
  so CPU time is measured in a run without it.

    .venv/bin/python -m bench.pathcost                          # SQLite, 6,000 msgs at 1,000/s
    .venv/bin/python -m bench.pathcost --calls --top 30         # plus calls and a profile
    .venv/bin/python -m bench.pathcost --database postgresql    # a scratch PostgreSQL database
    .venv/bin/python -m bench.pathcost --tree /tmp/willow-base  # another commit's server code
    .venv/bin/python -m bench.pathcost --env WILLOW_LEARNED_RISK=off   # a node setting

``--tree`` runs the node from another checkout's ``chat``, ``moderation``, ``peers`` and
``frontend`` (for example ``git archive <commit> chat moderation peers frontend | tar -x -C
DIR``), so before and after are measured in one session by the same generator.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pstats
import re
import signal
import sys
import tempfile
import time
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import uvloop

from bench.client import poll_until
from bench.context import Context
from bench.load import MessageLoad, open_loop
from bench.profiles import SMOKE
from bench.seed import Seeded, create_scratch_database, drop_scratch_database, seed
from bench.servers import ServerProcess, WillowConfig, pin_generator, start_willow
from bench.willow import advisers_for, close_all, open_pairs, pairs_for

_COUNTER = re.compile(
    r"^(willow_messages_stored_total|willow_message_batches_total|willow_learned_risk_seconds_count"
    r'|willow_learned_risk_skipped_total\{reason="\w+"\}) (\S+)$',
    re.M,
)


@dataclass(frozen=True)
class Options:
    messages: int
    rate: int
    database: str
    broker_url: str
    calls: bool
    top: int
    tree: Path | None
    env: dict[str, str]
    worker_core: int | None = None


def parse(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.pathcost", description=__doc__)
    parser.add_argument("--messages", type=int, default=6000, help="messages measured")
    parser.add_argument("--rate", type=int, default=1000, help="messages a second offered")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--broker-url", default="memory://", help="e.g. redis://127.0.0.1:6379/0")
    parser.add_argument("--calls", action="store_true", help="count calls with cProfile")
    parser.add_argument("--top", type=int, default=25, help="functions listed with --calls")
    parser.add_argument("--tree", type=Path, default=None, help="run this checkout's server")
    parser.add_argument(
        "--env", action="append", default=[], metavar="WILLOW_X=VALUE", help="a node setting"
    )
    parser.add_argument(
        "--worker-core",
        type=int,
        default=None,
        help="move the node's child processes (its learned worker) to this core",
    )
    args = parser.parse_args(argv)
    env = dict(item.partition("=")[::2] for item in args.env)
    if any(not key.startswith("WILLOW_") for key in env):
        parser.error("--env sets WILLOW_ settings only")
    if args.messages < 1 or args.rate < 1:
        parser.error("--messages and --rate must be at least 1")
    if args.tree is not None and not (args.tree / "chat" / "cli.py").is_file():
        parser.error(f"--tree {args.tree}: no chat/cli.py there")
    if args.broker_url.startswith("redis") and args.database == "sqlite":
        parser.error("a Redis broker needs --database postgresql (Willow refuses it with SQLite)")
    return Options(
        args.messages,
        args.rate,
        args.database,
        args.broker_url,
        args.calls,
        args.top,
        args.tree,
        env,
        args.worker_core,
    )


def _counters(server: ServerProcess) -> dict[str, float]:
    # Always http://127.0.0.1:<port>, the node this tool started.
    with urllib.request.urlopen(f"{server.origin}/metrics", timeout=10) as response:  # noqa: S310
        text = response.read().decode()
    return {name: float(value) for name, value in _COUNTER.findall(text)}


def _cpu(server: ServerProcess) -> float:
    """The node's own process, every thread (not its children: a live child's time is its own)."""
    times = psutil.Process(server.pid).cpu_times()
    return float(times.user + times.system)


def _cpu_apart(server: ServerProcess) -> tuple[float, float]:
    """CPU seconds of the node's child processes (its learned worker), and of the node's
    threads other than the main one (the event loop's)."""
    node = psutil.Process(server.pid)
    children = 0.0
    for child in node.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            times = child.cpu_times()
            children += times.user + times.system
    others = sum(t.user_time + t.system_time for t in node.threads() if t.id != server.pid)
    return children, others


@contextlib.asynccontextmanager
async def _node(
    ctx: Context, options: Options, pairs: int, profile_to: Path | None
) -> AsyncIterator[tuple[ServerProcess, Seeded]]:
    """One node with its accounts, on SQLite (a temporary file) or a scratch PostgreSQL."""
    scratch_pg = None
    if options.database == "postgresql":
        scratch_pg = await create_scratch_database(ctx.postgres_url)
        url = scratch_pg
    else:
        url = ctx.sqlite_url()
    config = WillowConfig(database_url=url, broker_url=options.broker_url, extra=options.env)
    wrapper = None if profile_to is None else ["bench.profiled", str(profile_to), "--"]
    try:
        seeded = await seed(url, config.secret_key, pairs, advisers_for(pairs))
        server = await start_willow(config, ctx.logs, wrapper=wrapper, tree=options.tree)
        try:
            yield server, seeded
        finally:
            server.stop()
    finally:
        if scratch_pg is not None:
            await drop_scratch_database(ctx.postgres_url, scratch_pg)


async def measure(ctx: Context, options: Options, profile_to: Path | None) -> dict[str, Any]:
    pairs = pairs_for(options.rate)
    seconds = options.messages / options.rate
    async with _node(ctx, options, pairs, profile_to) as (server, seeded):
        groups = await open_pairs(server, server, seeded.visitor_tokens, seeded.staff_cookies)
        load = MessageLoad(groups)
        if options.worker_core is not None:
            for child in psutil.Process(server.pid).children(recursive=True):
                child.cpu_affinity([options.worker_core])
        # Warm: the first messages of each conversation (and the node's first batches) differ.
        await load.warm_up(options.rate, min(2.0, seconds), drain=20)
        before, cpu0, t0 = _counters(server), _cpu(server), time.perf_counter()
        children0, threads0 = _cpu_apart(server)
        if profile_to is not None:
            os.kill(server.pid, signal.SIGUSR1)
        load.begin()
        sent = await open_loop(options.rate, seconds, load.send_one)
        await load.drain(max(30.0, seconds))
        if profile_to is not None:
            os.kill(server.pid, signal.SIGUSR2)
            await poll_until(profile_to.exists, 30, every=0.1)
        cpu, wall = _cpu(server) - cpu0, time.perf_counter() - t0
        children1, threads1 = _cpu_apart(server)
        children, threads = children1 - children0, threads1 - threads0
        after = _counters(server)
        undelivered = sum(int(entry[2]) for entry in load.pending.values())
        peers = [m for g in groups for m in g.members]
        result = {
            "database": options.database,
            "broker": options.broker_url.partition(":")[0],
            "tree": str(options.tree) if options.tree else "this checkout",
            "rate": options.rate,
            "conversations": pairs,
            "sent": sent,
            "acked": load.acks,
            "delivered": load.delivered,
            "undelivered": undelivered,
            "errors": dict(load.errors),
            "seq_missing": sum(p.seqs.missing for p in peers),
            "seq_repeats": sum(p.seqs.repeats for p in peers),
            "server_cpu_s": round(cpu, 3),
            "wall_s": round(wall, 2),
            "cpu_us_per_message": round(cpu / sent * 1e6, 1),
            "other_threads_us_per_message": round(threads / sent * 1e6, 1),
            "children_cpu_s": round(children, 3),
            "settings": options.env,
            "worker_core": options.worker_core,
            "learned": _learned_counts(before, after),
            "messages_per_cpu_s": round(sent / cpu) if cpu else None,
            "mean_batch": _mean_batch(before, after),
            "latency": load.latency.summary(),
        }
        close_all(peers)
    return result


def _mean_batch(before: dict[str, float], after: dict[str, float]) -> float | None:
    stored = _delta(before, after, "willow_messages_stored_total")
    batches = _delta(before, after, "willow_message_batches_total")
    return round(stored / batches, 2) if batches else None


def _delta(before: dict[str, float], after: dict[str, float], name: str) -> float:
    return after.get(name, 0.0) - before.get(name, 0.0)


def _learned_counts(before: dict[str, float], after: dict[str, float]) -> dict[str, int]:
    """Messages the learned layer read, and skipped by reason, in the measured stretch."""
    counts = {"read": int(_delta(before, after, "willow_learned_risk_seconds_count"))}
    for name in after:
        if name.startswith("willow_learned_risk_skipped_total"):
            reason = name.split('"')[1]
            counts[f"skipped_{reason}"] = int(_delta(before, after, name))
    return counts


def calls(profile: Path, messages: int, top: int) -> dict[str, Any]:
    """Calls per message on the event loop's thread, and the top functions by own time."""
    stats = pstats.Stats(str(profile))
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    rows = []
    for (file, line, name), (_cc, ncalls, tottime, cumtime, _callers) in table.items():
        where = f"{_short(file)}:{line}" if line else file
        rows.append((tottime, ncalls, cumtime, f"{name} ({where})"))
    rows.sort(reverse=True)
    total_calls = sum(r[1] for r in rows)
    total_time = sum(r[0] for r in rows) or 1.0
    return {
        "calls_per_message": round(total_calls / messages, 1),
        "top": [
            {
                "function": where,
                "own_share": round(tottime / total_time, 4),
                "calls_per_message": round(ncalls / messages, 2),
                "cumulative_share": round(cumtime / total_time, 4),
            }
            for tottime, ncalls, cumtime, where in rows[:top]
        ],
    }


def _short(file: str) -> str:
    for marker in ("site-packages/", "/wt-speed/", "lib/python3"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file


def report(result: dict[str, Any]) -> str:
    lines = [
        f"1:1 path cost: {result['sent']} messages at {result['rate']}/s over "
        f"{result['conversations']} conversations, {result['database']} + {result['broker']}, "
        f"server code: {result['tree']}",
        f"  server CPU {result['server_cpu_s']} s in {result['wall_s']} s wall: "
        f"{result['cpu_us_per_message']} µs per message "
        f"({result['messages_per_cpu_s']} messages per CPU-second), "
        f"mean batch {result['mean_batch']}",
        f"  apart from it: the node's other threads {result['other_threads_us_per_message']} µs"
        f" per message (in the figure above), its worker process {result['children_cpu_s']} s"
        f" (not in it, on core {result['worker_core'] or 'as the node'}); learned layer"
        f" {result['learned']}, settings {result['settings']}",
        f"  acked {result['acked']}, delivered {result['delivered']}, undelivered "
        f"{result['undelivered']}, seq gaps {result['seq_missing']}, repeats "
        f"{result['seq_repeats']}, errors {result['errors'] or 'none'}",
        f"  latency (noisy on a shared machine): p50 {result['latency'].get('p50_ms')} ms, "
        f"p99 {result['latency'].get('p99_ms')} ms",
    ]
    profile = result.get("profile")
    if profile:
        lines.append(
            f"  Python calls per message on the event loop: {profile['calls_per_message']}"
        )
        lines.append("  own%   cum%  calls/msg  function")
        for row in profile["top"]:
            lines.append(
                f"  {row['own_share']:5.1%} {row['cumulative_share']:6.1%} "
                f"{row['calls_per_message']:9.2f}  {row['function']}"
            )
    return "\n".join(lines)


async def run(options: Options) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="willow-pathcost-") as scratch:
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
