"""Continuity: a return code at the end, the same adviser and the hand-over when she comes back."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from chat.core.clock import now
from chat.core.models import Conversation, ReturnCode
from chat.helpline.continuity import code_hash, load_words, normalise
from chat.helpline.retention import purge_expired
from tests.wsclient import Client, Server, StaffLogin, connected_pair, staff, visitor


async def _ended_chat(
    server: Server, summary: str | None = None
) -> tuple[Client, Client, int, StaffLogin]:
    login = await server.staff_session("adviser")
    adviser = await staff(server, login)
    her, _ = await visitor(server)
    await her.send({"type": "request_chat"})
    conversation = (await her.receive("queue"))["conversation_id"]
    await adviser.send({"type": "set_available", "available": True})
    await adviser.send({"type": "take_next"})
    await her.receive("assigned")
    if summary is not None:
        await adviser.send(
            {"type": "handover_summary", "conversation_id": conversation, "summary": summary}
        )
        shown = await her.receive("summary", conversation_id=conversation)
        assert shown["summary"] == summary
    await adviser.send({"type": "end", "conversation_id": conversation})
    await her.receive("ended")
    return her, adviser, conversation, login


def test_the_word_list_is_long_simple_and_free_of_repeats() -> None:
    words = load_words()
    assert len(words) >= 1800 and len(set(words)) == len(words)
    assert all(w.isalpha() and w.islower() and len(w) <= 8 for w in words)
    assert not {"abuse", "knife", "police", "kill", "secret"} & set(words)
    assert normalise("  Apple-RIVER.ocean  Table ") == "apple-river-ocean-table"


async def test_a_return_code_brings_her_back_to_the_same_adviser_with_the_summary(
    server: Server,
) -> None:
    her, adviser, conversation, login = await _ended_chat(server, "Talked about a safe place.")
    await her.send(
        {"type": "take_return_code", "conversation_id": conversation, "keep_summary": True}
    )
    code = await her.receive("return_code", conversation_id=conversation)
    words = code["words"]
    assert len(words) == 4 and set(words) <= set(load_words()) and code["summary_kept"]

    # Stored only as a keyed hash: no word of it is in the database.
    assert server.services is not None
    async with server.services.db.read() as session:
        row = (await session.execute(select(ReturnCode))).scalar_one()
    assert row.code_hash == code_hash(server.services, " ".join(words))
    assert all(word not in row.code_hash for word in words)
    assert row.summary == "Talked about a safe place."

    # Shown once: a second code for the same chat is refused.
    await her.send(
        {"type": "take_return_code", "conversation_id": conversation, "keep_summary": False}
    )
    assert (await her.receive("error", ref="take_return_code"))["code"] == "return_code_taken"
    await her.close()

    # Days later, a new session: she types the words back, in her own way.
    back, _ = await visitor(server)
    await back.send({"type": "come_back", "code": "  " + " - ".join(w.upper() for w in words)})
    offer = await back.receive("returning")
    assert offer["adviser_name"] == login.display_name
    new_conversation = offer["conversation_id"]
    assert new_conversation != conversation
    await back.receive("queue", conversation_id=new_conversation)
    await back.send({"type": "wait_for_adviser", "conversation_id": new_conversation, "wait": True})
    await back.receive("waiting_for_adviser", wait=True)

    # Another adviser does not get her: she is waiting for hers.
    other = await staff(server, await server.staff_session("adviser"))
    await other.send({"type": "set_available", "available": True})
    await other.send({"type": "take_next"})
    assert (await other.receive("error"))["code"] == "queue_empty"

    await adviser.send({"type": "take_next"})
    await back.receive("assigned", conversation_id=new_conversation)
    handover = await adviser.receive("handover", conversation_id=new_conversation)
    assert handover["summary"] == "Talked about a safe place."
    assert handover["previous_adviser"] == login.display_name
    await back.drain(0.2)
    assert back.of_type("handover") == [], "the hand-over is for staff only"
    for client in (back, adviser, other):
        await client.close()


async def test_without_her_agreement_no_summary_is_kept_and_a_wrong_code_is_refused(
    server: Server,
) -> None:
    her, adviser, conversation, _ = await _ended_chat(server, "Private things.")
    await her.send(
        {"type": "take_return_code", "conversation_id": conversation, "keep_summary": False}
    )
    code = await her.receive("return_code")
    assert code["summary_kept"] is False
    assert server.services is not None
    async with server.services.db.read() as session:
        assert (await session.execute(select(ReturnCode.summary))).scalar_one() is None

    guess, _ = await visitor(server)
    await guess.send({"type": "come_back", "code": "apple river ocean table"})
    assert (await guess.receive("error", ref="come_back"))["code"] == "return_code_unknown"
    for _ in range(4):
        await guess.send({"type": "come_back", "code": "apple river ocean table"})
    await guess.send({"type": "come_back", "code": " ".join(code["words"])})
    limited = await guess.receive("error", ref="come_back", code="too_many")
    assert limited["retry_after"] > 0

    # Coming back while a chat is open is refused and changes nothing.
    await her.close()
    back, _ = await visitor(server)
    await back.send({"type": "request_chat"})
    await back.receive("queue")
    await back.send({"type": "come_back", "code": " ".join(code["words"])})
    assert (await back.receive("error"))["code"] == "already_waiting"
    for client in (adviser, guess, back):
        await client.close()


async def test_only_her_ended_chat_with_an_adviser_gets_a_code(server: Server) -> None:
    her, adviser, conversation, _ = await connected_pair(server)
    await her.send(
        {"type": "take_return_code", "conversation_id": conversation, "keep_summary": True}
    )
    assert (await her.receive("error", ref="take_return_code"))["code"] == "not_found"
    await adviser.send(
        {"type": "take_return_code", "conversation_id": conversation, "keep_summary": True}
    )
    assert (await adviser.receive("error", ref="take_return_code"))["code"] == "forbidden"
    await her.send({"type": "handover_summary", "conversation_id": conversation, "summary": "x"})
    assert (await her.receive("error", ref="handover_summary"))["code"] == "forbidden"
    await adviser.send(
        {"type": "handover_summary", "conversation_id": conversation, "summary": "x" * 1001}
    )
    assert (await adviser.receive("error"))["code"] == "invalid"
    for client in (her, adviser):
        await client.close()


async def test_the_code_goes_with_the_transcript(server: Server) -> None:
    her, adviser, conversation, _ = await _ended_chat(server)
    await her.send(
        {"type": "take_return_code", "conversation_id": conversation, "keep_summary": True}
    )
    code = await her.receive("return_code")
    assert server.services is not None
    async with server.services.db.read() as session:
        # No summary written: the short one from the chat's own facts.
        kept = (await session.execute(select(ReturnCode.summary))).scalar_one()
    assert kept is not None and kept.startswith("Talked with ")
    days = server.services.settings.transcript_retention_days
    assert await purge_expired(server.services, now() + timedelta(days=days + 1)) == 1
    async with server.services.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(ReturnCode)) == 0
        assert await session.get(Conversation, conversation) is None
    back, _ = await visitor(server)
    await back.send({"type": "come_back", "code": " ".join(code["words"])})
    assert (await back.receive("error", ref="come_back"))["code"] == "return_code_unknown"
    for client in (her, adviser, back):
        await client.close()


async def test_bad_input_on_coming_back_is_refused_and_changes_nothing(server: Server) -> None:
    her, _ = await visitor(server)
    await her.send({"type": "come_back", "code": "x" * 201})
    assert (await her.receive("error"))["code"] == "invalid"
    await her.send({"type": "come_back", "code": ""})
    assert (await her.receive("error"))["code"] == "invalid"
    await her.send({"type": "come_back", "code": 1234})
    assert (await her.receive("error"))["code"] == "invalid"
    # Not having come back with a code, there is no adviser to wait for.
    await her.send({"type": "request_chat"})
    conversation = (await her.receive("queue"))["conversation_id"]
    await her.send({"type": "wait_for_adviser", "conversation_id": conversation, "wait": True})
    assert (await her.receive("error", ref="wait_for_adviser"))["code"] == "not_found"
    await her.send({"type": "wait_for_adviser", "conversation_id": conversation, "wait": "yes"})
    assert (await her.receive("error"))["code"] == "invalid"
    # Her place in the queue is untouched by all of it.
    await her.send(
        {"type": "message", "conversation_id": conversation, "client_id": "k", "body": "still here"}
    )
    await her.receive("ack", client_id="k")
    assert server.services is not None
    async with server.services.db.read() as session:
        stored = await session.get(Conversation, conversation)
        codes = await session.scalar(select(func.count()).select_from(ReturnCode))
    assert stored is not None and stored.status == "waiting" and codes == 0
    await her.close()
