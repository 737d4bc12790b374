"""Test clients that talk to a real Willow server the way the pages do: HTTP and WebSocket."""

from __future__ import annotations

import asyncio
import itertools
import secrets
import socket
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import websockets
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection

from chat.core.identity import COOKIE
from chat.core.services import Services
from chat.helpline.profile import ProfileChange, set_profile
from chat.helpline.staff import create_staff

_ids = itertools.count(1)


@dataclass
class Server:
    url: str
    services: Services | None = None
    app: FastAPI | None = None

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/ws"

    def http(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=10, **kwargs)

    async def visitor_token(self, **choices: Any) -> str:
        async with self.http() as client:
            response = await client.post("/api/visitor/session", json=choices or None)
            response.raise_for_status()
            token: str = response.json()["token"]
            return token

    async def add_staff(self, role: str = "adviser", name: str | None = None) -> tuple[str, str]:
        assert self.services is not None
        username = name or f"{role}-{next(_ids)}-{secrets.token_hex(2)}"
        if name and role == "mentor":
            # A mentor's display name may not be her username.
            username = f"{name}-{secrets.token_hex(2)}"
        password = secrets.token_urlsafe(16)
        # A person's name, never the role word Willow refuses as a display name.
        shown = name.title() if name else f"Kim {username.rsplit('-', 1)[-1]}"
        await create_staff(self.services, username, role, password, display_name=shown)
        return username, password

    async def set_profile(self, username: str, **change: Any) -> None:
        """Her routing profile (languages, specialisms, capacity), as an admin would set it."""
        assert self.services is not None
        await set_profile(self.services, username, ProfileChange(**change), "test")

    async def staff_session(self, role: str = "adviser", name: str | None = None) -> StaffLogin:
        username, password = await self.add_staff(role, name)
        return await self.login(username, password)

    async def login(self, username: str, password: str) -> StaffLogin:
        async with self.http() as client:
            response = await client.post(
                "/api/staff/login", json={"username": username, "password": password}
            )
            response.raise_for_status()
            return StaffLogin(
                username=username,
                cookie=response.cookies[COOKIE],
                csrf=response.json()["csrf_token"],
                display_name=response.json()["staff"]["display_name"],
            )


@dataclass
class StaffLogin:
    username: str
    cookie: str
    csrf: str
    display_name: str

    @property
    def headers(self) -> dict[str, str]:
        return {"x-csrf-token": self.csrf}


@dataclass
class Client:
    """A WebSocket client that keeps every event it was sent, so tests can wait for one."""

    connection: ClientConnection
    events: list[dict[str, Any]] = field(default_factory=list)
    _seen: int = 0

    @classmethod
    async def open(
        cls,
        server: Server,
        cookie: str | None = None,
        origin: str | None = None,
        slow_reader: bool = False,
        forwarded_for: str | None = None,
    ) -> Client:
        headers = {"Cookie": f"{COOKIE}={cookie}"} if cookie else {}
        if forwarded_for is not None:
            # As a reverse proxy in front of Willow would add it.
            headers["X-Forwarded-For"] = forwarded_for
        extra: dict[str, Any] = {}
        if slow_reader:
            # A tiny receive window and no client-side buffering: like a phone that stopped reading.
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.setblocking(False)
            host, port = server.url.removeprefix("http://").split(":")
            await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
            extra = {"sock": sock, "max_queue": 1}
        connection = await websockets.connect(
            server.ws_url,
            origin=origin or server.url,  # type: ignore[arg-type]
            additional_headers=headers,
            compression=None,
            max_size=2**22,
            **extra,
        )
        return cls(connection)

    async def send(self, event: dict[str, Any] | str | bytes) -> None:
        if isinstance(event, dict):
            await self.connection.send(orjson.dumps(event).decode())
        else:
            await self.connection.send(event)

    async def receive(self, kind: str, /, timeout: float = 5.0, **match: Any) -> dict[str, Any]:
        """The next event of this type (and field values) not yet taken, waiting if needed."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for index in range(self._seen, len(self.events)):
                event = self.events[index]
                if event.get("type") == kind and all(event.get(k) == v for k, v in match.items()):
                    self.events[index] = {**event, "type": f"taken:{kind}"}
                    return event
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"no {kind} {match} within {timeout}s; got {self.types()}")
            try:
                frame = await asyncio.wait_for(self.connection.recv(), remaining)
            except TimeoutError:
                continue
            self.events.append(orjson.loads(frame))

    async def receive_any(self, timeout: float = 5.0) -> dict[str, Any]:
        """The next frame from the server, whatever it is."""
        frame = orjson.loads(await asyncio.wait_for(self.connection.recv(), timeout))
        self.events.append(frame)
        return dict(frame)

    async def drain(self, seconds: float = 0.2) -> None:
        """Collect whatever arrives in the next moment."""
        try:
            while True:
                frame = await asyncio.wait_for(self.connection.recv(), seconds)
                self.events.append(orjson.loads(frame))
        except TimeoutError:
            return

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] in (kind, f"taken:{kind}")]

    def types(self) -> list[str]:
        return [e["type"] for e in self.events]

    async def close(self) -> None:
        await self.connection.close()


async def visitor(
    server: Server,
    token: str | None = None,
    resume: list[dict[str, int]] | None = None,
    slow_reader: bool = False,
    forwarded_for: str | None = None,
) -> tuple[Client, str]:
    token = token or await server.visitor_token()
    client = await Client.open(server, slow_reader=slow_reader, forwarded_for=forwarded_for)
    await client.send({"type": "hello", "v": 1, "token": token, "resume": resume or []})
    await client.receive("welcome")
    return client, token


async def staff(
    server: Server, login: StaffLogin, resume: list[dict[str, int]] | None = None
) -> Client:
    client = await Client.open(server, cookie=login.cookie)
    await client.send({"type": "hello", "v": 1, "resume": resume or []})
    await client.receive("welcome")
    return client


async def connected_pair(
    server: Server, slow_reader: bool = False
) -> tuple[Client, Client, int, str]:
    """A visitor talking with an adviser: (visitor, adviser, conversation_id, visitor token)."""
    adviser = await staff(server, await server.staff_session("adviser"))
    her, token = await visitor(server, slow_reader=slow_reader)
    await her.send({"type": "request_chat"})
    queued = await her.receive("queue")
    await adviser.send({"type": "set_available", "available": True})
    await adviser.send({"type": "take_next"})
    await adviser.receive("assigned", conversation_id=queued["conversation_id"])
    await her.receive("assigned")
    return her, adviser, queued["conversation_id"], token
