"""Real Willow server processes for the several-node tests: start, wait until ready, kill."""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 45.0
STOP_TIMEOUT = 10.0
CLI_TIMEOUT = 90.0
_PASSWORD = re.compile(r"password \(shown once\): (\S+)")


class NodeError(RuntimeError):
    """A node or a `willow` command did not do what the test needed; the message has its log."""


def parse_password(output: str) -> str:
    """The password `willow staff add` prints once."""
    found = _PASSWORD.search(output)
    if found is None:
        raise ValueError(f"no password in the output of `willow staff add`: {output!r}")
    return found.group(1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class ClusterConfig:
    """What every node of one test cluster shares: database, broker, prefix and secret key."""

    database_url: str
    broker_url: str
    broker_prefix: str = field(default_factory=lambda: f"willow-cluster-{secrets.token_hex(4)}:")
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(36))

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a `willow` process: ours only, none of the caller's WILLOW_*."""
        base = {k: v for k, v in os.environ.items() if not k.startswith("WILLOW_")}
        return {
            **base,
            "PYTHONUNBUFFERED": "1",
            "WILLOW_ENV": "test",
            "WILLOW_SECRET_KEY": self.secret_key,
            "WILLOW_DATABASE_URL": self.database_url,
            "WILLOW_BROKER_URL": self.broker_url,
            "WILLOW_BROKER_PREFIX": self.broker_prefix,
            "WILLOW_HOST": "127.0.0.1",
            # Every test client connects from 127.0.0.1: per-address limits off.
            "WILLOW_SESSIONS_PER_ADDRESS_PER_HOUR": "0",
            "WILLOW_JOINS_PER_ADDRESS_PER_HOUR": "0",
            "WILLOW_SOCKETS_PER_ADDRESS": "0",
            "WILLOW_ROOM_SEATS_PER_ADDRESS": "0",
            # As the shipped service unit: the reverse proxy on this host is named.
            "WILLOW_FORWARDED_ALLOW_IPS": '["127.0.0.1"]',
            # As tests/conftest.py: the tests drive "take next" with advisers they just made.
            "WILLOW_ASSIGNMENT": "pick",
            "WILLOW_CHATS_NEED_TRAINING": "false",
            **extra,
        }


def willow(args: list[str], env: dict[str, str], timeout: float = CLI_TIMEOUT) -> str:
    """Run one `willow` command to the end and return what it printed; raise if it failed."""
    done = subprocess.run(
        [sys.executable, "-m", "chat.cli", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise NodeError(
            f"willow {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        )
    return done.stdout


@dataclass
class Node:
    """One `willow run` process on its own port; its output goes to a log file we can read."""

    name: str
    config: ClusterConfig
    log_path: Path
    port: int = field(default_factory=free_port)
    extra_env: dict[str, str] = field(default_factory=dict)
    run_args: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        if self.alive():
            return
        self._close_log()
        self._log = self.log_path.open("ab")
        env = self.config.env(WILLOW_PORT=str(self.port), **self.extra_env)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "chat.cli", "run", *self.run_args],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Block until /readyz says ready; fail early, with the log, if the process exits."""
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.url, timeout=2) as client:
            while time.monotonic() < deadline:
                if not self.alive():
                    raise NodeError(
                        f"node {self.name} exited before it was ready:\n{self.log_text()}"
                    )
                try:
                    if client.get("/readyz").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        raise NodeError(f"node {self.name} not ready within {timeout}s:\n{self.log_text()}")

    def kill(self) -> None:
        """SIGKILL: the node vanishes without closing anything, as in a crash."""
        if self.process is not None and self.alive():
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(STOP_TIMEOUT)

    def stop(self) -> None:
        """Ask politely, then kill; never wait without a bound."""
        if self.process is not None and self.alive():
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_log()

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_text(self, since: int = 0) -> str:
        if not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as log:
            log.seek(since)
            return log.read().decode(errors="replace")

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


def start_all(nodes: list[Node], timeout: float = READY_TIMEOUT) -> None:
    """Start every node at once, then wait for each; stop them all if any fails."""
    try:
        for node in nodes:
            node.start()
        for node in nodes:
            node.wait_ready(timeout)
    except BaseException:
        stop_all(nodes)
        raise


def stop_all(nodes: list[Node]) -> None:
    for node in nodes:
        node.stop()
