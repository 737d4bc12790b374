"""Helpers for the room tests: a mentor with recorded training, a woman in a room, and talk."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import update

from chat.core.clock import now
from chat.core.models import Staff
from peers.runtime import RoomsRuntime
from tests.wsclient import Client, Server, StaffLogin, staff, visitor

ROOM = "newcomers"


@dataclass
class RoomServer:
    """A real server, with this node's rooms runtime for the checks only a test makes."""

    server: Server
    runtime: RoomsRuntime

    @property
    def url(self) -> str:
        return self.server.url


async def record_training(server: Server, username: str) -> None:
    """What an admin's POST /api/admin/staff/{id}/training does, done in the database."""
    assert server.services is not None
    async with server.services.db.write() as session:
        await session.execute(
            update(Staff).where(Staff.username == username).values(trained_at=now())
        )


async def trained_mentor(server: Server, role: str = "mentor") -> StaffLogin:
    login = await server.staff_session(role)
    await record_training(server, login.username)
    return login


async def mentor_in(
    server: Server, room: str = ROOM, login: StaffLogin | None = None
) -> tuple[Client, dict[str, Any]]:
    """A trained mentor connected with the room open: (client, room_state)."""
    login = login or await trained_mentor(server)
    client = await staff(server, login)
    await client.send({"type": "room_open", "room": room})
    state = await client.receive("room_state")
    return client, state


@dataclass
class Woman:
    client: Client
    token: str
    welcome: dict[str, Any]

    @property
    def participant(self) -> int:
        return int(self.welcome["participant"])

    @property
    def name(self) -> str:
        return str(self.welcome["pseudonym"])

    @property
    def stream_id(self) -> int:
        return int(self.welcome["stream_id"])


async def woman_in(
    server: Server, room: str = ROOM, token: str | None = None, forwarded_for: str | None = None
) -> Woman:
    """A visitor who has joined the room and accepted its rules."""
    client, token = await visitor(server, token, forwarded_for=forwarded_for)
    await client.send({"type": "room_join", "room": room, "accept_rules": True})
    welcome = await client.receive("room_welcome")
    return Woman(client, token, welcome)


async def say(client: Client, client_id: str, body: str, **extra: Any) -> None:
    await client.send({"type": "room_message", "client_id": client_id, "body": body, **extra})


async def said(client: Client, client_id: str, body: str) -> dict[str, Any]:
    """Send and wait for the ack."""
    await say(client, client_id, body)
    return await client.receive("ack", client_id=client_id)


async def close_all(*clients: Client) -> None:
    for client in clients:
        await client.close()


async def slowed_then_muted(mentor: Client, her: Woman) -> None:
    """The mentor sets slow mode, lifts it, mutes her and unmutes her; each holds at once."""
    await mentor.send({"type": "room_slow_mode", "seconds": 60, "reason": "busy evening"})
    await her.client.receive("room_settings", slow_mode_seconds=60)
    await said(her.client, "s1", "first")
    await say(her.client, "s2", "second")
    slow = await her.client.receive("error", code="slow_mode", client_id="s2")
    assert 1 <= slow["retry_after"] <= 60
    await mentor.send({"type": "room_slow_mode", "seconds": 0, "reason": "quieter now"})
    await her.client.receive("room_settings", slow_mode_seconds=0)
    await said(her.client, "s3", "third")
    await mentor.send(
        {"type": "room_mute", "participant": her.participant, "minutes": 5, "reason": "pause"}
    )
    await her.client.receive("room_muted")
    await say(her.client, "s4", "let me talk")
    await her.client.receive("error", code="muted", client_id="s4")
    await mentor.send({"type": "room_unmute", "participant": her.participant, "reason": "ok"})
    await her.client.receive("room_unmuted")
    await said(her.client, "s5", "thank you")
