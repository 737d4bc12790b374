"""The one message pipeline, one to one: a resend is a duplicate before any limit, a refusal
says when to retry, refused attempts never lock her out, and a message reads nothing before
it is written."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from chat.core.db import Database
from tests.wsclient import Client, Server, connected_pair, visitor

# moderation.limits.Limits: at most this many messages in its window.
PER_WINDOW = 8


async def _write(client: Client, conversation: int, client_id: str, body: str) -> None:
    await client.send(
        {"type": "message", "conversation_id": conversation, "client_id": client_id, "body": body}
    )


async def _sent(client: Client, conversation: int, client_id: str, body: str) -> dict[str, Any]:
    await _write(client, conversation, client_id, body)
    return await client.receive("ack", client_id=client_id)


async def test_a_resend_of_an_acked_message_is_a_duplicate_not_too_fast(server: Server) -> None:
    her, adviser, conversation, _ = await connected_pair(server)
    acks = [await _sent(her, conversation, f"m{i}", f"message number {i}") for i in range(8)]
    await _write(her, conversation, "m0", "message number 0")
    again = await her.receive("ack", client_id="m0")
    assert again["duplicate"] is True and again["seq"] == acks[0]["seq"]
    assert [e for e in her.of_type("error") if e.get("client_id") == "m0"] == []
    # A new message is still too fast, and is told when to try again.
    await _write(her, conversation, "m8", "one more")
    refused = await her.receive("error", code="refused", client_id="m8")
    assert refused["reason"] == "too_fast" and refused["ref"] == "message"
    assert 1 <= refused["retry_after"] <= 10
    await adviser.drain(0.3)
    assert [m["client_id"] for m in adviser.of_type("message")].count("m0") == 1
    for client in (her, adviser):
        await client.close()


async def test_a_resend_from_another_connection_is_found_in_storage(server: Server) -> None:
    her, adviser, conversation, token = await connected_pair(server)
    first = await _sent(her, conversation, "early", "the first thing I said")
    # Her page reconnected; the new socket knows nothing of what the old one was acked.
    again, _ = await visitor(server, token)
    # Her session's window is full (it counts across her sockets): the resend meets the limit.
    for i in range(PER_WINDOW - 1):
        await _sent(again, conversation, f"n{i}", f"new line {i}")
    await _write(again, conversation, "early", "the first thing I said")
    answer = await again.receive("ack", client_id="early")
    assert answer["duplicate"] is True and answer["seq"] == first["seq"]
    for client in (her, again, adviser):
        await client.close()


async def test_refused_attempts_do_not_lock_a_retrying_client_out(server: Server) -> None:
    her, adviser, conversation, _ = await connected_pair(server)
    for i in range(PER_WINDOW):
        await _sent(her, conversation, f"m{i}", f"line {i}")
    waits = []
    for attempt in range(12):
        await _write(her, conversation, "late", "are you still there")
        refused = await her.receive("error", code="refused", client_id="late")
        waits.append(refused["retry_after"])
        await asyncio.sleep(0.1 if attempt < 11 else 0)
    # Each attempt was refused without counting: the wait only shrinks.
    assert waits == sorted(waits, reverse=True)
    await asyncio.sleep(waits[-1])
    accepted = await _sent(her, conversation, "late", "are you still there")
    assert accepted["duplicate"] is False
    await adviser.receive("message", client_id="late")
    for client in (her, adviser):
        await client.close()


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """Every SQL statement the app's engine runs while inside."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement.lstrip().split(None, 1)[0].upper())

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


async def test_a_message_makes_no_read_before_its_write(server: Server) -> None:
    her, adviser, conversation, _ = await connected_pair(server)
    await _sent(her, conversation, "warm", "hello")
    await adviser.drain(0.3)
    assert server.services is not None
    # The node's own background work (presence beats and sweeps, housekeeping) may read at
    # any moment, also inside the window: the message's own path reads nothing, so of three
    # messages, at least one window holds no read (a read on the path would be in all three).
    windows = []
    for number in range(3):
        with statements(server.services.db) as seen:
            await _sent(her, conversation, f"one-{number}", f"how are you ({number})")
        windows.append(seen)
        if "SELECT" not in seen:
            break
    # The message's own write is not in the window: the appender's batches go through their
    # own writer (SQLite's thread, PostgreSQL's asyncpg connection), not the engine.
    assert "SELECT" not in windows[-1], windows
    for client in (her, adviser):
        await client.close()
