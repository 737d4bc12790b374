"""Hand-overs across two nodes: a mentor's move from a room to an adviser, and a return code
taken on one node and used on the other."""

from __future__ import annotations

import pytest

from tests.cluster.conftest import Cluster
from tests.peers.roomkit import Woman, mentor_in, said, trained_mentor, woman_in
from tests.wsclient import staff, visitor

pytestmark = pytest.mark.cluster


async def test_a_move_on_one_node_carries_note_risk_and_card_to_the_other(
    cluster: Cluster,
) -> None:
    room = "recovery"
    mentor, _ = await mentor_in(cluster.a, room, await trained_mentor(cluster.a))
    her: Woman = await woman_in(cluster.b, room)
    await said(her.client, "r", "I am going to kill myself tonight")
    room_card = await her.client.receive("helplines", timeout=10)
    await mentor.receive("room_alert", timeout=10)
    note = "Unsafe tonight; please see her first."
    await mentor.send({"type": "room_invite_adviser", "participant": her.participant, "note": note})
    moved = await her.client.receive("room_exit", timeout=10)
    conversation_id = moved["conversation_id"]

    # Her page reconnects on node B: what is happening, in the conversation, and her card.
    page, _ = await visitor(cluster.b, her.token)
    told = await page.receive("moved_to_adviser", conversation_id=conversation_id, timeout=10)
    card = await page.receive("helplines", conversation_id=conversation_id, timeout=10)
    assert told["risk_level"] == room_card["level"] != "none"
    assert [h["id"] for h in card["helplines"]] == [h["id"] for h in room_card["helplines"]]

    # An adviser on node A takes her and has the note and the room's risk.
    adviser = await staff(cluster.a, await cluster.a.staff_session("adviser"))
    await adviser.send({"type": "set_available", "available": True})
    await adviser.send({"type": "take_next"})
    triage = await adviser.receive("triage", conversation_id=conversation_id, timeout=10)
    assert triage["note"] == note and triage["risk_level"] == room_card["level"]
    await page.receive("assigned", conversation_id=conversation_id, timeout=10)
    for client in (her.client, page, mentor, adviser):
        await client.close()


async def test_a_return_code_from_node_a_works_on_node_b(cluster: Cluster) -> None:
    login = await cluster.a.staff_session("adviser")
    adviser = await staff(cluster.a, login)
    her, _ = await visitor(cluster.a)
    await her.send({"type": "request_chat"})
    conversation = (await her.receive("queue"))["conversation_id"]
    await adviser.send({"type": "set_available", "available": True})
    await adviser.send({"type": "take_next"})
    await her.receive("assigned", conversation_id=conversation, timeout=10)
    await adviser.send({"type": "end", "conversation_id": conversation})
    await her.receive("ended", timeout=10)
    await her.send(
        {"type": "take_return_code", "conversation_id": conversation, "keep_summary": True}
    )
    words = (await her.receive("return_code", timeout=10))["words"]

    back, _ = await visitor(cluster.b)
    await back.send({"type": "come_back", "code": " ".join(words)})
    offer = await back.receive("returning", timeout=10)
    assert offer["adviser_name"] == login.display_name
    await back.send(
        {"type": "wait_for_adviser", "conversation_id": offer["conversation_id"], "wait": True}
    )
    await back.receive("waiting_for_adviser", timeout=10)
    await adviser.send({"type": "take_next"})
    handover = await adviser.receive(
        "handover", conversation_id=offer["conversation_id"], timeout=10
    )
    assert handover["previous_adviser"] == login.display_name and handover["summary"]
    for client in (her, back, adviser):
        await client.close()
