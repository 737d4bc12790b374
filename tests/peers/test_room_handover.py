"""A mentor's move to an adviser carries the note, the room's risk and her helplines card."""

from __future__ import annotations

from chat.core.models import Conversation
from tests.peers.roomkit import RoomServer, mentor_in, said, woman_in
from tests.wsclient import staff, visitor


async def test_the_move_carries_the_note_the_risk_and_her_card(rooms: RoomServer) -> None:
    server = rooms.server
    mentor, _ = await mentor_in(server)
    her = await woman_in(server)
    await said(her.client, "r", "I am going to kill myself tonight")
    room_card = await her.client.receive("helplines")
    await mentor.receive("room_alert")
    note = "Feels unsafe tonight; she asked for someone to talk to."
    await mentor.send({"type": "room_invite_adviser", "participant": her.participant, "note": note})
    moved = await her.client.receive("room_exit")
    conversation_id = moved["conversation_id"]

    # On the visitor page (a new socket, the same session) she is told what is happening and
    # her helplines card is there.
    page, _ = await visitor(server, her.token)
    told = await page.receive("moved_to_adviser", conversation_id=conversation_id)
    card = await page.receive("helplines", conversation_id=conversation_id)
    assert told["seq"] < card["seq"]
    assert [h["id"] for h in card["helplines"]] == [h["id"] for h in room_card["helplines"]]
    assert told["risk_level"] == room_card["level"]

    assert server.services is not None
    async with server.services.db.read() as session:
        stored = await session.get(Conversation, conversation_id)
    assert stored is not None and stored.risk_level == room_card["level"] != "none"

    adviser = await staff(server, await server.staff_session("adviser"))
    await adviser.send({"type": "set_available", "available": True})
    await adviser.send({"type": "take_next"})
    triage = await adviser.receive("triage", conversation_id=conversation_id)
    assert triage["note"] == note and triage["risk_level"] == room_card["level"]
    for client in (her.client, page, mentor, adviser):
        await client.close()
