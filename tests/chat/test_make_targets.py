"""The newcomer's path through the Makefile: `make run` installs only what running needs and
says what it is doing; `make test` names the reason for every skip."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from chat.core.settings import REPO_ROOT


def planned(target: str, venv: Path) -> str:
    """What `make` would run for `target` in a fresh checkout (a dry run: nothing is run)."""
    make = shutil.which("make")
    if make is None:
        pytest.skip("make not installed (apt-get install make)")
    # Run from `make test` (as CI does), make would say which folder it enters: the dry run
    # is read as a top-level make's.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    done = subprocess.run(
        [make, "--no-print-directory", "--dry-run", target, f"VENV={venv}"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return done.stdout


def test_make_run_installs_only_the_server_lock_and_says_so(tmp_path: Path) -> None:
    plan = planned("run", tmp_path / "venv")
    assert "--require-hashes -r requirements.lock" in plan
    assert "requirements-dev.lock" not in plan
    assert "willow: installing what running Willow needs" in plan
    assert "willow: starting in development mode" in plan
    assert plan.rstrip().endswith("willow run")


def test_make_test_reports_why_each_test_was_skipped(tmp_path: Path) -> None:
    plan = planned("test", tmp_path / "venv")
    assert "requirements-dev.lock" in plan
    assert "pytest -q -rs" in plan
