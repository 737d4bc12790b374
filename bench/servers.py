"""Server processes under test: start pinned to a core, wait until ready, always stop.

Also: pinning the generator, raising the file-descriptor limit, and measuring CPU and memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
SERVER_CORE = 0
GENERATOR_CORE = 1


def can_pin() -> bool:
    return (os.cpu_count() or 1) >= 2 and hasattr(os, "sched_setaffinity")


def pin_generator() -> str:
    """Keep the generator off the server's core; says what was done, for the report."""
    if not can_pin():
        return "not pinned (fewer than 2 cores)"
    os.sched_setaffinity(0, {GENERATOR_CORE})
    return f"generator on core {GENERATOR_CORE}, servers on core {SERVER_CORE}"


def raise_fd_limit(wanted: int) -> int:
    """Raise the open-files limit (inherited by the servers we start); returns the new limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < wanted:
        # Raising the hard limit needs privilege; without it we make do with the hard limit.
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, wanted))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ServerProcess:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=8)
            except subprocess.TimeoutExpired:
                self.process.kill()
                # Tens of thousands of sockets take the kernel a while to tear down on a
                # busy machine, even after SIGKILL.
                self.process.wait(timeout=60)


def _spawn(
    name: str, argv: list[str], env: dict[str, str], port: int, logs: Path, cwd: Path = REPO
) -> ServerProcess:
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{name}-{port}.log"
    if can_pin() and shutil.which("taskset"):
        argv = ["taskset", "-c", str(SERVER_CORE), *argv]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    return ServerProcess(name, process, port, log_path)


async def wait_ready(server: ServerProcess, path: str, within: float = 60.0) -> None:
    """Poll an HTTP path until it answers (any status below 500), or fail with the log."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited at start:\n{server.log_tail()}")
        with contextlib.suppress(OSError):
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
            )
            await writer.drain()
            status = await reader.readline()
            writer.close()
            if status.startswith(b"HTTP/1.1 ") and status[9:10] in b"1234":
                return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{server.name} not ready within {within}s:\n{server.log_tail()}")


@dataclass
class WillowConfig:
    """The environment of one Willow node under test."""

    database_url: str
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    broker_url: str = "memory://"
    broker_prefix: str = field(default_factory=lambda: f"willow-bench-{secrets.token_hex(4)}:")
    extra: dict[str, str] = field(default_factory=dict)

    def env(self, port: int) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WILLOW_")}
        env.update(
            {
                # Measured as deployed: production settings (and its tuning, see chat/app.py).
                "WILLOW_ENV": "production",
                "WILLOW_SECRET_KEY": self.secret_key,
                "WILLOW_DATABASE_URL": self.database_url,
                "WILLOW_BROKER_URL": self.broker_url,
                "WILLOW_BROKER_PREFIX": self.broker_prefix,
                "WILLOW_HOST": "127.0.0.1",
                "WILLOW_PORT": str(port),
                "WILLOW_LOG_LEVEL": "warning",
                "WILLOW_ADVISER_CAPACITY": "40",
                # Served over plain HTTP on loopback: no Secure (__Host-) cookie, http:// origin.
                "WILLOW_COOKIE_SECURE": "false",
                # Every simulated visitor connects from 127.0.0.1: per-address limits off.
                "WILLOW_SESSIONS_PER_ADDRESS_PER_HOUR": "0",
                "WILLOW_JOINS_PER_ADDRESS_PER_HOUR": "0",
                "WILLOW_SOCKETS_PER_ADDRESS": "0",
                # The scenarios drive "take next" themselves; the surge sets "auto".
                "WILLOW_ASSIGNMENT": "pick",
                "WILLOW_ROOM_SEATS_PER_ADDRESS": "0",
                # The learned risk layer as deployed (on), unless the run turns it off to
                # measure what it costs: `WILLOW_LEARNED_RISK=off python -m bench ...`.
                "WILLOW_LEARNED_RISK": os.environ.get("WILLOW_LEARNED_RISK", "on"),
                **self.extra,
            }
        )
        return env


async def start_willow(
    config: WillowConfig,
    logs: Path,
    name: str = "willow",
    wrapper: list[str] | None = None,
    tree: Path | None = None,
) -> ServerProcess:
    """A node running `willow run`; `wrapper` is a module and its arguments that run the
    command line instead (bench/profiled.py), `tree` another checkout of Willow whose code
    the node runs (the commit before a change, for a before-and-after in one session)."""
    port = free_port()
    argv = [sys.executable, "-m", *(wrapper or ["chat.cli"]), "run"]
    env = config.env(port)
    if tree is not None:
        # Ahead of the editable install on sys.path: the node imports the other tree's code.
        env["PYTHONPATH"] = os.pathsep.join([str(tree), str(REPO)])
    server = _spawn(name, argv, env, port, logs, cwd=tree or REPO)
    try:
        await wait_ready(server, "/healthz")
    except BaseException:
        server.stop()
        raise
    return server


async def start_raw(logs: Path) -> ServerProcess:
    port = free_port()
    argv = [sys.executable, "-m", "bench.rawserver", "--port", str(port)]
    env = dict(os.environ)
    server = _spawn("raw", argv, env, port, logs)
    try:
        await wait_ready(server, "/nothing")
    except BaseException:
        server.stop()
        raise
    return server


async def start_socketio(logs: Path) -> ServerProcess:
    """python-socketio's room emit on uvicorn (bench/socketioserver.py)."""
    port = free_port()
    argv = [sys.executable, "-m", "bench.socketioserver", "--port", str(port)]
    server = _spawn("python-socketio", argv, dict(os.environ), port, logs)
    try:
        await wait_ready(server, "/nothing")
    except BaseException:
        server.stop()
        raise
    return server


@contextlib.asynccontextmanager
async def running(*servers: ServerProcess) -> AsyncIterator[None]:
    try:
        yield
    finally:
        for server in servers:
            server.stop()


def _cpu_seconds(process: psutil.Process) -> float:
    """The process's own CPU time, every thread; not its live children's (their own)."""
    times = process.cpu_times()
    return float(times.user + times.system)


def _children_seconds(process: psutil.Process) -> float:
    """The CPU time of a server's child processes (a Willow node's learned-layer worker)."""
    total = 0.0
    with contextlib.suppress(psutil.Error):
        for child in process.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += _cpu_seconds(child)
    return total


class Usage:
    """CPU share and memory of the servers and of the generator over one measured interval.
    A server's figure is its own process; its workers' (the learned layer's) are apart."""

    def __init__(self, server_pids: list[int]) -> None:
        self._servers = [psutil.Process(pid) for pid in server_pids]
        self._generator = psutil.Process(os.getpid())
        self._t0 = 0.0
        self._cpu0: list[float] = []
        self._children0: list[float] = []
        self._gen0 = 0.0
        self.peak_rss = [0] * len(self._servers)

    def rss(self) -> list[int]:
        return [int(p.memory_info().rss) for p in self._servers]

    def start(self) -> None:
        self._t0 = time.perf_counter()
        self._cpu0 = [_cpu_seconds(p) for p in self._servers]
        self._children0 = [_children_seconds(p) for p in self._servers]
        self._gen0 = _cpu_seconds(self._generator)
        self.peak_rss = self.rss()

    def sample(self) -> None:
        self.peak_rss = [max(a, b) for a, b in zip(self.peak_rss, self.rss(), strict=True)]

    def stop(self) -> dict[str, object]:
        wall = max(time.perf_counter() - self._t0, 1e-6)
        self.sample()
        cpu = [
            (_cpu_seconds(p) - c0) / wall for p, c0 in zip(self._servers, self._cpu0, strict=True)
        ]
        workers = [
            (_children_seconds(p) - c0) / wall
            for p, c0 in zip(self._servers, self._children0, strict=True)
        ]
        return {
            "server_cpu": [round(c, 3) for c in cpu],
            "server_workers_cpu": [round(c, 3) for c in workers],
            "server_rss_mib": [round(r / 2**20, 1) for r in self.rss()],
            "server_peak_rss_mib": [round(r / 2**20, 1) for r in self.peak_rss],
            "generator_cpu": round((_cpu_seconds(self._generator) - self._gen0) / wall, 3),
        }


@contextlib.asynccontextmanager
async def measuring(usage: Usage, interval: float = 0.25) -> AsyncIterator[Usage]:
    """Sample peak memory in the background while the block runs."""

    async def sampler() -> None:
        while True:
            await asyncio.sleep(interval)
            with contextlib.suppress(psutil.Error):
                usage.sample()

    usage.start()
    task = asyncio.create_task(sampler())
    try:
        yield usage
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
