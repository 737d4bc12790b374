"""Numbers past 64 bits, strings where numbers belong, values echoed in errors: each answered."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from websockets.exceptions import ConnectionClosed

from chat.core.protocol import ProtocolError, decode
from moderation.safeguarding.events import EVENTS as SAFEGUARDING_EVENTS
from peers.events import ROOM_EVENTS
from tests.wsclient import Client, Server, connected_pair, visitor

BEYOND = [2**63, 2**64 - 1, 10**30]


# Every feature's events, as the app declares them on its socket routes.
EXTRA = {**ROOM_EVENTS, **SAFEGUARDING_EVENTS}


def _json(event: dict[str, Any]) -> str:
    import json

    return json.dumps(event)


@pytest.mark.parametrize("big", BEYOND)
@pytest.mark.parametrize(
    "event",
    [
        {"type": "hello", "v": 1, "resume": [{"conversation_id": 1, "last_seq": "BIG"}]},
        {"type": "hello", "v": 1, "resume": [{"conversation_id": "BIG", "last_seq": 0}]},
        {"type": "join", "conversation_id": "BIG", "last_seq": 0},
        {"type": "join", "conversation_id": 1, "last_seq": "BIG"},
        {"type": "report", "conversation_id": 1, "seq": "BIG"},
        {"type": "room_hide", "seq": "BIG", "reason": "abuse"},
        {"type": "room_pin", "seq": "BIG"},
        {"type": "room_ban", "participant": "BIG", "minutes": 5, "reason": "abuse"},
        {"type": "room_report_close", "report_id": "BIG", "outcome": "dealt with"},
        {"type": "escalation_outcome", "escalation_id": "BIG", "code": "other"},
    ],
)
def test_ids_and_resume_points_past_64_bits_are_invalid(event: dict[str, Any], big: int) -> None:
    text = _json(event).replace('"BIG"', str(big))
    with pytest.raises(ProtocolError) as caught:
        decode(text, 16_384, EXTRA)
    assert caught.value.code == "invalid"


@pytest.mark.parametrize(
    "event",
    [
        {"type": "typing", "conversation_id": "5", "active": True},
        {"type": "typing", "conversation_id": 5, "active": "true"},
        {"type": "typing", "conversation_id": 5, "active": 1},
        {"type": "set_available", "available": "yes"},
        {"type": "join", "conversation_id": 5.0},
        {"type": "room_join", "room": "newcomers", "accept_rules": "true"},
        {"type": "room_mute", "participant": 3, "minutes": "5", "reason": "abuse"},
    ],
)
def test_strings_and_floats_are_not_taken_for_numbers_or_booleans(event: dict[str, Any]) -> None:
    with pytest.raises(ProtocolError) as caught:
        decode(orjson.dumps(event).decode(), 16_384, EXTRA)
    assert caught.value.code == "invalid"


async def _still_answers(client: Client) -> None:
    await client.send({"type": "ping"})
    await client.receive("pong")


async def test_a_resume_point_past_64_bits_is_answered_and_the_socket_stays(server: Server) -> None:
    token = await server.visitor_token()
    client = await Client.open(server)
    await client.send(
        f'{{"type":"hello","v":1,"token":"{token}",'
        f'"resume":[{{"conversation_id":1,"last_seq":{2**63}}}]}}'
    )
    error = await client.receive("error")
    assert error["code"] == "invalid"
    await _still_answers(client)
    await client.close()


async def test_staff_join_and_report_with_huge_ids_are_invalid_not_internal(server: Server) -> None:
    her, adviser, conversation, _ = await connected_pair(server)
    await adviser.send(f'{{"type":"join","conversation_id":{2**64 - 1}}}')
    assert (await adviser.receive("error"))["code"] == "invalid"
    await her.send(f'{{"type":"report","conversation_id":{conversation},"seq":{2**63}}}')
    assert (await her.receive("error"))["code"] == "invalid"
    assert all(e.get("code") != "internal" for e in her.events + adviser.events)
    await _still_answers(her)
    for client in (her, adviser):
        await client.close()


async def test_invalid_utf8_closes_the_socket_with_1007(server: Server) -> None:
    client, _ = await visitor(server)
    await client.connection.send(b'{"type":"ping","x":"\xff\xfe"}', text=True)
    with pytest.raises(ConnectionClosed) as caught:
        await client.connection.recv()
    assert caught.value.rcvd is not None and caught.value.rcvd.code == 1007


async def test_closing_a_report_with_an_id_past_64_bits_is_not_a_server_error(
    server: Server,
) -> None:
    login = await server.staff_session("supervisor")
    async with server.http(cookies={"willow_staff": login.cookie}) as http:
        for report_id in (10**30, 2**63, 0, -1):
            response = await http.post(
                f"/api/reports/{report_id}/close", json={"outcome": "done"}, headers=login.headers
            )
            assert response.status_code == 422, (report_id, response.text)
        response = await http.post(
            f"/api/reports/{2**63 - 1}/close", json={"outcome": "done"}, headers=login.headers
        )
        assert response.status_code == 404


SECRET = "correct-horse-battery-staple-" * 40


@pytest.mark.parametrize(
    "body",
    [
        {"username": "sam", "password": SECRET},  # longer than allowed
        {"username": SECRET, "password": "x"},
        {"username": "sam", "password": [SECRET]},
        {"username": "sam", "password": "x", "remember": SECRET},
    ],
)
async def test_a_refused_login_never_repeats_what_was_sent(
    server: Server, body: dict[str, Any]
) -> None:
    async with server.http() as http:
        response = await http.post("/api/staff/login", json=body)
    assert response.status_code == 422
    assert "correct-horse" not in response.text
    assert response.json()["detail"][0]["loc"][0] == "body"


@pytest.mark.parametrize(
    "body",
    [{"safe_to_talk": "yes"}, {"safe_to_talk": 1}, {"language": 5}, {"safe_to_talk": "true"}],
)
async def test_a_visitor_session_body_is_strict(server: Server, body: dict[str, Any]) -> None:
    async with server.http() as http:
        response = await http.post("/api/visitor/session", json=body)
    assert response.status_code == 422


async def test_staff_cannot_be_reached_with_an_id_past_64_bits(server: Server) -> None:
    login = await server.staff_session("admin")
    async with server.http(cookies={"willow_staff": login.cookie}) as http:
        response = await http.post(
            f"/api/admin/staff/{10**30}/training", json={"trained": True}, headers=login.headers
        )
    assert response.status_code == 422
