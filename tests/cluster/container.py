"""deploy/Dockerfile built and run with no Docker daemon: podman (buildah inside it), the vfs
storage driver and chroot isolation for the build, crun for the run, as root on this host.

No registry is reachable here, so the image the Dockerfile starts FROM, `python:3.11-slim`, is
replaced by a stand-in of the same Debian release (bookworm) made with mmdebstrap from Debian's
mirror: Debian's Python 3.11 and pip, `python` on the PATH, and pip allowed to install into the
system as it is in the real image. Everything after FROM is the shipped file, unchanged; the
build context is the repository root filtered by deploy/Dockerfile.dockerignore.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.nodes import REPO_ROOT
from tests.services import REQUIRE

DOCKERFILE = REPO_ROOT / "deploy" / "Dockerfile"
IGNOREFILE = REPO_ROOT / "deploy" / "Dockerfile.dockerignore"
# The name the Dockerfile's FROM lines resolve to in podman's local storage.
BASE = "docker.io/library/python:3.11-slim"
IMAGE = "localhost/willow-under-test:latest"
# Kept between runs (only the stand-in base is worth keeping): vfs copies whole layers.
STORE = Path("/var/tmp/willow-test-podman")
# Bounds, in seconds: the base is made once per machine, the image once per run.
BASE_TIMEOUT = 900.0
BUILD_TIMEOUT = 900.0
COMMAND_TIMEOUT = 120.0
# Debian's own packages, from Debian's mirror, made once per machine and kept in STORE.
DEBIAN = "localhost/willow-stand-in-bookworm:latest"
STAND_IN_PACKAGES = "python3,python3-pip,python3-venv,ca-certificates"
# What makes Debian look like the official image to the Dockerfile: `python` and `pip` on the
# PATH and free to install into the system (the official image's Python is not Debian's, so
# nothing forbids it there), and the certificate authorities this host trusts, so the build's
# pip reaches PyPI through whatever this host's network requires.
STAND_IN = f"""\
FROM {DEBIAN}
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
RUN ln -sf /usr/bin/python3 /usr/local/bin/python \\
    && rm -f /usr/lib/python3.11/EXTERNALLY-MANAGED
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
CMD ["python3"]
"""
HOST_CERTIFICATES = Path("/etc/ssl/certs/ca-certificates.crt")
# This host's kernel lets root lower limits but not raise them, and mixes cgroup versions,
# which crun refuses; runc accepts both.
LIMITS = ("--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096")


class ContainerError(RuntimeError):
    """A podman or mmdebstrap command failed; the message has its output."""


TOOLS = ("podman", "runc", "mmdebstrap")


def tools_or_skip() -> tuple[str, str]:
    """podman and mmdebstrap (and runc for podman), or skip (fail in CI) naming what is missing."""
    found = {tool: shutil.which(tool) for tool in TOOLS}
    missing = [tool for tool, path in found.items() if path is None]
    if missing:
        message = (
            f"{', '.join(missing)} not installed "
            f"(apt-get install {' '.join(TOOLS)}; .ci/run installs them)"
        )
        if REQUIRE:
            pytest.fail(message)
        pytest.skip(message)
    return str(found["podman"]), str(found["mmdebstrap"])


@dataclass
class Podman:
    """podman with storage of its own, so nothing here touches another user of the host."""

    binary: str
    mmdebstrap: str
    store: Path = STORE

    def args(self, *rest: str) -> list[str]:
        return [
            self.binary,
            "--root", str(self.store / "storage"),
            "--runroot", str(self.store / "run"),
            "--storage-driver", "vfs",
            "--cgroup-manager", "cgroupfs",
            "--events-backend", "none",
            "--runtime", "runc",
            *rest,
        ]  # fmt: skip

    def run(
        self, *rest: str, timeout: float = COMMAND_TIMEOUT, check: bool = True, stdin: Any = None
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            self.args(*rest),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=stdin,
        )
        if check and done.returncode != 0:
            raise ContainerError(
                f"podman {' '.join(rest)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
            )
        return done

    def has_image(self, name: str) -> bool:
        return self.run("image", "exists", name, check=False).returncode == 0

    def make_stand_in_base(self) -> None:
        """Debian bookworm with Python 3.11 and pip, named as the Dockerfile's base image."""
        if self.has_image(BASE):
            return
        self.store.mkdir(parents=True, exist_ok=True)
        if not self.has_image(DEBIAN):
            tarball = self.store / "bookworm.tar"
            made = subprocess.run(
                [self.mmdebstrap, "--variant=minbase", f"--include={STAND_IN_PACKAGES}",
                 "bookworm", str(tarball)],
                capture_output=True, text=True, timeout=BASE_TIMEOUT, check=False,
            )  # fmt: skip
            if made.returncode != 0:
                raise ContainerError(f"mmdebstrap exited {made.returncode}:\n{made.stderr[-4000:]}")
            self.run("import", str(tarball), DEBIAN, timeout=BASE_TIMEOUT)
            tarball.unlink()
        context = self.store / "stand-in"
        context.mkdir(exist_ok=True)
        (context / "Containerfile").write_text(STAND_IN)
        shutil.copyfile(HOST_CERTIFICATES, context / "ca-certificates.crt")
        self.run(
            "build", "--pull=never", "--layers=false", "--isolation", "chroot", "--network", "host",
            *LIMITS,
            "--tag", BASE, str(context),
            timeout=BASE_TIMEOUT,
        )  # fmt: skip

    def build(self) -> str:
        """deploy/Dockerfile as shipped, from the repository root; the build's output."""
        done = self.run(
            "build",
            "--pull=never",
            "--layers=false",
            # Docker's image format, as `docker build` makes: it keeps the HEALTHCHECK.
            "--format", "docker",
            "--isolation", "chroot",
            "--network", "host",
            *LIMITS,
            "--file", str(DOCKERFILE),
            "--ignorefile", str(IGNOREFILE),
            "--tag", IMAGE,
            str(REPO_ROOT),
            timeout=BUILD_TIMEOUT,
        )  # fmt: skip
        return done.stdout + done.stderr

    def inspect(self, name: str) -> dict[str, Any]:
        found: list[dict[str, Any]] = json.loads(self.run("image", "inspect", name).stdout)
        return found[0]
