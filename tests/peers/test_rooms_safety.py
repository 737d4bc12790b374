"""Bans that hold without keeping an address, no direct messages, and ways out of a room:
"I think I know someone here" and a 1:1 with an adviser."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from chat.core.models import AuditEntry, Base, Conversation
from chat.core.security import token_hash
from chat.core.settings import Settings
from chat.schema import import_all_tables
from peers.rooms import session_ban_key
from tests.peers.conftest import room_server
from tests.peers.roomkit import ROOM, RoomServer, Woman, mentor_in, said, say, woman_in
from tests.wsclient import Client, Server, staff, visitor

ADDRESS = "192.0.2.44"
HER_ADDRESS = "203.0.113.7"
# The test server's clients connect from loopback, as a proxy on the same host would.
PROXY = "127.0.0.1"


async def _ban(mentor: Client, her: Woman, minutes: int = 60) -> None:
    await mentor.send(
        {
            "type": "room_ban",
            "participant": her.participant,
            "minutes": minutes,
            "reason": "threats",
        }
    )
    assert (await her.client.receive("room_exit"))["reason"] == "banned"
    await mentor.receive("room_participant", status="banned")


async def _join(server: Server, forwarded_for: str | None = None) -> tuple[Client, str]:
    fresh, _ = await visitor(server, forwarded_for=forwarded_for)
    await fresh.send({"type": "room_join", "room": ROOM, "accept_rules": True})
    while True:
        frame = await fresh.receive_any()
        if frame["type"] == "room_welcome":
            return fresh, "admitted"
        if frame["type"] == "error":
            return fresh, str(frame["code"])


async def test_a_ban_falls_on_her_session_not_on_everyone_behind_her_network(
    rooms: RoomServer,
) -> None:
    mentor, _ = await mentor_in(rooms.server)
    her = await woman_in(rooms.server)
    other = await woman_in(rooms.server)
    await _ban(mentor, her)

    # Same session: refused, for the whole ban.
    await her.client.send({"type": "room_join", "room": ROOM, "accept_rules": True})
    await her.client.receive("error", code="banned")
    # A brand-new visitor from the same address (a refuge's Wi-Fi, the proxy): let in.
    fresh, answer = await _join(rooms.server)
    assert answer == "admitted"
    # A participant who was never banned can leave and come back.
    await other.client.send({"type": "room_leave"})
    await other.client.receive("room_exit")
    await other.client.send({"type": "room_join", "room": ROOM, "accept_rules": True})
    await other.client.receive("room_welcome")

    [entry] = [e for e in await _audit(rooms.server) if e.action == "room.ban"]
    assert entry.reason == "threats" and entry.details["minutes"] == 60
    for client in (her.client, fresh, other.client, mentor):
        await client.close()


def _behind_proxy(settings: Settings, network_seconds: int) -> Settings:
    return Settings(
        **{
            **settings.model_dump(),
            "forwarded_allow_ips": [PROXY],
            "room_ban_network_seconds": network_seconds,
        }
    )


async def test_opted_in_network_signal_uses_the_forwarded_address_briefly(
    settings: Settings,
) -> None:
    async with room_server(_behind_proxy(settings, 2)) as rooms:
        mentor, _ = await mentor_in(rooms.server)
        her = await woman_in(rooms.server, forwarded_for=HER_ADDRESS)
        await _ban(mentor, her)
        started = time.monotonic()
        # A new session from her forwarded address: refused while the network window lasts.
        blocked, answer = await _join(rooms.server, forwarded_for=HER_ADDRESS)
        assert answer == "banned"
        # Someone else behind the same proxy, and a connection the proxy made without the
        # header (its own address): both let in.
        neighbour, answer = await _join(rooms.server, forwarded_for="198.51.100.9")
        assert answer == "admitted"
        bare, answer = await _join(rooms.server)
        assert answer == "admitted"
        # After the short window her network is free again; her session stays banned.
        await asyncio.sleep(max(0.0, 2.2 - (time.monotonic() - started)))
        later, answer = await _join(rooms.server, forwarded_for=HER_ADDRESS)
        assert answer == "admitted"
        await her.client.send({"type": "room_join", "room": ROOM, "accept_rules": True})
        await her.client.receive("error", code="banned")
        for client in (her.client, blocked, neighbour, bare, later, mentor):
            await client.close()


async def test_a_forwarded_header_from_anyone_but_a_named_proxy_is_ignored(
    settings: Settings,
) -> None:
    # Willow is told of a proxy elsewhere: this connection's header is the sender's own claim.
    opted = Settings(
        **{
            **settings.model_dump(),
            "forwarded_allow_ips": ["10.9.9.9"],
            "room_ban_network_seconds": 60,
        }
    )
    async with room_server(opted) as rooms:
        mentor, _ = await mentor_in(rooms.server)
        her = await woman_in(rooms.server, forwarded_for=HER_ADDRESS)
        await _ban(mentor, her)
        # Had the claimed address been hashed, a second claim of it would be refused.
        fresh, answer = await _join(rooms.server, forwarded_for=HER_ADDRESS)
        assert answer == "admitted"
        for client in (her.client, fresh, mentor):
            await client.close()


async def test_ban_length_is_limited_to_a_day(rooms: RoomServer) -> None:
    mentor, _ = await mentor_in(rooms.server)
    her = await woman_in(rooms.server)
    await mentor.send(
        {
            "type": "room_ban",
            "participant": her.participant,
            "minutes": 24 * 60 + 1,
            "reason": "x y z",
        }
    )
    await mentor.receive("error", code="invalid")
    for client in (her.client, mentor):
        await client.close()


async def test_no_address_or_address_hash_is_ever_written_down(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    async with room_server(_behind_proxy(settings, 600)) as rooms:
        await _nothing_written_down(rooms, caplog)


async def _nothing_written_down(rooms: RoomServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    mentor, _ = await mentor_in(rooms.server)
    her = await woman_in(rooms.server, forwarded_for=ADDRESS)
    await said(her.client, "hi", "hello from here")
    await mentor.send(
        {"type": "room_ban", "participant": her.participant, "minutes": 30, "reason": "threats"}
    )
    await her.client.receive("room_exit")
    fresh, _ = await visitor(rooms.server, forwarded_for=ADDRESS)
    await fresh.send({"type": "room_join", "room": ROOM, "accept_rules": True})
    await fresh.receive("error", code="banned")

    hashes = await rooms.runtime.hasher.hashes(ADDRESS)
    assert hashes and await rooms.runtime.bans.is_banned(ROOM, hashes[:1])
    secrets_to_find = [ADDRESS, *hashes]

    stored = await _every_stored_value(rooms.server)
    for secret in secrets_to_find:
        assert secret not in stored
    settings = rooms.server.services.settings if rooms.server.services else None
    assert settings is not None
    if settings.uses_sqlite:
        database = Path(settings.database_url.split("///", 1)[1])
        files = [p for p in database.parent.iterdir() if p.name.startswith(database.name)]
        assert files
        for path in files:
            content = path.read_bytes()
            for secret in secrets_to_find:
                assert secret.encode() not in content, f"{secret} found in {path.name}"
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("http"))
    for secret in secrets_to_find:
        assert secret not in logged
    for client in (her.client, fresh, mentor):
        await client.close()


async def _every_stored_value(server: Server) -> str:
    import_all_tables()
    assert server.services is not None
    dump: list[str] = []
    async with server.services.db.read() as session:
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(select(table))).all()
            dump.extend(str(value) for row in rows for value in row)
    return "\n".join(dump)


async def _audit(server: Server) -> list[AuditEntry]:
    assert server.services is not None
    async with server.services.db.read() as session:
        return list(await session.scalars(select(AuditEntry)))


async def test_there_are_no_direct_messages_between_participants(rooms: RoomServer) -> None:
    mentor, _ = await mentor_in(rooms.server)
    her = await woman_in(rooms.server)
    other = await woman_in(rooms.server)
    attempts: list[dict[str, object]] = [
        {"type": "direct_message", "to": other.participant, "body": "hi"},
        {"type": "room_direct_message", "participant": other.participant, "body": "hi"},
        {"type": "private_message", "to": other.name, "body": "hi"},
        {"type": "room_message", "client_id": "d1", "body": "hi", "to": other.participant},
        {"type": "room_message", "client_id": "d2", "body": "hi", "participant": other.participant},
        {
            "type": "message",
            "conversation_id": other.stream_id,
            "client_id": "d3",
            "body": "hi",
        },
    ]
    for attempt in attempts:
        await her.client.send(attempt)
        error = await her.client.receive("error")
        assert error["code"] in ("unknown_type", "invalid", "not_found"), attempt
    await other.client.drain(0.3)
    assert other.client.of_type("room_message") == [] and other.client.of_type("message") == []
    for client in (her.client, other.client, mentor):
        await client.close()


async def test_others_are_never_listed_beyond_their_room_names(rooms: RoomServer) -> None:
    mentor, _ = await mentor_in(rooms.server)
    her = await woman_in(rooms.server)
    other = await woman_in(rooms.server)
    await said(other.client, "o", "hello")
    await her.client.receive("room_message", client_id="o")
    for event in her.client.events:
        assert "visitor_id" not in event and "token" not in event
        assert "participants" not in event
    for client in (her.client, other.client, mentor):
        await client.close()


async def test_i_know_someone_here_tells_the_mentor_privately(rooms: RoomServer) -> None:
    mentor, _ = await mentor_in(rooms.server)
    her = await woman_in(rooms.server)
    other = await woman_in(rooms.server)
    await her.client.send({"type": "room_know_someone"})
    await her.client.receive("room_know_someone_ok")
    flag = await mentor.receive("room_known")
    assert flag["participant"] == her.participant and flag["name"] == her.name
    await other.client.drain(0.3)
    assert other.client.of_type("room_known") == []

    # She chooses to talk to an adviser at once instead.
    await her.client.send({"type": "room_to_adviser"})
    moved = await her.client.receive("room_exit")
    assert moved["reason"] == "moved" and moved["conversation_id"]
    queued = await her.client.receive("queue", conversation_id=moved["conversation_id"])
    assert queued["position"] == 1
    left = await other.client.receive("room_left")
    assert set(left) == {"type", "stream_id", "seq", "participant", "name", "at"}
    for client in (her.client, other.client, mentor):
        await client.close()


async def test_mentor_moves_her_to_an_adviser_with_priority_and_a_note(
    rooms: RoomServer,
) -> None:
    server = rooms.server
    adviser = await staff(server, await server.staff_session("adviser"))
    await adviser.receive("queue_snapshot")
    # Someone already waiting: she must go ahead of them.
    waiting, _ = await visitor(server)
    await waiting.send({"type": "request_chat"})
    await waiting.receive("queue")

    mentor, _ = await mentor_in(server)
    her = await woman_in(server)
    other = await woman_in(server)
    await said(her.client, "r", "I am going to kill myself tonight")
    await mentor.receive("room_alert")
    note = "Said she feels unsafe tonight; please see her first."
    await mentor.send({"type": "room_invite_adviser", "participant": her.participant, "note": note})
    moved = await her.client.receive("room_exit")
    assert moved["reason"] == "moved"
    conversation_id = moved["conversation_id"]
    assert (await her.client.receive("queue", conversation_id=conversation_id))["position"] == 1
    left = await other.client.receive("room_left")
    assert left["name"] == her.name and "moved" not in str(left)

    await _snapshot_with(adviser, conversation_id)
    # The queue's order, as a console that opens now sees it: she is ahead.
    fresh = await staff(server, await server.staff_session("adviser"))
    snapshot = await fresh.receive("queue_snapshot")
    first = snapshot["waiting"][0]
    assert first["conversation_id"] == conversation_id
    assert first["priority"] > 0 and first["note"] == note
    assert server.services is not None
    async with server.services.db.read() as session:
        stored = await session.get(Conversation, conversation_id)
    assert stored is not None and stored.priority == 2 and stored.note == note

    # The same connection and session carry on into the 1:1 chat.
    await adviser.send({"type": "set_available", "available": True})
    await adviser.send({"type": "take_next"})
    await adviser.receive("assigned", conversation_id=conversation_id)
    await her.client.receive("assigned", conversation_id=conversation_id)
    await her.client.send(
        {"type": "message", "conversation_id": conversation_id, "client_id": "c1", "body": "hi"}
    )
    await adviser.receive("message", client_id="c1")
    [entry] = [e for e in await _audit(server) if e.action == "room.to_adviser"]
    assert entry.reason == note and entry.details["conversation"] == conversation_id
    for client in (her.client, other.client, mentor, adviser, waiting):
        await client.close()


async def _snapshot_with(adviser: object, conversation_id: int) -> dict[str, object]:
    from tests.cluster.talk import in_queue, receive_where
    from tests.wsclient import Client

    assert isinstance(adviser, Client)
    return await receive_where(adviser, "queue_changes", in_queue(conversation_id))


async def test_she_cannot_be_moved_twice(rooms: RoomServer) -> None:
    mentor, _ = await mentor_in(rooms.server)
    her = await woman_in(rooms.server)
    await her.client.send({"type": "request_chat"})
    await her.client.receive("queue")
    await mentor.send(
        {"type": "room_invite_adviser", "participant": her.participant, "note": "see her"}
    )
    await mentor.receive("error", code="already_waiting")
    await say(her.client, "still", "still in the room")
    await her.client.receive("ack", client_id="still")
    for client in (her.client, mentor):
        await client.close()


def test_the_ban_key_is_a_hash_of_a_hash() -> None:
    stored = token_hash("a-token", b"k" * 32)
    key = session_ban_key(stored)
    assert stored not in key
    assert key.startswith("session:") and "a-token" not in key and len(key) == len("session:") + 64
