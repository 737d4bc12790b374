"""Roles are enforced on every endpoint and event: nobody can act above their role."""

from __future__ import annotations

import pytest
import websockets

from tests.wsclient import Client, Server, connected_pair, staff, visitor


async def test_login_sets_a_strict_httponly_cookie_and_refuses_a_wrong_password(
    server: Server,
) -> None:
    username, password = await server.add_staff("adviser")
    async with server.http() as http:
        wrong = await http.post(
            "/api/staff/login", json={"username": username, "password": "nope" * 4}
        )
        assert wrong.status_code == 401
        unknown = await http.post(
            "/api/staff/login", json={"username": "ghost", "password": "x" * 12}
        )
        assert unknown.status_code == 401
        right = await http.post(
            "/api/staff/login", json={"username": username, "password": password}
        )
        assert right.status_code == 200
        cookie = right.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie


async def test_an_adviser_cannot_use_admin_endpoints(server: Server) -> None:
    adviser = await server.staff_session("adviser")
    new = {"username": "x1", "display_name": "X", "role": "admin", "password": "long-enough-pw"}
    async with server.http(cookies={"willow_staff": adviser.cookie}) as http:
        assert (await http.get("/api/admin/staff")).status_code == 403
        assert (
            await http.post("/api/admin/staff", json=new, headers=adviser.headers)
        ).status_code == 403


async def test_an_admin_adds_staff_only_with_the_csrf_token(server: Server) -> None:
    admin = await server.staff_session("admin")
    new = {
        "username": "mentor1",
        "display_name": "Amina",
        "role": "mentor",
        "password": "long-enough-pw",
    }
    async with server.http(cookies={"willow_staff": admin.cookie}) as http:
        assert (await http.post("/api/admin/staff", json=new)).status_code == 403
        created = await http.post("/api/admin/staff", json=new, headers=admin.headers)
        assert created.status_code == 201 and created.json()["role"] == "mentor"
        again = await http.post("/api/admin/staff", json=new, headers=admin.headers)
        assert again.status_code == 409
        bad = await http.post(
            "/api/admin/staff", json={**new, "role": "owner"}, headers=admin.headers
        )
        assert bad.status_code == 422
        names = [s["username"] for s in (await http.get("/api/admin/staff")).json()]
        assert "mentor1" in names


async def test_without_login_staff_endpoints_refuse(server: Server) -> None:
    token = await server.visitor_token()
    async with server.http() as http:
        assert (await http.get("/api/staff/me")).status_code == 401
        # Her token is no staff credential, whichever way it is sent.
        headers = {"authorization": f"Bearer {token}"}
        assert (await http.get("/api/admin/staff", headers=headers)).status_code == 401
    async with server.http(cookies={"willow_staff": token}) as http:
        assert (await http.get("/api/admin/staff")).status_code == 401


async def test_a_visitor_token_cannot_act_as_staff_on_the_socket(server: Server) -> None:
    her, _ = await visitor(server)
    for event in (
        {"type": "take_next"},
        {"type": "set_available", "available": True},
        {"type": "join", "conversation_id": 1},
    ):
        await her.send(event)
        assert (await her.receive("error"))["code"] == "forbidden"


async def test_staff_cannot_ask_for_a_chat_and_advisers_only_see_their_own(server: Server) -> None:
    _her, _adviser, conversation, _ = await connected_pair(server)
    other = await staff(server, await server.staff_session("adviser"))
    await other.send({"type": "request_chat"})
    assert (await other.receive("error"))["code"] == "forbidden"
    await other.send({"type": "join", "conversation_id": conversation})
    assert (await other.receive("error"))["code"] == "not_found"
    await other.send(
        {"type": "message", "conversation_id": conversation, "client_id": "x", "body": "hi"}
    )
    assert (await other.receive("error"))["code"] == "not_found"

    supervisor = await staff(server, await server.staff_session("supervisor"))
    await supervisor.send({"type": "join", "conversation_id": conversation})
    await supervisor.receive("assigned", conversation_id=conversation)


async def test_a_visitor_cannot_write_into_another_visitors_chat(server: Server) -> None:
    _her, _adviser, conversation, _ = await connected_pair(server)
    stranger, _ = await visitor(server)
    await stranger.send(
        {"type": "message", "conversation_id": conversation, "client_id": "x", "body": "hi"}
    )
    assert (await stranger.receive("error"))["code"] == "not_found"


async def test_a_socket_from_another_origin_is_refused(server: Server) -> None:
    with pytest.raises(websockets.InvalidStatus):
        await Client.open(server, origin="https://evil.example")


async def test_an_admin_records_training_and_it_is_audited(server: Server) -> None:
    admin = await server.staff_session("admin")
    mentor = await server.staff_session("mentor")
    async with server.http(cookies={"willow_staff": admin.cookie}) as http:
        staff_list = (await http.get("/api/admin/staff")).json()
        mentor_id = next(s["id"] for s in staff_list if s["username"] == mentor.username)
        url = f"/api/admin/staff/{mentor_id}/training"
        assert (await http.post(url, json={"trained": True})).status_code == 403  # no CSRF token
        done = await http.post(
            url, json={"trained": True, "note": "groups course"}, headers=admin.headers
        )
        assert done.status_code == 200 and done.json()["trained"] is True
        assert (
            await http.post(url, json={"trained": "yes"}, headers=admin.headers)
        ).status_code == 422
        missing = await http.post(
            "/api/admin/staff/999999/training", json={"trained": True}, headers=admin.headers
        )
        assert missing.status_code == 404
    async with server.http(cookies={"willow_staff": mentor.cookie}) as http:
        assert (
            await http.post(url, json={"trained": True}, headers=mentor.headers)
        ).status_code == 403
