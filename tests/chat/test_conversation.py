"""A visitor and an adviser talk through a real server, as the pages would."""

from __future__ import annotations

from sqlalchemy import func, select

from chat.core.models import VisitorSession
from tests.wsclient import Server, connected_pair, staff, visitor


async def test_visitor_waits_then_talks_with_an_adviser(server: Server) -> None:
    her, _token = await visitor(server)
    await her.send({"type": "request_chat"})
    queued = await her.receive("queue")
    assert queued["position"] == 1

    login = await server.staff_session("adviser")
    adviser = await staff(server, login)
    snapshot = await adviser.receive("queue_snapshot")
    assert [w["conversation_id"] for w in snapshot["waiting"]] == [queued["conversation_id"]]

    await adviser.send({"type": "set_available", "available": True})
    await adviser.send({"type": "take_next"})
    assigned = await her.receive("assigned")
    assert assigned["adviser_name"] == login.display_name
    conversation = assigned["conversation_id"]

    await her.send(
        {"type": "message", "conversation_id": conversation, "client_id": "m1", "body": "hello"}
    )
    ack = await her.receive("ack", client_id="m1")
    got = await adviser.receive("message", client_id="m1")
    assert got["body"] == "hello" and got["sender"] == "visitor" and got["seq"] == ack["seq"]

    await adviser.send(
        {
            "type": "message",
            "conversation_id": conversation,
            "client_id": "a1",
            "body": "hi, I'm here",
        }
    )
    reply = await her.receive("message", client_id="a1")
    assert reply["sender"] == "adviser" and reply["sender_name"] == login.display_name

    await her.send({"type": "typing", "conversation_id": conversation, "active": True})
    assert (await adviser.receive("typing"))["from"] == "visitor"

    await adviser.send({"type": "end", "conversation_id": conversation})
    assert (await her.receive("ended"))["by"] == "adviser"
    await her.close()
    await adviser.close()


async def test_her_socket_closing_mid_word_clears_typing_for_the_adviser(server: Server) -> None:
    her, adviser, conversation, token = await connected_pair(server)
    await her.send({"type": "typing", "conversation_id": conversation, "active": True})
    assert (await adviser.receive("typing"))["active"] is True
    await her.close()
    # Told at once, not left to the page's indicator fading after some seconds.
    stopped = await adviser.receive("typing", timeout=5)
    assert (stopped["from"], stopped["active"]) == ("visitor", False)
    # A socket that said she stopped before closing says nothing more.
    again, _ = await visitor(server, token)
    await again.send({"type": "typing", "conversation_id": conversation, "active": True})
    await again.send({"type": "typing", "conversation_id": conversation, "active": False})
    assert [t["active"] for t in [await adviser.receive("typing") for _ in range(2)]] == [
        True,
        False,
    ]
    await again.close()
    await adviser.drain(0.5)
    assert len(adviser.of_type("typing")) == 4
    await adviser.close()


async def test_seqs_increase_and_both_sides_see_the_same_order(server: Server) -> None:
    her, adviser, conversation, _ = await connected_pair(server)
    for i in range(10):
        sender = her if i % 2 else adviser
        await sender.send(
            {
                "type": "message",
                "conversation_id": conversation,
                "client_id": f"c{i}",
                "body": str(i),
            }
        )
    for client in (her, adviser):
        for i in range(10):
            await client.receive("message", client_id=f"c{i}")
        seqs = [e["seq"] for e in client.of_type("message")]
        assert seqs == sorted(seqs) and len(set(seqs)) == 10
    assert [e["body"] for e in her.of_type("message")] == [
        e["body"] for e in adviser.of_type("message")
    ]


async def test_the_adviser_gets_a_staff_only_triage_summary_she_never_sees(server: Server) -> None:
    async with server.http() as http:
        response = await http.post(
            "/api/visitor/session",
            json={"language": "pl", "topic": "alcohol", "safe_to_talk": False, "nation": "wales"},
        )
    her, _ = await visitor(server, response.json()["token"])
    await her.send({"type": "request_chat"})
    await her.receive("queue")
    login = await server.staff_session("adviser")
    # Routing gives her chat to an adviser who reads Polish and knows substance use.
    await server.set_profile(login.username, languages=["en", "pl"], specialisms=["substance_use"])
    adviser = await staff(server, login)
    await adviser.send({"type": "take_next"})
    triage = await adviser.receive("triage")
    assert (triage["language"], triage["topic"], triage["safe_to_talk"], triage["nation"]) == (
        "pl",
        "alcohol",
        False,
        "wales",
    )
    await her.receive("assigned")
    await her.drain()
    assert not her.of_type("triage")


async def test_an_error_about_a_message_names_its_client_id(server: Server) -> None:
    her, _adviser, conversation, _ = await connected_pair(server)
    await her.send(
        {
            "type": "message",
            "conversation_id": conversation + 100,
            "client_id": "lost",
            "body": "hi",
        }
    )
    error = await her.receive("error")
    assert (error["code"], error["client_id"]) == ("not_found", "lost")


async def test_each_safety_answer_reaches_the_queue_and_triage_as_she_gave_it(
    server: Server,
) -> None:
    # Each first-screen answer, and none at all: left out, or null from an older page.
    answers: list[tuple[dict[str, object], object]] = [
        ({"safe_to_talk": True}, True),
        ({"safe_to_talk": False}, False),
        ({"safe_to_talk": "unsure"}, "unsure"),
        ({"safe_to_talk": None}, None),
        ({}, None),
    ]
    expected: dict[int, object] = {}
    async with server.http() as http:
        for body, answer in answers:
            response = await http.post("/api/visitor/session", json=body)
            assert response.status_code == 201, body
            her, _ = await visitor(server, response.json()["token"])
            await her.send({"type": "request_chat"})
            expected[(await her.receive("queue"))["conversation_id"]] = answer
    login = await server.staff_session("adviser")
    adviser = await staff(server, login)
    snapshot = await adviser.receive("queue_snapshot")
    assert {w["conversation_id"]: w["safe_to_talk"] for w in snapshot["waiting"]} == expected

    # One who arrives while the adviser watches comes in a change, with her answer.
    async with server.http() as http:
        response = await http.post("/api/visitor/session", json={"safe_to_talk": "unsure"})
    late, _ = await visitor(server, response.json()["token"])
    await late.send({"type": "request_chat"})
    late_id = (await late.receive("queue"))["conversation_id"]
    change = await adviser.receive("queue_changes", timeout=10)
    while late_id not in [w["conversation_id"] for w in change["added"]]:
        change = await adviser.receive("queue_changes", timeout=10)
    added = {w["conversation_id"]: w["safe_to_talk"] for w in change["added"]}
    assert added[late_id] == "unsure"

    # The adviser who takes the first chat reads her answer in the triage summary.
    await adviser.send({"type": "set_available", "available": True})
    await adviser.send({"type": "take_next"})
    triage = await adviser.receive("triage")
    assert triage["safe_to_talk"] == expected[triage["conversation_id"]]


async def test_a_safety_answer_outside_the_list_is_refused_and_nothing_is_kept(
    server: Server,
) -> None:
    async with server.http() as http:
        for bad in ("maybe", "Unsure", "yes", "not sure", 0, 1, [], {"unsure": True}):
            response = await http.post("/api/visitor/session", json={"safe_to_talk": bad})
            assert response.status_code == 422, bad
            detail = response.json()["detail"]
            assert "safe_to_talk" in str(detail), detail
    assert server.services is not None
    async with server.services.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(VisitorSession)) == 0
