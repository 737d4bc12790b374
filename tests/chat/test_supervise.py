"""A supervisor joins a chat visibly (issue 14): she and the adviser both see a stored `joined`
event, the supervisor may write, the join is audited, and a reconnected console gets it back."""

from __future__ import annotations

from sqlalchemy import select

from chat.core.models import AuditEntry
from tests.wsclient import Server, connected_pair, staff


async def _audited(server: Server, action: str) -> list[str]:
    assert server.services is not None
    async with server.services.db.read() as session:
        rows = await session.scalars(select(AuditEntry.subject).where(AuditEntry.action == action))
        return list(rows.all())


async def test_a_supervisor_joins_visibly_and_may_write(server: Server) -> None:
    her, adviser, chat, _ = await connected_pair(server)
    await her.send({"type": "message", "conversation_id": chat, "client_id": "a", "body": "hi"})
    await adviser.receive("message", client_id="a")
    login = await server.staff_session("supervisor", "wyn")
    boss = await staff(server, login)

    # Before joining she may not write in it.
    await boss.send({"type": "message", "conversation_id": chat, "client_id": "s0", "body": "x"})
    assert (await boss.receive("error"))["code"] == "not_found"

    await boss.send({"type": "supervise", "conversation_id": chat})
    assert (await boss.receive("supervising"))["conversations"] == [chat]
    for side in (her, adviser, boss):
        joined = await side.receive("joined", conversation_id=chat)
        assert (joined["role"], joined["name"]) == ("supervisor", "Wyn")
    # She sees the whole chat, and writes in it: both others get it.
    assert (await boss.receive("message", client_id="a"))["body"] == "hi"
    await boss.send(
        {"type": "message", "conversation_id": chat, "client_id": "s1", "body": "I'm here too"}
    )
    await boss.receive("ack", client_id="s1")
    for side in (her, adviser):
        assert (await side.receive("message", client_id="s1"))["body"] == "I'm here too"
    assert await _audited(server, "conversation.supervisor_joined") == [f"conversation:{chat}"]

    # Joining again stores nothing new; a reconnected console is given the chat back.
    await boss.send({"type": "supervise", "conversation_id": chat})
    await boss.receive("supervising")
    again = await staff(server, login, resume=[])
    assert (await again.receive("supervising"))["conversations"] == [chat]
    await again.send(
        {"type": "message", "conversation_id": chat, "client_id": "s2", "body": "Still here"}
    )
    await again.receive("ack", client_id="s2")
    await her.drain(0.3)
    assert len(her.of_type("joined")) == 1
    assert await _audited(server, "conversation.supervisor_joined") == [f"conversation:{chat}"]


async def test_only_supervisors_join_and_only_active_chats(server: Server) -> None:
    _her, adviser, chat, _ = await connected_pair(server)
    other = await staff(server, await server.staff_session("adviser", "pat"))
    await other.send({"type": "supervise", "conversation_id": chat})
    error = await other.receive("error")
    assert (error["code"], error["ref"]) == ("forbidden", "supervise")
    boss = await staff(server, await server.staff_session("supervisor", "wyn"))
    await boss.send({"type": "supervise", "conversation_id": 999_999})
    assert (await boss.receive("error"))["code"] == "not_found"
    await adviser.send({"type": "end", "conversation_id": chat})
    await adviser.receive("ended")
    await boss.send({"type": "supervise", "conversation_id": chat})
    error = await boss.receive("error")
    assert (error["code"], error["ref"]) == ("conversation_ended", "supervise")
    assert await _audited(server, "conversation.supervisor_joined") == []
