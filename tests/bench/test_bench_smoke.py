"""The load generator against a real Willow server (and the raw relay) for about two seconds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("picows", reason="the bench extra is not installed (pip install -e '.[bench]')")
pytest.importorskip("hdrh", reason="the bench extra is not installed (pip install -e '.[bench]')")

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = {"one_to_one", "rooms", "two_nodes", "stalled", "reconnect", "idle", "routing", "surge"}


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
