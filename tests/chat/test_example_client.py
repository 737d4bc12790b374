"""docs/example_client.py, written from the protocol document alone, runs against a real server
while an adviser takes the chat, replies while she is away, and sees her end it."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

from tests.wsclient import Server, staff

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "example_client.py"


async def test_the_example_client_chats_resends_and_resumes(server: Server) -> None:
    adviser = await staff(server, await server.staff_session("adviser"))
    await adviser.send({"type": "set_available", "available": True})
    await adviser.receive("status")
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(EXAMPLE), server.url, stdout=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None
    lines: list[str] = []

    async def line_starting(prefix: str) -> str:
        while True:
            raw = await asyncio.wait_for(process.stdout.readline(), 20)  # type: ignore[union-attr]
            assert raw, f"the example stopped before {prefix!r}; it said {lines}"
            lines.append(raw.decode().rstrip("\n"))
            if lines[-1].startswith(prefix):
                return lines[-1]

    try:
        await line_starting("queue ")
        await adviser.send({"type": "take_next"})
        assigned = await adviser.receive("assigned")
        conversation = assigned["conversation_id"]
        said = await adviser.receive("message", conversation_id=conversation)
        assert said["body"] == "Hello, is anyone there?"

        dropped = await line_starting("dropped ")
        # She is away: the reply is stored and must reach her through her resume.
        await adviser.send(
            {
                "type": "message",
                "conversation_id": conversation,
                "client_id": "reply",
                "body": "Yes, I'm here. Take your time.",
            }
        )
        reply = await adviser.receive("ack", client_id="reply")
        ended = await adviser.receive("ended", conversation_id=conversation, timeout=30)
        assert await asyncio.wait_for(process.wait(), 20) == 0
        await line_starting("ended ")
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    output = "\n".join(lines)
    assert "welcome role=visitor conversation=None" in output
    assert f"queue conversation={conversation} position=1" in output
    assert f"assigned adviser={assigned['adviser_name']} seq=1" in output
    first_ack = re.search(r"^ack seq=(\d+) duplicate=False$", output, re.MULTILINE)
    assert first_ack is not None and int(first_ack[1]) == said["seq"]
    assert f"resend ack seq={said['seq']} duplicate=True" in output
    assert dropped == f"dropped last_seq={said['seq']}"
    assert f"resumed conversation={{'id': {conversation}, 'status': 'active'}}" in output
    assert f'adviser said seq={reply["seq"]} body="Yes, I\'m here. Take your time."' in output
    assert f"ended by=visitor seq={ended['seq']}" in output
    # The resend stored nothing: the adviser saw her message once.
    await adviser.drain()
    assert len([m for m in adviser.of_type("message") if m["sender"] == "visitor"]) == 1
