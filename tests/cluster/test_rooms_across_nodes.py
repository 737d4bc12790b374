"""A peer room whose mentor and women are spread over two nodes works as if it were one."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cluster.conftest import Cluster
from tests.cluster.talk import in_queue, receive_where
from tests.peers.roomkit import (
    Woman,
    mentor_in,
    said,
    say,
    slowed_then_muted,
    trained_mentor,
    woman_in,
)
from tests.wsclient import Server, staff, visitor

pytestmark = pytest.mark.cluster


async def _listed(server: Server, room: str) -> dict[str, Any]:
    async with server.http() as client:
        rooms = (await client.get("/api/rooms")).json()["rooms"]
    found: dict[str, Any] = next(r for r in rooms if r["id"] == room)
    return found


async def test_women_on_both_nodes_and_the_mentor_hear_the_same_room(cluster: Cluster) -> None:
    room = "newcomers"
    mentor, _ = await mentor_in(cluster.a, room, await trained_mentor(cluster.a))
    on_a = await woman_in(cluster.a, room)
    on_b = await woman_in(cluster.b, room)
    assert on_a.stream_id == on_b.stream_id
    assert (await on_a.client.receive("room_joined", name=on_b.name))["participant"] == (
        on_b.participant
    )

    sent = []
    for turn in range(5):
        for woman, tag in ((on_a, "a"), (on_b, "b")):
            await say(woman.client, f"{tag}{turn}", f"line {turn} from node {tag}")
            sent.append(f"{tag}{turn}")
    await say(mentor, "m", "the mentor, on node a")
    sent.append("m")
    for client in (on_a.client, on_b.client, mentor):
        for client_id in sent:
            await client.receive("room_message", client_id=client_id, timeout=10)
    orders = [
        [e["seq"] for e in c.of_type("room_message")] for c in (on_a.client, on_b.client, mentor)
    ]
    assert orders[0] == orders[1] == orders[2] == sorted(orders[0])
    for client in (on_a.client, on_b.client, mentor):
        await client.close()


async def test_how_busy_a_room_is_counts_women_on_every_node(cluster: Cluster) -> None:
    room = "mothers"
    mentor, _ = await mentor_in(cluster.a, room, await trained_mentor(cluster.a))
    women = [await woman_in(cluster.b, room) for _ in range(5)]
    seen_from_a = await _listed(cluster.a, room)
    assert seen_from_a["open"] is True and seen_from_a["busy"] == "some"
    assert (await _listed(cluster.b, room))["busy"] == "some"
    await women[0].client.send({"type": "room_leave"})
    await women[0].client.receive("room_exit")
    assert (await _listed(cluster.a, room))["busy"] == "quiet"
    for client in [mentor, *(w.client for w in women)]:
        await client.close()


async def test_a_mentor_on_one_node_mutes_and_removes_a_woman_on_the_other(
    cluster: Cluster,
) -> None:
    room = "pregnant"
    mentor, _ = await mentor_in(cluster.a, room, await trained_mentor(cluster.a))
    her = await woman_in(cluster.b, room)
    other = await woman_in(cluster.a, room)
    await mentor.send(
        {"type": "room_mute", "participant": her.participant, "minutes": 5, "reason": "calm down"}
    )
    await her.client.receive("room_muted")
    await say(her.client, "x", "let me talk")
    await her.client.receive("error", code="muted")

    await mentor.send(
        {"type": "room_remove", "participant": her.participant, "reason": "kept shouting"}
    )
    assert (await her.client.receive("room_exit"))["reason"] == "removed"
    assert (await other.client.receive("room_left"))["name"] == her.name
    await said(other.client, "after", "she has gone")
    await her.client.drain(0.5)
    assert her.client.of_type("room_message") == []
    for client in (her.client, other.client, mentor):
        await client.close()


async def test_a_ban_made_on_one_node_holds_on_the_other(cluster: Cluster) -> None:
    room = "night-room"
    mentor, _ = await mentor_in(cluster.a, room, await trained_mentor(cluster.a))
    her = await woman_in(cluster.b, room)
    await mentor.send(
        {"type": "room_ban", "participant": her.participant, "minutes": 5, "reason": "threats"}
    )
    assert (await her.client.receive("room_exit"))["reason"] == "banned"
    # The ban falls on her session, on either node; another woman behind the same address
    # (a refuge's Wi-Fi, the proxy) is not shut out.
    for server in (cluster.a, cluster.b):
        again, _ = await visitor(server, her.token)
        await again.send({"type": "room_join", "room": room, "accept_rules": True})
        await again.receive("error", code="banned")
        await again.close()
        other, _ = await visitor(server)
        await other.send({"type": "room_join", "room": room, "accept_rules": True})
        await other.receive("room_welcome")
        await other.close()
    for client in (her.client, mentor):
        await client.close()


async def test_moved_to_an_adviser_on_the_other_node(cluster: Cluster) -> None:
    room = "recovery"
    adviser = await staff(cluster.b, await cluster.b.staff_session("adviser"))
    mentor, _ = await mentor_in(cluster.a, room, await trained_mentor(cluster.a))
    her: Woman = await woman_in(cluster.b, room)
    await mentor.send(
        {"type": "room_invite_adviser", "participant": her.participant, "note": "wants to talk"}
    )
    moved = await her.client.receive("room_exit")
    conversation_id = moved["conversation_id"]
    await her.client.receive("queue", conversation_id=conversation_id)
    news = await receive_where(adviser, "queue_changes", in_queue(conversation_id))
    entry = next(e for e in news["added"] if e["conversation_id"] == conversation_id)
    assert entry["priority"] > 0 and entry["note"] == "wants to talk"
    await adviser.send({"type": "set_available", "available": True})
    await adviser.send({"type": "take_next"})
    await her.client.receive("assigned", conversation_id=conversation_id)
    for client in (her.client, mentor, adviser):
        await client.close()


async def test_the_room_closes_for_women_on_both_nodes(cluster: Cluster) -> None:
    room = "lgbtq-women"
    mentor, _ = await mentor_in(cluster.b, room, await trained_mentor(cluster.b))
    women = [await woman_in(cluster.a, room), await woman_in(cluster.b, room)]
    await mentor.send({"type": "room_close", "reason": "end of the session"})
    for woman in women:
        await woman.client.receive("room_closed")
        assert (await woman.client.receive("room_exit"))["reason"] == "closed"
    assert (await _listed(cluster.a, room))["open"] is False
    for client in [mentor, *(w.client for w in women)]:
        await client.close()


async def test_slow_mode_and_unmute_set_on_one_node_hold_on_the_other(cluster: Cluster) -> None:
    mentor, _ = await mentor_in(cluster.a, "newcomers", await trained_mentor(cluster.a))
    her = await woman_in(cluster.b, "newcomers")
    await slowed_then_muted(mentor, her)
    for client in (her.client, mentor):
        await client.close()
