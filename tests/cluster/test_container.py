"""The shipped image, built from deploy/Dockerfile and run the way its own comment says: from the
lock file with hashes, as an unprivileged user, on a read-only root with only /tmp writable,
with PostgreSQL and Redis on the host, answering /readyz and carrying a visitor's chat.

See tests/cluster/container.py for how the image is built here without a Docker daemon, and
docs/OPERATIONS.md for what this proves and what it does not.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import websockets
from packaging.markers import Marker
from packaging.utils import canonicalize_name

from chat.core.identity import HOST_COOKIE
from tests.cluster.container import DOCKERFILE, IMAGE, LIMITS, Podman, tools_or_skip
from tests.cluster.nodes import REPO_ROOT, free_port, parse_password
from tests.cluster.talk import say
from tests.services import postgres_url, redis_url, scratch_postgres
from tests.wsclient import Client, Server, visitor

pytestmark = pytest.mark.cluster

READY_TIMEOUT = 60.0
# Only while working on these tests: keep the built image and test it again next time instead
# of building (minutes). It then tests the Dockerfile as it was, so CI never sets it.
REUSE = os.environ.get("WILLOW_TEST_REUSE_IMAGE") == "1"
# pip's own tools come with the base image, not from Willow's lock.
BASE_TOOLS = {"pip", "setuptools", "wheel"}


def run_flags() -> list[str]:
    """The hardening flags the Dockerfile's comment gives for `docker run` (before the `...`)."""
    line = next(
        line for line in DOCKERFILE.read_text().splitlines() if line.startswith("#   docker run ")
    )
    flags = shlex.split(line.removeprefix("#   docker run ").split("...")[0])
    assert flags, line
    return flags


def locked_versions(environment: dict[str, str]) -> dict[str, set[str]]:
    """Each package requirements.lock pins for the image's Python, and its version(s)."""
    pins: dict[str, set[str]] = {}
    for line in (REPO_ROOT / "requirements.lock").read_text().splitlines():
        if "==" not in line or line.startswith((" ", "#")):
            continue
        requirement, _, marker = line.rstrip(" \\").partition(";")
        if marker.strip() and not Marker(marker.strip()).evaluate(environment):
            continue
        name, version = requirement.strip().split("==")
        pins.setdefault(canonicalize_name(name), set()).add(version)
    return pins


# Read inside one container (each start copies the image with vfs): what pip installed, the
# marker environment of the image's Python, the user, and where the pages and wheels are.
LOOK_INSIDE = """\
pip list --format=freeze
echo ---
python -c 'import json; from pip._vendor.packaging import markers as m
print(json.dumps(m.default_environment()))'
echo ---
id
echo ---
if [ -e /wheels ]; then echo "/wheels left behind"; fi
ls $WILLOW_FRONTEND_DIR/visitor/index.html
"""


@dataclass
class Inside:
    installed: dict[str, str]
    environment: dict[str, str]
    who: str
    files: str


@dataclass
class Deployment:
    """What the containers share: one scratch database, Redis with a prefix of its own."""

    podman: Podman
    database_url: str
    broker_url: str
    secret_key: str
    prefix: str

    def env_flags(self, **extra: str) -> list[str]:
        env = {
            "WILLOW_SECRET_KEY": self.secret_key,
            "WILLOW_DATABASE_URL": self.database_url,
            "WILLOW_BROKER_URL": self.broker_url,
            "WILLOW_BROKER_PREFIX": self.prefix,
            **extra,
        }
        return [flag for key, value in env.items() for flag in ("--env", f"{key}={value}")]

    def willow(self, *args: str) -> str:
        """One `willow` command in a throwaway container, hardened as the node is."""
        done = self.podman.run(
            "run", "--rm", "--network", "host", *LIMITS, *run_flags(), *self.env_flags(),
            IMAGE, "willow", *args,
        )  # fmt: skip
        return done.stdout


@pytest.fixture(scope="module")
def podman() -> Podman:
    binary, mmdebstrap = tools_or_skip()
    return Podman(binary, mmdebstrap)


@pytest.fixture(scope="module")
def image(podman: Podman) -> Iterator[str]:
    if REUSE and podman.has_image(IMAGE):
        yield IMAGE
        return
    podman.make_stand_in_base()
    podman.build()
    yield IMAGE
    if not REUSE:
        podman.run("rmi", "--force", IMAGE, check=False)


@pytest.fixture(scope="module")
def deployment(podman: Podman, image: str) -> Iterator[Deployment]:
    database, broker = postgres_url(), redis_url()
    with scratch_postgres(database) as url:
        yield Deployment(
            podman=podman,
            database_url=url,
            broker_url=broker,
            secret_key=secrets.token_urlsafe(48),
            prefix=f"willow-container-{secrets.token_hex(4)}:",
        )


@pytest.fixture(scope="module")
def inside(podman: Podman, image: str) -> Inside:
    done = podman.run("run", "--rm", *LIMITS, *run_flags(), image, "sh", "-c", LOOK_INSIDE)
    listed, environment, who, files = done.stdout.split("---\n")
    return Inside(
        installed={
            canonicalize_name(name): version
            for name, _, version in (line.partition("==") for line in listed.split())
        },
        environment=json.loads(environment),
        who=who.strip(),
        files=files,
    )


def test_the_image_holds_exactly_the_locked_versions_and_no_build_leftovers(
    inside: Inside,
) -> None:
    installed = dict(inside.installed)
    locked = locked_versions(inside.environment)
    assert installed.pop("willow", None) is not None
    extra = {name for name in installed if name not in locked and name not in BASE_TOOLS}
    assert extra == set(), f"installed but not in requirements.lock: {extra}"
    for name, versions in locked.items():
        assert installed.get(name) in versions, (name, installed.get(name), versions)
    # The wheels went once installed; the pages are where WILLOW_FRONTEND_DIR says.
    assert inside.files.split() == ["/srv/willow/frontend/visitor/index.html"]


def test_the_image_runs_willow_as_an_unprivileged_user(
    podman: Podman, image: str, inside: Inside
) -> None:
    config = podman.inspect(image)["Config"]
    assert config["User"] == "willow"
    assert config["Cmd"] == ["willow", "run"]
    assert re.match(r"uid=10001\(willow\) gid=\d+", inside.who), inside.who
    assert "(root)" not in inside.who


def wait_ready(url: str, podman: Podman, name: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    with httpx.Client(base_url=url, timeout=2) as client:
        while time.monotonic() < deadline:
            try:
                if client.get("/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if podman.run("container", "exists", name, check=False).returncode != 0:
                break
            time.sleep(0.25)
    logs = podman.run("logs", name, check=False)
    raise AssertionError(f"the container was not ready:\n{logs.stdout}\n{logs.stderr}")


@pytest.fixture(scope="module")
def node(deployment: Deployment) -> Iterator[tuple[str, str]]:
    """The image's default command (`willow run`) as a detached, hardened container."""
    podman, port = deployment.podman, free_port()
    name = f"willow-test-{secrets.token_hex(4)}"
    podman.run(
        "run", "--detach", "--name", name, "--network", "host", *LIMITS, *run_flags(),
        *deployment.env_flags(
            WILLOW_HOST="127.0.0.1",
            WILLOW_PORT=str(port),
            # As compose sets it for its domain; the tests' pages come from the node itself.
            WILLOW_ALLOWED_ORIGINS=f'["http://127.0.0.1:{port}"]',
        ),
        IMAGE,
    )  # fmt: skip
    try:
        wait_ready(f"http://127.0.0.1:{port}", podman, name)
        yield name, f"http://127.0.0.1:{port}"
    finally:
        podman.run("rm", "--force", "--time", "10", name, check=False)


def process_status(podman: Podman, name: str) -> tuple[str, str]:
    """The /proc status and mount table of the container's first process, read from the host."""
    pid = podman.run("inspect", "--format", "{{.State.Pid}}", name).stdout.strip()
    proc = Path("/proc") / pid
    return (proc / "status").read_text(), (proc / "mountinfo").read_text()


async def test_a_visitor_chats_through_the_read_only_unprivileged_container(
    deployment: Deployment, node: tuple[str, str]
) -> None:
    name, url = node
    podman = deployment.podman
    status, mounts = process_status(podman, name)
    uids = next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1:]
    assert set(uids) == {"10001"}, status
    assert next(line for line in status.splitlines() if line.startswith("CapEff:")).endswith(
        "0000000000000000"
    )
    assert (
        next(line for line in status.splitlines() if line.startswith("NoNewPrivs:")).split()[1]
        == "1"
    )
    root = next(line.split() for line in mounts.splitlines() if line.split()[4] == "/")
    assert "ro" in root[5].split(","), root
    # Nowhere on the root is writable to it; the tmpfs the Dockerfile names is.
    refused = podman.run(
        "exec", name, "sh", "-c", "touch /srv/willow/x /x /usr/local/x", check=False
    )
    assert refused.returncode != 0 and "Read-only file system" in refused.stderr, refused
    podman.run("exec", name, "sh", "-c", "touch /tmp/x && rm /tmp/x")
    # The Dockerfile's HEALTHCHECK, run by podman inside the container.
    assert podman.run("healthcheck", "run", name, check=False).returncode == 0

    # An adviser made with the image's own command line, as docs/OPERATIONS.md says.
    password = parse_password(
        deployment.willow("staff", "add", "--role", "adviser", "--display-name", "Robin", "robin")
    )
    deployment.willow("staff", "train", "--note", "container test", "robin")
    server = Server(url=url)
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        assert (await http.get("/readyz")).status_code == 200
        page = await http.get("/")
        assert page.status_code == 200 and "<!doctype html>" in page.text.lower()
        answer = await http.post(
            "/api/staff/login", json={"username": "robin", "password": password}
        )
        assert answer.status_code == 200, answer.text
    # A production node names the staff cookie __Host-… and marks it Secure, which httpx
    # keeps from plain http: the test carries it as a browser on HTTPS would.
    cookie = next(
        header.split(";")[0].split("=", 1)[1]
        for header in answer.headers.get_list("set-cookie")
        if header.startswith(f"{HOST_COOKIE}=")
    )
    assert "Secure" in answer.headers["set-cookie"]
    adviser = Client(
        await websockets.connect(
            server.ws_url,
            origin=url,
            additional_headers={"Cookie": f"{HOST_COOKIE}={cookie}"},
            compression=None,
        )
    )
    await adviser.send({"type": "hello", "v": 1, "resume": []})
    await adviser.receive("welcome")
    her, _token = await visitor(server)
    await her.send({"type": "request_chat"})
    queued = await her.receive("queue")
    await adviser.send({"type": "set_available", "available": True})
    assigned = await her.receive("assigned", timeout=15)
    conversation = queued["conversation_id"]
    assert assigned["conversation_id"] == conversation
    await adviser.receive("assigned", conversation_id=conversation)
    await say(her, conversation, "c1", "hello from inside the container test")
    received = await adviser.receive("message", client_id="c1")
    assert received["body"] == "hello from inside the container test"
    await say(adviser, conversation, "c2", "hello, I'm here")
    await her.receive("message", client_id="c2")
    await her.close()
    await adviser.close()
    logs = podman.run("logs", name)
    for secret in ("hello from inside", "hello, I'm here", password):
        assert secret not in logs.stdout + logs.stderr
