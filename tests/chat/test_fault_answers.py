"""Every answer to a client event names it, and resume fits every chat a staff member holds."""

from __future__ import annotations

import orjson

from chat.core.protocol import MAX_RESUME, MAX_STORED_INT
from chat.core.settings import Settings
from tests.conftest import running_server
from tests.wsclient import Server, staff, visitor


async def test_take_next_errors_name_the_event(settings: Settings) -> None:
    async with running_server(settings.model_copy(update={"adviser_capacity": 1})) as server:
        adviser = await staff(server, await server.staff_session("adviser"))
        await adviser.send({"type": "set_available", "available": True})
        await adviser.receive("status")
        await adviser.send({"type": "take_next"})
        empty = await adviser.receive("error")
        assert (empty["code"], empty["ref"]) == ("queue_empty", "take_next")

        for _ in range(2):
            her, _token = await visitor(server)
            await her.send({"type": "request_chat"})
            await her.receive("queue")
        await adviser.send({"type": "take_next"})
        await adviser.receive("assigned")
        await adviser.send({"type": "take_next"})
        full = await adviser.receive("error")
        assert (full["code"], full["ref"]) == ("at_capacity", "take_next")
        await adviser.close()


async def test_a_message_error_names_the_message_and_its_client_id(server: Server) -> None:
    her, _token = await visitor(server)
    # Not her conversation: refused by the handler, after decoding, so it can name both.
    await her.send({"type": "message", "conversation_id": 999, "client_id": "c-1", "body": "hi"})
    error = await her.receive("error")
    assert (error["code"], error["ref"], error["client_id"]) == ("not_found", "message", "c-1")
    await her.close()


async def test_resume_holds_every_chat_of_the_largest_capacity_in_one_frame() -> None:
    largest = next(
        m.le for m in Settings.model_fields["adviser_capacity"].metadata if hasattr(m, "le")
    )
    assert largest <= MAX_RESUME
    points = [{"conversation_id": MAX_STORED_INT, "last_seq": MAX_STORED_INT}] * MAX_RESUME
    frame = orjson.dumps({"type": "hello", "v": 1, "resume": points})
    assert len(frame) <= Settings(secret_key="x" * 48).max_frame_bytes
