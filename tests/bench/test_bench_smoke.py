"""The load generator against a real Willow server (and the raw relay) for about two seconds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.services import postgres_url

pytest.importorskip("picows", reason="the bench extra is not installed (pip install -e '.[bench]')")
pytest.importorskip("hdrh", reason="the bench extra is not installed (pip install -e '.[bench]')")

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = {
    "one_to_one",
    "one_to_one_pg",
    "rooms",
    "two_nodes",
    "stalled",
    "reconnect",
    "idle",
    "routing",
    "surge",
}


def test_a_short_run_delivers_every_message_in_order(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--only", "one_to_one", "--out", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-3000:]
    (run,) = tmp_path.iterdir()
    results = json.loads((run / "results.json").read_text())

    assert set(results["scenarios"]) == SCENARIOS
    assert results["scenarios"]["routing"] == {"status": "skipped"}
    one = results["scenarios"]["one_to_one"]
    assert one["status"] == "ok"
    for server in ("willow", "raw", "socketio"):
        (step,) = one[server]
        assert step["delivered"] > 0, server
        assert step["undelivered"] == 0, server
        assert step["acks"] == step["sent"], server
        assert step["errors"] == {}, server
    willow = one["willow"][0]
    assert willow["seq_missing"] == 0
    assert willow["seq_repeats"] == 0
    assert willow["latency"]["count"] == willow["delivered"]
    assert "## 1:1 chats with persistence" in (run / "results.md").read_text()
    assert (run / "latency.png").read_bytes().startswith(b"\x89PNG")


def test_a_short_rooms_run_seeds_its_mentors_and_delivers_to_every_member(tmp_path: Path) -> None:
    """The rooms scenario seeds mentors through Willow's own account rules (a display name that
    is not the username), opens rooms and delivers every mentor message to every member."""
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--only", "rooms", "--out", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-3000:]
    (run,) = tmp_path.iterdir()
    rooms = json.loads((run / "results.json").read_text())["scenarios"]["rooms"]
    assert rooms["status"] == "ok", rooms.get("willow")
    steps = [step for size in rooms["willow"].values() if isinstance(size, list) for step in size]
    assert steps
    for step in steps:
        assert step["delivered"] > 0
        assert step["undelivered"] == 0
        assert step["acks"] == step["sent"]
        assert step["seq_missing"] == 0 and step["seq_repeats"] == 0
        assert step["errors"] == {}


def test_a_short_postgresql_run_stores_and_delivers_every_message_in_order(
    tmp_path: Path,
) -> None:
    """The 1:1 ladder with the node on a scratch PostgreSQL database: every message acked,
    delivered once and in seq order, and reported beside SQLite's rows."""
    env = {**os.environ, "WILLOW_BENCH_DATABASE_URL": postgres_url()}
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--smoke",
            "--only",
            "one_to_one_pg",
            "--out",
            str(tmp_path),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-3000:]
    (run,) = tmp_path.iterdir()
    results = json.loads((run / "results.json").read_text())
    assert results["scenarios"]["one_to_one"] == {"status": "skipped"}
    section = results["scenarios"]["one_to_one_pg"]
    assert section["status"] == "ok", section
    (step,) = section["willow"]
    assert step["delivered"] > 0
    assert step["undelivered"] == 0
    assert step["acks"] == step["sent"]
    assert step["errors"] == {}
    assert step["seq_missing"] == 0 and step["seq_repeats"] == 0
    assert section["summary"]["willow_per_cpu_second"] is not None
    report = (run / "results.md").read_text()
    assert "| Willow, PostgreSQL |" in report
    assert "1:1 on PostgreSQL: persisted msg/s sustained" in report


@pytest.mark.parametrize("server", ["willow", "raw"])
def test_roomcost_reports_cpu_per_delivery_with_every_message_delivered_once(
    server: str,
) -> None:
    """`python -m bench.roomcost`: a fixed number of room messages through a real server,
    each delivered once to every other member, and what the server's CPU did per delivery."""
    small = ["--size", "5", "--rooms", "2", "--rate", "400", "--messages", "60"]
    completed = subprocess.run(
        [sys.executable, "-m", "bench.roomcost", "--server", server, *small],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-3000:]
    result = json.loads(completed.stderr.strip().splitlines()[-1])
    assert result["sent"] == 60
    assert result["delivered"] == 60 * 4
    assert result["undelivered"] == 0
    assert result["seq_missing"] == 0 and result["seq_repeats"] == 0
    assert result["acked"] == 60
    assert result["cpu_us_per_delivery"] > 0
    assert "µs per delivery" in completed.stdout
