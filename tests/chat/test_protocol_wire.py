"""What docs/PROTOCOL.md promises on the wire beyond the limits, checked against a real server:
Origin, invalid UTF-8, seq gaps, who receives what, resends, room rules, and the fields of the
session, training, readiness and queue answers."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from chat.core.identity import COOKIE
from chat.core.settings import Settings
from tests.conftest import running_server
from tests.peers.roomkit import mentor_in, woman_in
from tests.wsclient import Client, Server, connected_pair, staff, visitor


def is_utc_with_offset(value: str) -> bool:
    return datetime.fromisoformat(value).utcoffset() == timedelta(0)


@pytest.mark.parametrize("origin", [None, "http://elsewhere.example"])
async def test_an_upgrade_without_our_origin_is_refused_with_403(
    server: Server, origin: str | None
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await websockets.connect(server.ws_url, origin=origin)  # type: ignore[arg-type]
    assert refused.value.response.status_code == 403


async def test_an_upgrade_with_our_origin_is_accepted(server: Server) -> None:
    her, _ = await visitor(server)
    assert her.of_type("welcome")


async def test_a_text_frame_that_is_not_utf8_closes_with_1007_and_keeps_what_was_accepted(
    server: Server,
) -> None:
    her, adviser, conversation, token = await connected_pair(server)
    await her.send(
        {"type": "message", "conversation_id": conversation, "client_id": "kept", "body": "hi"}
    )
    await her.receive("ack", client_id="kept")
    await her.connection.send(b'{"type": "ping", "x": "\xff"}', text=True)
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:
            await her.connection.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1007
    back, _ = await visitor(server, token)
    assert (await back.receive("message", client_id="kept"))["body"] == "hi"
    await adviser.receive("message", client_id="kept")


async def test_a_stopping_server_closes_with_1012_and_she_resumes_on_the_next(
    settings: Settings,
) -> None:
    async with running_server(settings) as first:
        her, adviser, conversation, token = await connected_pair(first)
        await her.send(
            {"type": "message", "conversation_id": conversation, "client_id": "m", "body": "hi"}
        )
        ack = await her.receive("ack", client_id="m")
        await adviser.close()
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:
            await her.connection.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012
    async with running_server(settings) as second:
        resume = [{"conversation_id": conversation, "last_seq": ack["seq"] - 1}]
        back, _ = await visitor(second, token, resume=resume)
        assert (await back.receive("message", client_id="m"))["seq"] == ack["seq"]


async def test_her_seqs_skip_the_staff_only_triage(server: Server) -> None:
    her, adviser, conversation, token = await connected_pair(server)
    assigned = next(e for e in her.events if e.get("seq") is not None)
    triage = await adviser.receive("triage")
    assert triage["seq"] == assigned["seq"] + 1
    await her.send(
        {"type": "message", "conversation_id": conversation, "client_id": "m", "body": "hello"}
    )
    ack = await her.receive("ack", client_id="m")
    assert ack["seq"] == assigned["seq"] + 2
    # A fresh connection replaying the whole conversation skips it too.
    again, _ = await visitor(server, token)
    await again.receive("message", client_id="m")
    assert [e["seq"] for e in again.events if "seq" in e] == [assigned["seq"], ack["seq"]]
    assert not again.of_type("triage")


async def test_the_sender_gets_her_own_message_and_ack_and_everyone_gets_typing(
    server: Server,
) -> None:
    her, adviser, conversation, _ = await connected_pair(server)
    await her.send({"type": "typing", "conversation_id": conversation, "active": True})
    for client in (her, adviser):
        typing = await client.receive("typing")
        assert (typing["from"], typing["active"]) == ("visitor", True)

    sent = {"type": "message", "conversation_id": conversation, "client_id": "c1", "body": "hi"}
    await her.send(sent)
    ack = await her.receive("ack", client_id="c1")
    own = await her.receive("message", client_id="c1")
    theirs = await adviser.receive("message", client_id="c1")
    assert ack["seq"] == own["seq"] == theirs["seq"]
    assert ack["duplicate"] is False

    # A resend, even with other words: the first copy wins and nobody gets a new message.
    await her.send({**sent, "body": "something else"})
    again = await her.receive("ack", client_id="c1")
    assert (again["seq"], again["duplicate"]) == (ack["seq"], True)
    await her.drain()
    await adviser.drain()
    assert len(her.of_type("message")) == len(adviser.of_type("message")) == 1
    late = await staff(server, await server.staff_session("supervisor"))
    await late.send({"type": "join", "conversation_id": conversation})
    assert (await late.receive("message", client_id="c1"))["body"] == "hi"


async def test_room_join_names_a_missing_accept_rules_and_refuses_a_false_one(
    server: Server,
) -> None:
    her, _ = await visitor(server)
    await her.send({"type": "room_join", "room": "newcomers"})
    missing = await her.receive("error")
    assert (missing["code"], missing["ref"]) == ("invalid", "room_join")
    assert "accept_rules" in missing["message"]
    await her.send({"type": "room_join", "room": "newcomers", "accept_rules": False})
    assert (await her.receive("error"))["code"] == "rules_not_accepted"


async def test_the_nation_she_chose_reaches_the_adviser_in_triage(server: Server) -> None:
    async with server.http() as http:
        bad = await http.post("/api/visitor/session", json={"nation": "atlantis"})
        assert bad.status_code == 422
    token = await server.visitor_token(nation="wales", language="en", topic="talk")
    her, _ = await visitor(server, token)
    adviser = await staff(server, await server.staff_session("adviser"))
    await her.send({"type": "request_chat"})
    await her.receive("queue")
    await adviser.send({"type": "set_available", "available": True})
    await adviser.send({"type": "take_next"})
    triage = await adviser.receive("triage")
    assert (triage["nation"], triage["language"], triage["topic"]) == ("wales", "en", "talk")
    assert triage["note"] is None


async def test_queue_entries_carry_a_note_and_every_time_has_a_utc_offset(server: Server) -> None:
    adviser = await staff(server, await server.staff_session("adviser"))
    her, _adviser, conversation, _ = await connected_pair(server)
    times: list[str] = [e["at"] for e in her.events if "at" in e]
    await her.send(
        {"type": "message", "conversation_id": conversation, "client_id": "t", "body": "hi"}
    )
    times.append((await her.receive("message", client_id="t"))["at"])

    mentor, _state = await mentor_in(server)
    woman = await woman_in(server)
    note = "she would like to talk to someone"
    await mentor.send(
        {"type": "room_invite_adviser", "participant": woman.participant, "note": note}
    )
    moved = await woman.client.receive("room_exit")
    entry = await _queue_entry(adviser, moved["conversation_id"])
    assert entry["note"] == note
    times.append(entry["waiting_since"])
    assert all(is_utc_with_offset(t) for t in times), times


async def _queue_entry(adviser: Client, conversation_id: int) -> dict[str, Any]:
    while True:
        # After hello the adviser holds the queue and hears only its changes.
        changes = await adviser.receive("queue_changes")
        for entry in changes["added"]:
            if entry["conversation_id"] == conversation_id:
                return dict(entry)


async def test_readyz_says_what_answered(server: Server) -> None:
    async with server.http() as http:
        answer = await http.get("/readyz")
    assert answer.status_code == 200
    assert answer.json() == {"ready": True, "database": True, "broker": True}


async def test_the_training_body_records_training_with_a_note(server: Server) -> None:
    admin = await server.staff_session("admin")
    mentor = await server.staff_session("mentor")
    async with server.http(cookies={COOKIE: admin.cookie}) as http:
        listed = (await http.get("/api/admin/staff")).json()
        mentor_id = next(s["id"] for s in listed if s["username"] == mentor.username)
        path = f"/api/admin/staff/{mentor_id}/training"
        body = {"trained": True, "note": "room safety course"}
        assert (await http.post(path, json=body)).status_code == 403  # no X-CSRF-Token
        too_long = {"trained": True, "note": "n" * 501}
        assert (await http.post(path, json=too_long, headers=admin.headers)).status_code == 422
        unknown = "/api/admin/staff/999999/training"
        assert (await http.post(unknown, json=body, headers=admin.headers)).status_code == 404
        recorded = await http.post(path, json=body, headers=admin.headers)
        assert recorded.status_code == 200
        assert recorded.json() == {
            "id": mentor_id,
            "username": mentor.username,
            "display_name": mentor.display_name,
            "role": "mentor",
            "available": False,
            "trained": True,
            "disabled": False,
            "second_factor": False,
            "second_factor_needed": False,
        }
        audit = (await http.get("/api/audit?limit=5")).json()
    assert all(is_utc_with_offset(entry["at"]) for entry in audit) and audit
