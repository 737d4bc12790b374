"""Supervisors' alerts are kept until one supervisor acknowledges them (issue 14)."""

from __future__ import annotations

from typing import Any

from tests.chat.lifecycle import post_token
from tests.wsclient import Server, StaffLogin, connected_pair, staff

IMMINENT = "I've taken all my pills, I want to die tonight"


async def _open(server: Server, who: StaffLogin) -> list[dict[str, Any]]:
    async with server.http(cookies={"willow_staff": who.cookie}) as http:
        response = await http.get("/api/alerts")
    assert response.status_code == 200, response.text
    listed: list[dict[str, Any]] = response.json()
    return listed


async def _acknowledge(server: Server, who: StaffLogin, alert_id: int) -> int:
    async with server.http(cookies={"willow_staff": who.cookie}) as http:
        response = await http.post(f"/api/alerts/{alert_id}/acknowledge", headers=who.headers)
    return response.status_code


async def _audit(server: Server, who: StaffLogin, action: str) -> list[dict[str, Any]]:
    async with server.http(cookies={"willow_staff": who.cookie}) as http:
        entries: list[dict[str, Any]] = (await http.get(f"/api/audit?action={action}")).json()
    return entries


async def test_a_supervisor_who_logs_in_later_sees_the_alert_until_one_acknowledges_it(
    server: Server,
) -> None:
    her, adviser, conversation, _ = await connected_pair(server)
    await her.send(
        {"type": "message", "conversation_id": conversation, "client_id": "d1", "body": IMMINENT}
    )
    await adviser.receive("flag")

    # No supervisor was logged in when she wrote; two log in afterwards.
    late, other = await server.staff_session("supervisor"), await server.staff_session("supervisor")
    (stored,) = await _open(server, late)
    assert stored["kind"] == "risk" and stored["conversation_id"] == conversation
    assert stored["level"] == "imminent" and stored["phrases"]
    other_socket = await staff(server, other)

    assert await _acknowledge(server, late, stored["alert_id"]) == 204
    gone = await other_socket.receive("alert_acknowledged")
    assert gone["alert_id"] == stored["alert_id"] and gone["by"] == late.display_name
    assert await _open(server, other) == []
    # Once only: the second supervisor's click finds it done.
    assert await _acknowledge(server, other, stored["alert_id"]) == 409
    assert await _acknowledge(server, other, 10**9) == 404
    (entry,) = await _audit(server, late, "alert.acknowledged")
    assert entry["subject"] == f"alert:{stored['alert_id']}" and entry["details"] == {
        "kind": "risk"
    }
    assert IMMINENT not in str(entry)


async def test_a_live_alert_carries_the_id_to_acknowledge_and_escalations_are_kept_too(
    server: Server,
) -> None:
    supervisor_login = await server.staff_session("supervisor")
    supervisor = await staff(server, supervisor_login)
    her, adviser, conversation, _ = await connected_pair(server)
    await adviser.send(
        {
            "type": "escalate",
            "conversation_id": conversation,
            "level": "emergency",
            "reason": "she says he is outside",
            "consent": "given",
        }
    )
    live = await supervisor.receive("alert", kind="escalation")
    (stored,) = await _open(server, supervisor_login)
    assert (
        stored["alert_id"] == live["alert_id"] and stored["escalation_id"] == live["escalation_id"]
    )
    await her.close()


async def test_only_supervisors_and_admins_read_or_acknowledge_alerts(server: Server) -> None:
    her, adviser_socket, conversation, _ = await connected_pair(server)
    await her.send(
        {"type": "message", "conversation_id": conversation, "client_id": "d1", "body": IMMINENT}
    )
    await adviser_socket.receive("flag")
    adviser = await server.staff_session("adviser")
    async with server.http(cookies={"willow_staff": adviser.cookie}) as http:
        assert (await http.get("/api/alerts")).status_code == 403
        refused = await http.post("/api/alerts/1/acknowledge", headers=adviser.headers)
        assert refused.status_code == 403
    admin = await server.staff_session("admin")
    assert len(await _open(server, admin)) == 1


async def test_her_alerts_go_when_she_deletes_her_conversation(server: Server) -> None:
    her, adviser, conversation, token = await connected_pair(server)
    await her.send(
        {"type": "message", "conversation_id": conversation, "client_id": "d1", "body": IMMINENT}
    )
    await adviser.receive("flag")
    supervisor = await server.staff_session("supervisor")
    assert len(await _open(server, supervisor)) == 1
    assert await post_token(server, "/api/visitor/forget", token) == 204
    assert await _open(server, supervisor) == []
