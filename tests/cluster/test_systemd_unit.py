"""deploy/willow@.service as systemd itself reads it: valid, and sandboxed."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cluster.nodes import REPO_ROOT
from tests.services import REQUIRE

pytestmark = pytest.mark.cluster

UNIT = REPO_ROOT / "deploy" / "willow@.service"
# systemd-analyze's own scale: under 4 is "OK", 10 is a service with no protection at all.
MOST_EXPOSURE = 4.0


def systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        message = "systemd-analyze not installed (apt-get install systemd; .ci/run installs it)"
        if REQUIRE:
            pytest.fail(message)
        pytest.skip(message)
    return found


def installed_copy(directory: Path) -> Path:
    """The unit as instance 8001, with /opt/willow pointing at a stand-in install here, since
    `verify` checks that the command it starts exists."""
    install = directory / "opt-willow"
    executable = install / ".venv" / "bin" / "willow"
    executable.parent.mkdir(parents=True)
    executable.write_text("#!/bin/sh\n")
    executable.chmod(0o755)
    unit = directory / "willow@8001.service"
    unit.write_text(UNIT.read_text().replace("/opt/willow", str(install)))
    return unit


def test_systemd_accepts_the_unit_without_a_warning(tmp_path: Path) -> None:
    tool = systemd_analyze()
    checked = subprocess.run(
        [tool, "verify", str(installed_copy(tmp_path))], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stderr
    assert checked.stderr.strip() == "", checked.stderr


def test_the_unit_is_sandboxed(tmp_path: Path) -> None:
    tool = systemd_analyze()
    checked = subprocess.run(
        [tool, "security", "--offline=yes", str(installed_copy(tmp_path))],
        capture_output=True,
        text=True,
        check=False,
    )
    found = re.search(r"Overall exposure level for \S+: ([\d.]+)", checked.stdout)
    assert found is not None, checked.stdout + checked.stderr
    assert float(found.group(1)) <= MOST_EXPOSURE, checked.stdout
