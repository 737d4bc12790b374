"""Staff tools over HTTP: the audit log, the directory, and the wording checker."""

from __future__ import annotations

from tests.wsclient import Server, connected_pair, staff


async def test_the_audit_log_is_for_supervisors_and_can_be_filtered(server: Server) -> None:
    _her, _adviser, conversation, _ = await connected_pair(server)
    supervisor_login = await server.staff_session("supervisor")
    watcher = await staff(server, supervisor_login)
    await watcher.send({"type": "join", "conversation_id": conversation})
    await watcher.receive("assigned")
    adviser_login = await server.staff_session("adviser")
    async with server.http(cookies={"willow_staff": supervisor_login.cookie}) as http:
        entries = (await http.get("/api/audit", params={"action": "transcript"})).json()
        assert [e["subject"] for e in entries] == [f"conversation:{conversation}"]
        assert (await http.get("/api/audit", params={"action": "report"})).json() == []
        assert (await http.get("/api/audit", params={"limit": 0})).status_code == 422
        assert (await http.get("/api/audit", params={"since": "yesterday"})).status_code == 422
    async with server.http(cookies={"willow_staff": adviser_login.cookie}) as http:
        assert (await http.get("/api/audit")).status_code == 403


async def test_staff_search_the_directory(server: Server) -> None:
    login = await server.staff_session("adviser")
    async with server.http(cookies={"willow_staff": login.cookie}) as http:
        found = (await http.get("/api/directory", params={"q": "drink"})).json()
        assert any(h["name"] == "Drinkline" for h in found)
        welsh = (
            await http.get(
                "/api/directory", params={"category": "domestic_abuse_danger", "nation": "wales"}
            )
        ).json()
        assert any("Live Fear Free" in h["name"] for h in welsh)
        bad = await http.get("/api/directory", params={"category": "gardening"})
        assert bad.status_code == 400 and "unknown category" in bad.json()["detail"]
    async with server.http() as http:
        assert (await http.get("/api/directory")).status_code == 401


async def test_wording_suggestions_for_drafts_and_sent_messages(server: Server) -> None:
    login = await server.staff_session("adviser")
    async with server.http(cookies={"willow_staff": login.cookie}) as http:
        response = await http.post(
            "/api/staff/wording", json={"text": "She is an addict"}, headers=login.headers
        )
        assert response.status_code == 200
        assert [s["phrase"].lower() for s in response.json()] == ["addict"]
        assert (
            await http.post("/api/staff/wording", json={"text": 5}, headers=login.headers)
        ).status_code == 422
    her, adviser, conversation, _ = await connected_pair(server)
    await adviser.send(
        {
            "type": "message",
            "conversation_id": conversation,
            "client_id": "w",
            "body": "you must stop",
        }
    )
    ack = await adviser.receive("ack", client_id="w")
    assert ack["wording"] and ack["wording"][0]["suggestion"]
    # It suggests; it never blocks: she still got the message.
    assert (await her.receive("message", client_id="w"))["body"] == "you must stop"
