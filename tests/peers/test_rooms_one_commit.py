"""A mentor's action that changes several things is one commit: a fault halfway leaves none of
it behind, and nobody hears of it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from chat.core.models import AuditEntry, Conversation, Event, VisitorSession
from chat.core.uow import Change
from peers import controls
from peers import rooms as rooms_module
from peers.models import RoomParticipant, RoomSession
from tests.peers.roomkit import RoomServer, close_all, mentor_in, said, woman_in
from tests.wsclient import Server


class Boom(RuntimeError):
    """The fault a test injects."""


def _fails(monkeypatch: pytest.MonkeyPatch, owner: object, name: str, why: str) -> None:
    """`owner.name` raises Boom when called, until `monkeypatch.undo()`."""

    async def fail(*_args: Any, **_kwargs: Any) -> None:
        raise Boom(why)

    monkeypatch.setattr(owner, name, fail)


async def _her_state(server: Server, participant_id: int) -> tuple[int, bool, int, list[str]]:
    """(her conversations, still in the room, room_left events stored, audit actions)."""
    assert server.services is not None
    async with server.services.db.read() as session:
        seat = await session.get(RoomParticipant, participant_id)
        assert seat is not None
        visitor = await session.get(VisitorSession, seat.visitor_id)
        assert visitor is not None
        conversations = await session.scalar(
            select(func.count())
            .select_from(Conversation)
            .where(Conversation.visitor_id == visitor.id)
        )
        left = await session.scalar(
            select(func.count())
            .select_from(Event)
            .where(Event.stream_id == seat.session_id, Event.type == "room_left")
        )
        actions = list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    return int(conversations or 0), seat.left_at is None, int(left or 0), actions


async def test_a_move_to_an_adviser_that_fails_after_the_conversation_leaves_nothing(
    rooms: RoomServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = rooms.server
    mentor, _ = await mentor_in(server)
    her = await woman_in(server)
    other = await woman_in(server)

    # The conversation is created first in the same transaction; then taking her seat fails.
    _fails(monkeypatch, controls, "leave_room", "the node fails once the conversation is made")
    move = {"type": "room_invite_adviser", "participant": her.participant, "note": "see her"}
    await mentor.send(move)
    await mentor.receive("error", code="internal")
    conversations, seated, left, actions = await _her_state(server, her.participant)
    assert (conversations, seated, left) == (0, True, 0)
    assert "room.to_adviser" not in actions
    # Nobody heard of a move that did not happen, and she still talks in the room.
    await other.client.drain(0.3)
    assert other.client.of_type("room_left") == [] and her.client.of_type("room_exit") == []
    await said(her.client, "still", "I am still here")

    monkeypatch.undo()
    await mentor.send(move)
    moved = await her.client.receive("room_exit")
    assert moved["reason"] == "moved"
    assert (await other.client.receive("room_left"))["name"] == her.name
    conversations, seated, left, actions = await _her_state(server, her.participant)
    assert (conversations, seated, left) == (1, False, 1)
    assert actions.count("room.to_adviser") == 1
    for client in (mentor, her.client, other.client):
        await client.close()


async def test_a_removal_whose_audit_entry_fails_leaves_her_in_the_room(
    rooms: RoomServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = rooms.server
    mentor, _ = await mentor_in(server)
    her = await woman_in(server)
    real_audit = Change.audit

    def audit_fails_for_removals(self: Change, actor: str, action: str, *rest: Any) -> None:
        if action == "room.remove":
            raise Boom("the audit entry cannot be written")
        real_audit(self, actor, action, *rest)

    monkeypatch.setattr(Change, "audit", audit_fails_for_removals)
    remove = {"type": "room_remove", "participant": her.participant, "reason": "spam"}
    await mentor.send(remove)
    await mentor.receive("error", code="internal")
    _, seated, left, actions = await _her_state(server, her.participant)
    assert (seated, left) == (True, 0) and "room.remove" not in actions
    await her.client.drain(0.3)
    assert her.client.of_type("room_exit") == []
    await said(her.client, "here", "still here")

    monkeypatch.undo()
    await mentor.send(remove)
    assert (await her.client.receive("room_exit"))["reason"] == "removed"
    _, seated, left, actions = await _her_state(server, her.participant)
    assert (seated, left) == (False, 1) and actions.count("room.remove") == 1
    for client in (mentor, her.client):
        await client.close()


async def _mentors_of(server: Server, session_id: int) -> tuple[int, bool]:
    """(mentors_present, whether the room counts as left by its mentors)."""
    assert server.services is not None
    async with server.services.db.read() as session:
        room_session = await session.get(RoomSession, session_id)
        assert room_session is not None
    return room_session.mentors_present, room_session.mentor_left_at is not None


async def test_a_move_to_another_room_that_fails_keeps_her_in_the_first(
    rooms: RoomServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = rooms.server
    mentor, _ = await mentor_in(server)
    elsewhere, _ = await mentor_in(server, "recovery")
    her = await woman_in(server)
    other = await woman_in(server)

    # Giving up her seat comes first in the same transaction; then taking the new one fails.
    _fails(monkeypatch, rooms_module, "_seat", "the node fails once her old seat is given up")
    move = {"type": "room_join", "room": "recovery", "accept_rules": True}
    await her.client.send(move)
    await her.client.receive("error", code="internal")
    _, seated, left, _ = await _her_state(server, her.participant)
    assert (seated, left) == (True, 0)
    await other.client.drain(0.3)
    assert other.client.of_type("room_left") == [] and her.client.of_type("room_exit") == []
    await said(her.client, "still", "I am still in the first room")
    assert (await other.client.receive("room_message", client_id="still"))["body"]

    monkeypatch.undo()
    await her.client.send(move)
    assert (await her.client.receive("room_exit"))["room"] == "newcomers"
    welcome = await her.client.receive("room_welcome")
    assert welcome["room"] == "recovery"
    assert (await other.client.receive("room_left"))["name"] == her.name
    _, seated, left, _ = await _her_state(server, her.participant)
    assert (seated, left) == (False, 1)
    await close_all(mentor, elsewhere, her.client, other.client)


async def test_a_mentor_whose_move_to_another_room_fails_still_runs_the_first(
    rooms: RoomServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    mentor, first = await mentor_in(rooms.server)
    her = await woman_in(rooms.server)

    _fails(monkeypatch, rooms_module, "_open_or_join", "the node fails as the other room opens")
    await mentor.send({"type": "room_open", "room": "recovery"})
    await mentor.receive("error", code="internal")
    assert await _mentors_of(rooms.server, first["stream_id"]) == (1, False)
    # She still hears the first room, and the women in it may still write (a mentor is there).
    await said(her.client, "heard", "is anyone there?")
    await mentor.receive("room_message", client_id="heard")

    monkeypatch.undo()
    await mentor.send({"type": "room_open", "room": "recovery"})
    assert (await mentor.receive("room_state"))["room"] == "recovery"
    assert await _mentors_of(rooms.server, first["stream_id"]) == (0, True)
    await close_all(mentor, her.client)
