"""Nothing stored or logged could identify her: no address, no browser, no message text in logs."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from chat.core.models import Base
from tests.wsclient import Server, connected_pair

SECRET_WORDS = "my address is 12 Elm Road and he is home at six"


async def test_no_address_or_browser_is_stored_and_logs_hold_no_text(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    her, adviser, conversation, token = await connected_pair(server)
    await her.send(
        {"type": "message", "conversation_id": conversation, "client_id": "s", "body": SECRET_WORDS}
    )
    await adviser.receive("message", client_id="s")

    assert server.services is not None
    dump: list[str] = []
    async with server.services.db.read() as session:
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(select(table))).all()
            dump.extend(str(value) for row in rows for value in row)
    stored = "\n".join(dump)
    assert "127.0.0.1" not in stored
    assert "python-httpx" not in stored and "Python/" not in stored and "websockets" not in stored
    assert token not in stored  # only its keyed hash

    # The test's own HTTP client logs its requests; only what the server logs counts here.
    server_records = [r for r in caplog.records if not r.name.startswith(("httpcore", "httpx"))]
    logged = "\n".join(f"{record.name}: {record.getMessage()}" for record in server_records)
    assert SECRET_WORDS not in logged and token not in logged and "127.0.0.1" not in logged
