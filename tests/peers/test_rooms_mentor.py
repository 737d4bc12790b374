"""Every mentor control, as a mentor and the women in the room see it, and in the audit log."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from chat.core.models import AuditEntry, Event
from tests.peers.roomkit import (
    ROOM,
    RoomServer,
    mentor_in,
    record_training,
    said,
    say,
    woman_in,
)
from tests.wsclient import Server, staff, visitor


async def audit_entries(server: Server, action: str) -> list[AuditEntry]:
    assert server.services is not None
    async with server.services.db.read() as session:
        rows = await session.scalars(select(AuditEntry).where(AuditEntry.action == action))
        return list(rows)


async def test_untrained_mentor_cannot_open_a_room_until_an_admin_records_training(
    rooms: RoomServer,
) -> None:
    server = rooms.server
    username, password = await server.add_staff("mentor")
    login = await server.login(username, password)
    mentor = await staff(server, login)
    await mentor.send({"type": "room_open", "room": ROOM})
    refused = await mentor.receive("error", code="forbidden")
    assert "training" in refused["message"]

    admin = await server.staff_session("admin")
    async with server.http(cookies={"willow_staff": admin.cookie}) as client:
        staff_list = (await client.get("/api/admin/staff")).json()
        mentor_id = next(s["id"] for s in staff_list if s["username"] == username)
        response = await client.post(
            f"/api/admin/staff/{mentor_id}/training",
            json={"trained": True, "note": "peer mentor course"},
            headers=admin.headers,
        )
        assert response.status_code == 200 and response.json()["trained"] is True

    await mentor.send({"type": "room_open", "room": ROOM})
    assert (await mentor.receive("room_state"))["room"] == ROOM
    await mentor.close()


async def test_advisers_and_visitors_cannot_open_rooms(rooms: RoomServer) -> None:
    adviser_login = await rooms.server.staff_session("adviser")
    await record_training(rooms.server, adviser_login.username)
    adviser = await staff(rooms.server, adviser_login)
    await adviser.send({"type": "room_open", "room": ROOM})
    await adviser.receive("error", code="forbidden")
    her, _ = await visitor(rooms.server)
    await her.send({"type": "room_open", "room": ROOM})
    await her.receive("error", code="forbidden")
    await her.send({"type": "room_mute", "participant": 1, "minutes": 5, "reason": "test"})
    await her.receive("error", code="forbidden")
    await adviser.close()
    await her.close()


async def test_mute_pauses_her_messages_for_a_while_and_needs_a_reason(rooms: RoomServer) -> None:
    mentor, _ = await mentor_in(rooms.server)
    her = await woman_in(rooms.server)
    other = await woman_in(rooms.server)
    mute: dict[str, Any] = {"type": "room_mute", "participant": her.participant, "minutes": 10}
    await mentor.send({**mute, "reason": " "})
    await mentor.receive("error", code="invalid")

    await mentor.send({**mute, "reason": "posting the same link again"})
    muted = await her.client.receive("room_muted")
    assert muted["until"]
    status = await mentor.receive("room_participant", status="muted")
    assert status["muted_until"] == muted["until"]

    await say(her.client, "m1", "can anyone hear me")
    error = await her.client.receive("error", code="muted")
    assert error["until"] == muted["until"] and error["client_id"] == "m1"

    await mentor.send({"type": "room_unmute", "participant": her.participant})
    await her.client.receive("room_unmuted")
    await said(her.client, "m2", "thank you")
    await other.client.receive("room_message", client_id="m2")
    await other.client.drain(0.2)
    assert other.client.of_type("room_muted") == []
    assert [m["client_id"] for m in other.client.of_type("room_message")] == ["m2"]

    [entry] = await audit_entries(rooms.server, "room.mute")
    assert entry.reason == "posting the same link again"
    assert entry.actor.startswith("staff:") and entry.at is not None
    assert entry.details["participant"] == her.participant and entry.details["minutes"] == 10
    assert await audit_entries(rooms.server, "room.unmute")
    for client in (her.client, other.client, mentor):
        await client.close()


async def test_remove_takes_her_out_and_the_room_sees_only_that_she_left(
    rooms: RoomServer,
) -> None:
    mentor, _ = await mentor_in(rooms.server)
    her = await woman_in(rooms.server)
    other = await woman_in(rooms.server)
    await mentor.send({"type": "room_remove", "participant": her.participant, "reason": "hostile"})
    assert (await her.client.receive("room_exit"))["reason"] == "removed"
    left = await other.client.receive("room_left")
    assert left["name"] == her.name and "reason" not in left and "status" not in left
    assert (await mentor.receive("room_participant", status="removed"))["name"] == her.name

    await said(other.client, "o1", "after she went")
    await her.client.drain(0.3)
    assert her.client.of_type("room_message") == []
    await her.client.send({"type": "room_join", "room": ROOM, "accept_rules": True})
    await her.client.receive("error", code="removed")
    [entry] = await audit_entries(rooms.server, "room.remove")
    assert entry.reason == "hostile"
    for client in (her.client, other.client, mentor):
        await client.close()


async def test_hide_takes_a_message_out_of_the_room_and_out_of_storage(
    rooms: RoomServer,
) -> None:
    mentor, _ = await mentor_in(rooms.server)
    her = await woman_in(rooms.server)
    other = await woman_in(rooms.server)
    ack = await said(her.client, "s1", "something unkind but not caught")
    await other.client.receive("room_message", client_id="s1")
    await mentor.send({"type": "room_hide", "seq": ack["seq"], "reason": "unkind to another"})
    hidden = await other.client.receive("room_hidden")
    assert hidden["message_seq"] == ack["seq"]

    assert rooms.server.services is not None
    async with rooms.server.services.db.read() as session:
        stored = await session.scalar(
            select(Event.payload).where(Event.stream_id == her.stream_id, Event.seq == ack["seq"])
        )
    assert stored is not None and stored["body"] == "" and stored["hidden"] is True
    await mentor.send({"type": "room_hide", "seq": ack["seq"]})
    await mentor.receive("error", code="invalid")
    [entry] = await audit_entries(rooms.server, "room.hide")
    assert entry.reason == "unkind to another" and entry.details["message_seq"] == ack["seq"]
    for client in (her.client, other.client, mentor):
        await client.close()


async def test_slow_mode_spaces_out_her_messages(rooms: RoomServer) -> None:
    mentor, _ = await mentor_in(rooms.server)
    her = await woman_in(rooms.server)
    await mentor.send({"type": "room_slow_mode", "seconds": 30})
    settings = await her.client.receive("room_settings")
    assert settings["slow_mode_seconds"] == 30
    await said(her.client, "a", "first")
    await say(her.client, "b", "second, straight away")
    error = await her.client.receive("error", code="slow_mode")
    assert 25 <= error["retry_after"] <= 30
    # The mentor is not slowed down, and danger is never held back by slow mode.
    await said(mentor, "m", "let us take turns")
    await said(her.client, "c", "I am going to kill myself tonight")
    await mentor.send({"type": "room_slow_mode", "seconds": 0})
    await her.client.receive("room_settings", slow_mode_seconds=0)
    await said(her.client, "d", "ok")
    assert await audit_entries(rooms.server, "room.slow_mode")
    for client in (her.client, mentor):
        await client.close()


async def test_lock_keeps_newcomers_out_but_not_those_already_in(rooms: RoomServer) -> None:
    mentor, _ = await mentor_in(rooms.server)
    her = await woman_in(rooms.server)
    await mentor.send({"type": "room_lock", "locked": True})
    assert (await her.client.receive("room_settings"))["locked"] is True
    newcomer, _ = await visitor(rooms.server)
    await newcomer.send({"type": "room_join", "room": ROOM, "accept_rules": True})
    await newcomer.receive("error", code="room_locked")

    await her.client.close()
    back, _ = await visitor(rooms.server, her.token)
    await back.send({"type": "room_join", "room": ROOM, "accept_rules": True})
    assert (await back.receive("room_welcome"))["returning"] is True

    await mentor.send({"type": "room_lock", "locked": False})
    await back.receive("room_settings", locked=False)
    await newcomer.send({"type": "room_join", "room": ROOM, "accept_rules": True})
    await newcomer.receive("room_welcome")
    assert await audit_entries(rooms.server, "room.lock")
    assert await audit_entries(rooms.server, "room.unlock")
    for client in (back, newcomer, mentor):
        await client.close()


async def test_pins_show_to_everyone_and_to_newcomers(rooms: RoomServer) -> None:
    mentor, _ = await mentor_in(rooms.server)
    her = await woman_in(rooms.server)
    ack = await said(mentor, "rules", "Tonight we talk about sleep")
    await mentor.send({"type": "room_pin", "seq": ack["seq"]})
    pinned = await her.client.receive("room_pinned")
    assert pinned["message_seq"] == ack["seq"] and pinned["body"] == "Tonight we talk about sleep"
    newcomer = await woman_in(rooms.server)
    assert newcomer.welcome["pins"] == [
        {"message_seq": ack["seq"], "name": pinned["name"], "body": "Tonight we talk about sleep"}
    ]
    await mentor.send({"type": "room_pin", "seq": 9999})
    await mentor.receive("error", code="not_found")
    await mentor.send({"type": "room_unpin", "seq": ack["seq"]})
    await newcomer.client.receive("room_unpinned", message_seq=ack["seq"])
    assert await audit_entries(rooms.server, "room.pin")
    assert await audit_entries(rooms.server, "room.unpin")
    for client in (her.client, newcomer.client, mentor):
        await client.close()


async def test_reports_wait_in_the_mentors_queue_until_closed(rooms: RoomServer) -> None:
    mentor, _ = await mentor_in(rooms.server)
    her = await woman_in(rooms.server)
    other = await woman_in(rooms.server)
    ack = await said(other.client, "u1", "a message someone finds upsetting")
    await her.client.send({"type": "room_report", "seq": ack["seq"], "reason": "upsetting"})
    assert (await her.client.receive("room_reported"))["message_seq"] == ack["seq"]
    filed = await mentor.receive("room_report_filed")
    assert filed["message_seq"] == ack["seq"] and filed["reason"] == "upsetting"

    await mentor.send({"type": "room_open", "room": ROOM})
    state = await mentor.receive("room_state")
    assert [r["report_id"] for r in state["reports"]] == [filed["report_id"]]
    await mentor.send(
        {"type": "room_report_close", "report_id": filed["report_id"], "outcome": "talked to her"}
    )
    await mentor.receive("room_report_closed", report_id=filed["report_id"])
    await other.client.drain(0.2)
    assert other.client.of_type("room_report_filed") == []
    assert await audit_entries(rooms.server, "report.filed")
    [closed] = await audit_entries(rooms.server, "report.closed")
    # The outcome is free text about her: it stays on the report, not in the audit log.
    assert closed.reason == "" and closed.details == {}
    for client in (her.client, other.client, mentor):
        await client.close()


async def test_close_sends_everyone_out_and_the_list_shows_it_closed(rooms: RoomServer) -> None:
    mentor, _ = await mentor_in(rooms.server)
    her = await woman_in(rooms.server)
    await mentor.send({"type": "room_close", "reason": "end of the evening"})
    await her.client.receive("room_closed")
    assert (await her.client.receive("room_exit"))["reason"] == "closed"
    async with rooms.server.http() as client:
        listed = {r["id"]: r for r in (await client.get("/api/rooms")).json()["rooms"]}
    assert listed[ROOM]["open"] is False
    [entry] = await audit_entries(rooms.server, "room.close")
    assert entry.reason == "end of the evening"
    for client in (her.client, mentor):
        await client.close()


async def test_room_closes_soon_after_its_last_mentor_leaves(rooms: RoomServer) -> None:
    mentor, _ = await mentor_in(rooms.server)
    her = await woman_in(rooms.server)
    await mentor.close()
    closed = await her.client.receive("room_closed", timeout=5)
    assert closed["by"] == "system"
    await her.client.close()


async def test_a_mentor_coming_back_in_time_keeps_the_room_open(rooms: RoomServer) -> None:
    mentor, state = await mentor_in(rooms.server)
    her = await woman_in(rooms.server)
    login = await rooms.server.staff_session("mentor")
    await record_training(rooms.server, login.username)
    second, again = await mentor_in(rooms.server, login=login)
    assert again["stream_id"] == state["stream_id"]
    assert [p["name"] for p in again["participants"]] == [her.name]
    await mentor.close()
    await asyncio.sleep(1.0)
    await said(her.client, "still", "still open")
    await second.receive("room_message", client_id="still")
    for client in (her.client, second):
        await client.close()


async def test_a_mentor_moving_to_another_room_stops_hearing_the_first(rooms: RoomServer) -> None:
    login = await rooms.server.staff_session("mentor")
    await record_training(rooms.server, login.username)
    keeper, _ = await mentor_in(rooms.server)
    mover, first = await mentor_in(rooms.server, login=login)
    her = await woman_in(rooms.server)
    await mover.send({"type": "room_open", "room": "recovery"})
    second = await mover.receive("room_state")
    assert second["room"] == "recovery" and second["stream_id"] != first["stream_id"]
    await said(her.client, "after", "only the first room hears this")
    await keeper.receive("room_message", client_id="after")
    await mover.drain(0.3)
    assert mover.of_type("room_message") == []
    for client in (keeper, mover, her.client):
        await client.close()
