"""The Redis path's limit: `redis-benchmark` PUBLISH against the Redis Willow's nodes use."""

from __future__ import annotations

import asyncio
import csv
import io
import secrets
import shutil
from typing import Any
from urllib.parse import urlsplit

PAYLOAD = "x" * 200  # about one encoded chat message with its envelope


def parse_csv(text: str) -> dict[str, float]:
    """The one result row of `redis-benchmark --csv`, as numbers."""
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows:
        raise ValueError(f"redis-benchmark printed no result: {text[:200]!r}")
    return {key: float(value) for key, value in rows[-1].items() if key != "test"}


async def _benchmark(host: str, port: int, requests: int, clients: int) -> dict[str, float]:
    channel = f"willow-bench-limit-{secrets.token_hex(3)}"
    process = await asyncio.create_subprocess_exec(
        "redis-benchmark",
        "-h",
        host,
        "-p",
        str(port),
        "-n",
        str(requests),
        "-c",
        str(clients),
        "--csv",
        "PUBLISH",
        channel,
        PAYLOAD,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), 120)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    if process.returncode:
        raise RuntimeError(f"redis-benchmark failed: {err.decode(errors='replace')[:300]}")
    return parse_csv(out.decode())


async def publish_limit(redis_url: str, requests: int) -> dict[str, Any]:
    """One client (the round trip a node's publish pays) and 50 clients (throughput)."""
    if shutil.which("redis-benchmark") is None:
        return {"status": "not available: redis-benchmark is not on PATH"}
    parts = urlsplit(redis_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 6379
    one = await _benchmark(host, port, max(1000, requests // 4), 1)
    many = await _benchmark(host, port, requests, 50)
    return {
        "status": "ok",
        "single_client": {
            "publish_per_s": one["rps"],
            "p50_ms": one["p50_latency_ms"],
            "p99_ms": one["p99_latency_ms"],
        },
        "fifty_clients": {
            "publish_per_s": many["rps"],
            "p50_ms": many["p50_latency_ms"],
            "p99_ms": many["p99_latency_ms"],
        },
    }
