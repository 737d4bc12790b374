"""Transcripts go after the retention period; she can delete hers at once; reads are audited."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from chat.core.clock import now
from chat.core.models import AuditEntry, Conversation, Event, VisitorSession
from chat.helpline.retention import purge_expired
from tests.wsclient import Client, Server, connected_pair, staff


async def _count(server: Server, model: type) -> int:
    assert server.services is not None
    async with server.services.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_ended_conversations_are_purged_after_the_retention_period(server: Server) -> None:
    her, adviser, conversation, _ = await connected_pair(server)
    await her.send(
        {"type": "message", "conversation_id": conversation, "client_id": "m", "body": "hi"}
    )
    await adviser.receive("message", client_id="m")
    assert server.services is not None
    assert await purge_expired(server.services) == 0  # still active

    await adviser.send({"type": "end", "conversation_id": conversation})
    await her.receive("ended")
    days = server.services.settings.transcript_retention_days
    assert await purge_expired(server.services, now() + timedelta(days=days - 1)) == 0
    assert await _count(server, Event) == 4  # assigned, triage, message, ended
    assert await purge_expired(server.services, now() + timedelta(days=days, minutes=1)) == 1
    assert (await _count(server, Event), await _count(server, Conversation)) == (0, 0)
    assert await _count(server, VisitorSession) == 0


async def test_she_can_delete_her_conversation_now(server: Server) -> None:
    her, adviser, conversation, token = await connected_pair(server)
    await her.send(
        {"type": "message", "conversation_id": conversation, "client_id": "m", "body": "hi"}
    )
    await adviser.receive("message", client_id="m")
    async with server.http() as http:
        assert (
            await http.post("/api/visitor/forget", content='{"token": "wrong"}')
        ).status_code == 404
        assert (await http.post("/api/visitor/forget", content="{")).status_code == 400
        assert (
            await http.post("/api/visitor/forget", content=f'{{"token": "{token}"}}')
        ).status_code == 204
    assert (await adviser.receive("ended"))["by"] == "visitor"
    assert (await _count(server, Event), await _count(server, VisitorSession)) == (0, 0)
    again = await Client.open(server)
    await again.send({"type": "hello", "v": 1, "token": token})
    assert (await again.receive("error"))["code"] == "unauthorized"


async def test_a_supervisor_reading_a_transcript_is_audited(server: Server) -> None:
    _her, _adviser, conversation, _ = await connected_pair(server)
    supervisor = await staff(server, await server.staff_session("supervisor"))
    await supervisor.send({"type": "join", "conversation_id": conversation})
    await supervisor.receive("assigned")
    assert server.services is not None
    async with server.services.db.read() as session:
        entries = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "transcript.view"))
        ).all()
    assert [e.subject for e in entries] == [f"conversation:{conversation}"]


async def test_an_adviser_in_her_own_live_chat_is_not_audited_as_reading_a_transcript(
    server: Server,
) -> None:
    _her, adviser, conversation, _ = await connected_pair(server)
    await adviser.send({"type": "join", "conversation_id": conversation})
    await adviser.send({"type": "ping"})
    await adviser.receive("pong")
    assert server.services is not None
    async with server.services.db.read() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "transcript.view")
        )
    assert count == 0
