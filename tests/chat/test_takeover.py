"""A supervisor takes a chat over from its adviser (issue 14): one commit moves it, she is told
someone else is now talking with her, the adviser's console lets it go and is told why, and it
is audited. And the refusals: not a supervisor, no such chat, an ended chat, her own chat."""

from __future__ import annotations

from sqlalchemy import select

from chat.core.models import AuditEntry, Conversation, Staff
from tests.wsclient import Server, connected_pair, staff


async def test_a_supervisor_takes_a_chat_over_with_a_note(server: Server) -> None:
    assert server.services is not None
    her, adviser, chat, _ = await connected_pair(server)
    await her.send({"type": "message", "conversation_id": chat, "client_id": "a", "body": "hi"})
    await adviser.receive("message", client_id="a")
    login = await server.staff_session("supervisor", "wyn")
    boss = await staff(server, login)

    await boss.send({"type": "take_over", "conversation_id": chat, "note": "She needs urgent help"})
    await boss.receive("took_over", conversation_id=chat)
    assert (await her.receive("taken_over"))["adviser_name"] == "Wyn"
    away = await adviser.receive("taken_away", conversation_id=chat)
    assert (away["by"], away["note"]) == ("Wyn", "She needs urgent help")
    # The supervisor's console has the whole chat, the staff-only note with it.
    assert (await boss.receive("message", client_id="a"))["body"] == "hi"
    note = await boss.receive("takeover_note", conversation_id=chat)
    assert (note["by"], note["note"]) == ("Wyn", "She needs urgent help")
    await boss.send({"type": "message", "conversation_id": chat, "client_id": "w", "body": "Hello"})
    await boss.receive("ack", client_id="w")
    assert (await her.receive("message", client_id="w"))["body"] == "Hello"
    # The adviser can no longer write in it; she never saw the note.
    await adviser.send({"type": "message", "conversation_id": chat, "client_id": "x", "body": "x"})
    assert (await adviser.receive("error"))["code"] == "not_found"
    await her.drain(0.2)
    assert "takeover_note" not in her.types()

    async with server.services.db.read() as session:
        conversation = await session.get(Conversation, chat)
        boss_id = await session.scalar(select(Staff.id).where(Staff.username == login.username))
        audit = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "conversation.taken_over")
            )
        ).all()
    assert conversation is not None and conversation.adviser_id == boss_id
    assert [(a.actor, a.subject, a.reason) for a in audit] == [
        (f"staff:{boss_id}", f"conversation:{chat}", "She needs urgent help")
    ]
    # After a reload the chat is on her list as her own.
    again = await staff(server, login)
    assert chat in again.of_type("welcome")[0]["conversations"]


async def test_take_over_refusals(server: Server) -> None:
    _her, adviser, chat, _ = await connected_pair(server)
    other = await staff(server, await server.staff_session("adviser", "pat"))
    await other.send({"type": "take_over", "conversation_id": chat})
    error = await other.receive("error")
    assert (error["code"], error["ref"]) == ("forbidden", "take_over")

    boss = await staff(server, await server.staff_session("supervisor", "wyn"))
    await boss.send({"type": "take_over", "conversation_id": 999_999})
    assert (await boss.receive("error"))["code"] == "not_found"
    await boss.send({"type": "take_over", "conversation_id": chat, "note": "x" * 2001})
    assert (await boss.receive("error"))["code"] == "invalid"

    await boss.send({"type": "take_over", "conversation_id": chat})
    await boss.receive("took_over")
    await boss.send({"type": "take_over", "conversation_id": chat})
    error = await boss.receive("error")
    assert (error["code"], error["ref"]) == ("invalid", "take_over")

    await boss.send({"type": "end", "conversation_id": chat})
    await boss.receive("ended", conversation_id=chat)
    second = await staff(server, await server.staff_session("supervisor", "ada"))
    await second.send({"type": "take_over", "conversation_id": chat})
    error = await second.receive("error")
    assert (error["code"], error["ref"]) == ("conversation_ended", "take_over")
    # Nothing more was stored or audited by the refusals.
    assert server.services is not None
    async with server.services.db.read() as session:
        audited = (
            await session.scalars(
                select(AuditEntry.id).where(AuditEntry.action == "conversation.taken_over")
            )
        ).all()
    assert len(audited) == 1
    await adviser.drain(0.1)
