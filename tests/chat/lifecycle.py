"""What the session-end tests do on one node and on several: end a session, see sockets close."""

from __future__ import annotations

import asyncio

import orjson
from websockets.exceptions import ConnectionClosed

from chat.core.connections import CLOSE_SESSION_ENDED
from tests.wsclient import Client, Server, StaffLogin


async def closed_with(client: Client, timeout: float = 5.0) -> int | None:
    """Read until the server closes the socket; its close code (None if it stayed open)."""
    deadline = asyncio.get_running_loop().time() + timeout
    try:
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return None
            try:
                frame = await asyncio.wait_for(client.connection.recv(), remaining)
            except TimeoutError:
                return None
            client.events.append(orjson.loads(frame))
    except ConnectionClosed:
        return client.connection.close_code


async def assert_ended(*clients: Client) -> None:
    codes = await asyncio.gather(*(closed_with(client) for client in clients))
    assert codes == [CLOSE_SESSION_ENDED] * len(clients)


async def assert_open(client: Client) -> None:
    await client.send({"type": "ping"})
    await client.receive("pong")


async def post_token(server: Server, path: str, token: str) -> int:
    """What the page sends to exit or forget: the token as JSON in a text/plain body."""
    async with server.http() as http:
        response = await http.post(
            path, content=orjson.dumps({"token": token}), headers={"content-type": "text/plain"}
        )
        return response.status_code


async def logout(server: Server, login: StaffLogin) -> int:
    async with server.http(cookies={"willow_staff": login.cookie}) as http:
        return (await http.post("/api/staff/logout", headers=login.headers)).status_code


async def disable(server: Server, admin: StaffLogin, staff_id: int) -> int:
    async with server.http(cookies={"willow_staff": admin.cookie}) as http:
        response = await http.post(
            f"/api/admin/staff/{staff_id}/disable", json={"note": "left"}, headers=admin.headers
        )
        return response.status_code


async def staff_id(server: Server, admin: StaffLogin, username: str) -> int:
    async with server.http(cookies={"willow_staff": admin.cookie}) as http:
        listed = (await http.get("/api/admin/staff")).json()
    return int(next(s["id"] for s in listed if s["username"] == username))
