"""Runs the chosen scenarios one after another and writes results.json, results.md and a chart."""

from __future__ import annotations

import json
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import machine, report
from bench.context import Context
from bench.profiles import Profile
from bench.scenarios import (
    idle,
    one_to_one,
    reconnect,
    rooms,
    routing,
    stalled,
    surge,
    two_nodes,
)

Scenario = Callable[[Context], Awaitable[dict[str, Any]]]

SCENARIOS: dict[str, Scenario] = {
    "one_to_one": one_to_one.run,
    # The same 1:1 ladder with the node on PostgreSQL (a scratch database on 127.0.0.1).
    "one_to_one_pg": one_to_one.run_postgres,
    "rooms": rooms.run,
    "two_nodes": two_nodes.run,
    "stalled": stalled.run,
    "reconnect": reconnect.run,
    "idle": idle.run,
    "routing": routing.run,
    "surge": surge.run,
}


def new_out_dir(base: Path) -> Path:
    out = base / datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    return out


async def run(profile: Profile, only: list[str], out: Path, pinning: str) -> dict[str, Any]:
    """Every scenario gets a key: its results, "skipped", or the error that stopped it."""
    started = time.monotonic()
    results: dict[str, Any] = {
        "profile": profile.name,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine.describe(),
        "pinning": pinning,
        "scenarios": {},
    }
    with tempfile.TemporaryDirectory(prefix="willow-bench-") as scratch:
        ctx = Context(profile, out, Path(scratch))
        for name, scenario in SCENARIOS.items():
            if only and name not in only:
                results["scenarios"][name] = {"status": "skipped"}
                continue
            print(f"bench: {name} …", flush=True)
            began = time.monotonic()
            try:
                outcome = await scenario(ctx)
            except Exception as exc:
                traceback.print_exc()
                outcome = {"status": "error", "error": f"{type(exc).__name__}: {exc}"}
            outcome["wall_seconds"] = round(time.monotonic() - began, 1)
            results["scenarios"][name] = outcome
            print(f"bench: {name} {outcome['status']} in {outcome['wall_seconds']}s", flush=True)
            _write(out, results)  # keep what we have if a later scenario hangs or is stopped
    results["wall_seconds"] = round(time.monotonic() - started, 1)
    _write(out, results)
    return results


def _write(out: Path, results: dict[str, Any]) -> None:
    (out / "results.json").write_text(json.dumps(results, indent=2, default=str))
    (out / "results.md").write_text(report.markdown(results))
    report.chart(results, out / "latency.png")
