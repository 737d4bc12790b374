"""While she waits: writing, "I am in danger now", and what staff see before taking her."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from chat.core.models import Event
from tests.wsclient import Client, Server, staff, visitor


async def _waiting(server: Server, **choices: Any) -> tuple[Client, int]:
    token = await server.visitor_token(**choices)
    her, _ = await visitor(server, token)
    await her.send({"type": "request_chat"})
    queued = await her.receive("queue")
    return her, queued["conversation_id"]


async def _supervisor(server: Server) -> Client:
    login = await server.staff_session("supervisor")
    return await staff(server, login)


async def test_what_she_writes_while_waiting_is_kept_for_the_adviser_who_takes_her(
    server: Server,
) -> None:
    her, conversation = await _waiting(server)
    await her.send(
        {
            "type": "message",
            "conversation_id": conversation,
            "client_id": "w1",
            "body": "I need to talk about my partner",
        }
    )
    ack = await her.receive("ack", client_id="w1")

    login = await server.staff_session("adviser")
    adviser = await staff(server, login)
    await adviser.receive("queue_snapshot")
    await adviser.send({"type": "read_waiting", "conversation_id": conversation})
    read = await adviser.receive("waiting_messages", conversation_id=conversation)
    assert [m["body"] for m in read["messages"]] == ["I need to talk about my partner"]

    await adviser.send({"type": "set_available", "available": True})
    await adviser.send({"type": "take_next"})
    await her.receive("assigned")
    # The adviser who takes her is replayed what she wrote while she waited.
    kept = await adviser.receive("message", client_id="w1")
    assert kept["seq"] == ack["seq"] and kept["body"] == "I need to talk about my partner"

    # Taken, it is no longer a waiting conversation anyone may read.
    other = await staff(server, await server.staff_session("adviser"))
    await other.send({"type": "read_waiting", "conversation_id": conversation})
    refused = await other.receive("error", ref="read_waiting")
    assert refused["code"] == "not_found"
    for client in (her, adviser, other):
        await client.close()


async def test_danger_written_while_waiting_moves_her_up_and_alerts_a_supervisor(
    server: Server,
) -> None:
    first, first_id = await _waiting(server)
    her, conversation = await _waiting(server)
    supervisor = await _supervisor(server)
    await supervisor.receive("queue_snapshot")

    await her.send(
        {
            "type": "message",
            "conversation_id": conversation,
            "client_id": "d1",
            "body": "he has a knife and he is coming back now",
        }
    )
    await her.receive("ack", client_id="d1")
    alert = await supervisor.receive("alert", conversation_id=conversation)
    assert alert["kind"] == "risk"
    # Queue news follows the raised priority.
    snapshot = await supervisor.receive("queue_snapshot")
    while snapshot["waiting"][0]["conversation_id"] != conversation:
        snapshot = await supervisor.receive("queue_snapshot")
    assert snapshot["waiting"][0]["risk_level"] in ("high", "imminent")
    assert (await her.receive("queue", position=1))["conversation_id"] == conversation
    await first.close()
    await her.close()
    await supervisor.close()
    del first_id


async def test_i_am_in_danger_now_puts_her_first_shows_emergency_routes_and_alerts(
    server: Server,
) -> None:
    earlier, _ = await _waiting(server)
    token = await server.visitor_token(language="pl", nation="wales")
    her, _ = await visitor(server, token)
    await her.send({"type": "request_chat"})
    conversation = (await her.receive("queue"))["conversation_id"]
    supervisor = await _supervisor(server)
    first = await supervisor.receive("queue_snapshot")
    assert [w["conversation_id"] for w in first["waiting"]][1] == conversation

    await her.send({"type": "danger_now", "conversation_id": conversation})
    noted = await her.receive("danger_noted", conversation_id=conversation)
    assert noted["repeat"] is False
    card = await her.receive("helplines", conversation_id=conversation)
    ids = [h["id"] for h in card["helplines"]]
    # The emergency routes first, 999 and the silent option, in her language where translated.
    assert ids[:2] == ["emergency-999", "silent-solution"]
    assert card["helplines"][0]["name"] == "Służby ratunkowe"
    numbers = {c["value"] for h in card["helplines"][:2] for c in h["contacts"]}
    assert {"999", "112"} <= numbers
    assert (await her.receive("queue", position=1))["conversation_id"] == conversation

    alert = await supervisor.receive("alert", kind="danger_now")
    assert alert["conversation_id"] == conversation and alert["level"] == "imminent"
    snapshot = await supervisor.receive("queue_snapshot")
    while snapshot["waiting"][0]["conversation_id"] != conversation:
        snapshot = await supervisor.receive("queue_snapshot")
    assert snapshot["waiting"][0]["risk_level"] == "imminent"

    # Pressed again: the routes again for her, no second alert, nothing stored twice.
    await her.send({"type": "danger_now", "conversation_id": conversation})
    again = await her.receive("danger_noted", conversation_id=conversation)
    assert again["repeat"] is True
    repeat_card = await her.receive("helplines", conversation_id=conversation)
    assert "seq" not in repeat_card
    await supervisor.drain(0.3)
    assert len([a for a in supervisor.of_type("alert") if a.get("kind") == "danger_now"]) == 1

    # Staff have a stored flag with the guidance for danger now; she never sees it.
    assert server.services is not None
    async with server.services.db.read() as session:
        stored = (
            await session.execute(
                select(Event.payload, Event.audience).where(
                    Event.stream_id == conversation, Event.type == "flag"
                )
            )
        ).one()
    assert stored.audience == "staff" and stored.payload["danger_now"] is True
    assert stored.payload["guidance"][0]["category"] == "domestic_abuse_danger"

    # A reload replays the stored card (once: the repeat was not stored).
    await her.close()
    her, _ = await visitor(server, token)
    await her.drain(0.5)
    assert len(her.of_type("helplines")) == 1
    for client in (earlier, her, supervisor):
        await client.close()


async def test_danger_now_is_only_for_her_own_open_conversation(server: Server) -> None:
    her, conversation = await _waiting(server)
    stranger, _ = await _waiting(server)
    await stranger.send({"type": "danger_now", "conversation_id": conversation})
    assert (await stranger.receive("error", ref="danger_now"))["code"] == "not_found"
    adviser = await staff(server, await server.staff_session("adviser"))
    await adviser.send({"type": "danger_now", "conversation_id": conversation})
    assert (await adviser.receive("error", ref="danger_now"))["code"] == "forbidden"
    await her.send({"type": "danger_now", "conversation_id": "x"})
    assert (await her.receive("error"))["code"] == "invalid"
    await her.send({"type": "end", "conversation_id": conversation})
    await her.receive("ended")
    await her.send({"type": "danger_now", "conversation_id": conversation})
    assert (await her.receive("error", ref="danger_now"))["code"] == "conversation_ended"
    # A visitor may not read another's waiting messages.
    await stranger.send({"type": "read_waiting", "conversation_id": conversation})
    assert (await stranger.receive("error", ref="read_waiting"))["code"] == "forbidden"
    for client in (her, stranger, adviser):
        await client.close()


async def test_while_she_waits_the_page_can_list_helplines_in_her_language(server: Server) -> None:
    async with server.http() as http:
        found = await http.get(
            "/api/visitor/helplines", params={"language": "pl", "topic": "abuse", "nation": "wales"}
        )
        assert found.status_code == 200
        helplines = found.json()["helplines"]
        ids = [h["id"] for h in helplines]
        assert ids and "emergency-999" not in ids, "emergency routes are for danger_now"
        assert all(h["text_language"] in ("pl", "en") for h in helplines)
        plain = await http.get("/api/visitor/helplines")
        assert plain.status_code == 200 and plain.json()["helplines"]
        bad = await http.get("/api/visitor/helplines", params={"language": "xx"})
        assert bad.status_code == 422
        assert "xx" not in bad.text
