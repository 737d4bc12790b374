"""The shipped deploy/nginx.conf, run by the distribution's nginx, in front of two real nodes.

Everything a visitor's browser and an adviser's console do goes through the proxy over TLS:
pages with their security headers, compressed scripts, the WebSocket upgrade with its Origin
check, a chat, and a node stopped with SIGTERM while sockets are open on it.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from chat.core.identity import COOKIE
from tests.cluster.conftest import Cluster
from tests.cluster.nodes import ClusterConfig, Node
from tests.cluster.proxy import SERVER_NAME, Proxy, start_proxy
from tests.cluster.talk import Pair, client_ids, say
from tests.wsclient import Client, StaffLogin

pytestmark = pytest.mark.cluster

ORIGIN = f"https://{SERVER_NAME}"


@pytest.fixture(scope="session")
def proxy(nodes: list[Node], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    prefix = tmp_path_factory.mktemp("nginx")
    for part in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / part).mkdir()
    running = start_proxy([node.port for node in nodes], prefix)
    try:
        yield running
    finally:
        running.stop()


@dataclass
class Front:
    """The public side of the proxy: HTTPS and WSS to chat.example.org, on a loopback port."""

    proxy: Proxy

    def http(self, **kwargs: object) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.proxy.url,
            headers={"Host": SERVER_NAME},
            verify=False,  # noqa: S501 (the test's own self-signed certificate)
            timeout=10,
            **kwargs,  # type: ignore[arg-type]
        )

    async def open(self, cookie: str | None = None, origin: str | None = ORIGIN) -> Client:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        connection = await websockets.connect(
            f"wss://{SERVER_NAME}:{self.proxy.https_port}/ws",
            host="127.0.0.1",
            port=self.proxy.https_port,
            ssl=context,
            server_hostname=SERVER_NAME,
            origin=origin,  # type: ignore[arg-type]
            additional_headers={"Cookie": f"{COOKIE}={cookie}"} if cookie else {},
            compression=None,
        )
        return Client(connection)

    async def visitor(
        self, token: str | None = None, resume: list[dict[str, int]] | None = None
    ) -> tuple[Client, str]:
        if token is None:
            async with self.http() as http:
                made = await http.post("/api/visitor/session", json={"language": "en"})
                made.raise_for_status()
                token = str(made.json()["token"])
        client = await self.open()
        await client.send({"type": "hello", "v": 1, "token": token, "resume": resume or []})
        await client.receive("welcome")
        return client, token

    async def login(self, username: str, password: str) -> StaffLogin:
        async with self.http() as http:
            response = await http.post(
                "/api/staff/login", json={"username": username, "password": password}
            )
            response.raise_for_status()
            return StaffLogin(
                username=username,
                cookie=response.cookies[COOKIE],
                csrf=response.json()["csrf_token"],
                display_name=response.json()["staff"]["display_name"],
            )

    async def adviser(self, cluster: Cluster) -> tuple[Client, StaffLogin]:
        login = await self.login(*await cluster.a.add_staff("adviser"))
        client = await self.open(cookie=login.cookie)
        await client.send({"type": "hello", "v": 1, "resume": []})
        await client.receive("welcome")
        return client, login


@pytest.fixture
async def front(proxy: Proxy, cluster: Cluster) -> AsyncIterator[Front]:
    yield Front(proxy)
    assert "[emerg]" not in proxy.error_log() and "[crit]" not in proxy.error_log()


async def chat(front: Front, cluster: Cluster) -> Pair:
    adviser, login = await front.adviser(cluster)
    her, token = await front.visitor()
    await her.send({"type": "request_chat"})
    queued = await her.receive("queue")
    await adviser.send({"type": "set_available", "available": True})
    await adviser.send({"type": "take_next"})
    await adviser.receive("assigned", conversation_id=queued["conversation_id"])
    await her.receive("assigned")
    return Pair(her, adviser, queued["conversation_id"], token, login)


async def test_pages_come_through_with_security_headers_and_compressed_scripts(
    front: Front,
) -> None:
    async with front.http() as http:
        page = await http.get("/")
        assert page.status_code == 200 and "<!doctype html>" in page.text.lower()
        headers = page.headers
        assert "default-src 'none'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["strict-transport-security"] == "max-age=31536000"
        assert headers["server"] == "nginx", "no version number"
        script = await http.get("/static/staff/main.js", headers={"accept-encoding": "gzip"})
        assert script.headers["content-encoding"] == "gzip"
        raw = await http.get("/static/staff/main.js", headers={"accept-encoding": "identity"})
        assert "content-encoding" not in raw.headers
        assert script.content == raw.content  # httpx undid the gzip
        for private in ("/healthz", "/readyz", "/metrics"):
            assert (await http.get(private)).status_code == 404, private
        # Nor by another spelling of the same path.
        for spelling in ("/metrics?x=1", "//metrics", "/%6Detrics", "/metrics/", "/./metrics"):
            answer = await http.get(front.proxy.url + spelling)
            # Refused, or sent back to /metrics (which is refused): never the figures.
            assert answer.status_code in (301, 307, 308, 404), spelling
            assert "willow_" not in answer.text, spelling
    async with httpx.AsyncClient(headers={"Host": SERVER_NAME}) as plain:
        redirect = await plain.get(f"http://127.0.0.1:{front.proxy.http_port}/staff")
    assert redirect.status_code == 301
    assert redirect.headers["location"] == f"https://{SERVER_NAME}/staff"


async def test_a_chat_goes_through_the_proxy_and_a_foreign_origin_does_not(
    front: Front, cluster: Cluster
) -> None:
    talk = await chat(front, cluster)
    await say(talk.her, talk.conversation_id, "p1", "hello through the proxy")
    await talk.adviser.receive("message", client_id="p1")
    await say(talk.adviser, talk.conversation_id, "p2", "hello back")
    await talk.her.receive("message", client_id="p2")

    for origin in ("https://evil.example", None):
        try:
            stranger = await front.open(origin=origin)
        except InvalidStatus as refused:
            assert refused.response.status_code == 403
            continue
        with pytest.raises(ConnectionClosed) as closed:
            await stranger.connection.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def test_a_quiet_socket_keeps_its_chat_within_the_ping_interval(
    front: Front, cluster: Cluster
) -> None:
    """The pages ping every 20 s; the file lets a socket be silent for a minute, no longer (an
    hour let idle sockets pile up). A few silent seconds here, then it still carries a chat."""
    talk = await chat(front, cluster)
    await asyncio.sleep(3)
    await say(talk.her, talk.conversation_id, "q1", "still there?")
    await talk.adviser.receive("message", client_id="q1")
    conf = (front.proxy.prefix / "willow.conf").read_text()
    assert "proxy_read_timeout 60s;" in conf and "proxy_send_timeout 60s;" in conf


async def sockets_open(node: Node) -> float:
    """The node's own count of open sockets, from its /metrics (read on the host)."""
    async with httpx.AsyncClient(base_url=node.url, timeout=5) as http:
        text = (await http.get("/metrics")).text
    line = next(line for line in text.splitlines() if line.startswith("willow_sockets_open "))
    return float(line.split()[1])


async def visitor_on(front: Front, node: Node, token: str) -> Client:
    """Her socket through the proxy, reopened until the proxy has put it on `node`."""
    for _attempt in range(6):
        before = await sockets_open(node)
        client, _ = await front.visitor(token)
        if await sockets_open(node) > before:
            return client
        await client.close()
    raise AssertionError(f"the proxy never chose node {node.name}")


async def test_a_node_stopped_with_sigterm_closes_its_sockets_and_nothing_acked_is_lost(
    front: Front, cluster: Cluster
) -> None:
    stopping = cluster.nodes[0]
    talk = await chat(front, cluster)
    await talk.her.close()
    her = await visitor_on(front, stopping, talk.token)
    acked = []
    for i in range(5):
        await say(her, talk.conversation_id, f"s{i}", f"line {i}")
        acked.append(str((await her.receive("ack", client_id=f"s{i}"))["client_id"]))

    assert stopping.process is not None
    stopping.process.terminate()  # SIGTERM, as systemd and `docker stop` send
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(her.connection.recv(), 10)
    # A close frame she can act on, not a dropped line: "going away" or "try again later".
    assert closed.value.rcvd is not None and closed.value.rcvd.code in (1001, 1012)
    await asyncio.to_thread(stopping.process.wait, 15)
    # uvicorn finishes its shutdown, then exits by the signal it got (systemd counts that as a
    # clean stop); "Application shutdown complete" says the sockets were closed first.
    assert stopping.process.returncode in (0, -15), stopping.log_text()
    assert "Application shutdown complete" in stopping.log_text()

    # She reconnects through the proxy (to the node still running) and resumes.
    back, _ = await front.visitor(
        talk.token, resume=[{"conversation_id": talk.conversation_id, "last_seq": 0}]
    )
    for client_id in acked:
        await back.receive("message", client_id=client_id)
    await back.drain(0.3)
    assert client_ids(back) == acked
    await say(talk.adviser, talk.conversation_id, "after", "I'm still here")
    await back.receive("message", client_id="after")


LIMIT = 5  # visitor sessions per address per hour on the node below


@pytest.fixture
def limited_front(
    cluster_config: ClusterConfig, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Front, Node]]:
    """The shipped proxy in front of a node of its own whose per-address limits are on (the
    shared nodes run with them off, as every test client there is 127.0.0.1)."""
    folder = tmp_path_factory.mktemp("limited")
    node = Node(
        "limited",
        cluster_config,
        folder / "node.log",
        extra_env={"WILLOW_SESSIONS_PER_ADDRESS_PER_HOUR": str(LIMIT)},
    )
    node.start()
    prefix = folder / "nginx"
    for part in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / part).mkdir(parents=True)
    try:
        node.wait_ready()
        running = start_proxy([node.port, node.port], prefix)
        try:
            yield Front(running), node
        finally:
            running.stop()
    finally:
        node.stop()


def from_address(front: Front, address: str) -> httpx.AsyncClient:
    """A client whose connections to the proxy come from `address` (another loopback address)."""
    return front.http(transport=httpx.AsyncHTTPTransport(local_address=address, verify=False))


async def new_session(http: httpx.AsyncClient, **headers: str) -> int:
    answer = await http.post("/api/visitor/session", json={}, headers=headers)
    if answer.status_code == 429:
        assert answer.json()["detail"] == "too_many" and int(answer.headers["retry-after"]) > 0
    return answer.status_code


async def test_the_per_address_limits_count_her_address_forwarded_by_the_proxy_never_logged(
    limited_front: tuple[Front, Node],
) -> None:
    """Every connection reaches the node from the proxy (127.0.0.1, the one trusted proxy);
    the limits must count the address the proxy saw, which it forwards in X-Forwarded-For,
    not the proxy's own, and not whatever X-Forwarded-For the client itself sent."""
    front, node = limited_front
    crowded, other = from_address(front, "127.0.0.7"), from_address(front, "127.0.0.8")
    async with crowded, other:
        assert [await new_session(crowded) for _ in range(LIMIT)] == [201] * LIMIT
        assert await new_session(crowded) == 429
        # A forwarded header of her own changes nothing: the proxy replaces it.
        assert await new_session(crowded, **{"X-Forwarded-For": "198.51.100.9"}) == 429
        # Someone else behind the same proxy is not shut out by her count.
        assert await new_session(other) == 201
    logged = node.log_text() + "".join(
        path.read_text(errors="replace") for path in front.proxy.prefix.glob("*.log")
    )
    assert "Application startup complete" in logged, "the node's log was read"
    for address in ("127.0.0.7", "127.0.0.8", "198.51.100.9"):
        assert address not in logged, f"{address} was written to a log"
