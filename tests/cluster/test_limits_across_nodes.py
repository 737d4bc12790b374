"""Limits hold across nodes: counts live in Redis, so another node does not start them again.

Login limits are shared the same way (chat/core/throttle.py); they are tested on one node with
Redis (tests/chat/test_staff_login_security.py), because here every client is 127.0.0.1 and a
locked address would lock the other cluster tests out."""

from __future__ import annotations

import pytest

from tests.cluster.conftest import Cluster
from tests.wsclient import staff, visitor

pytestmark = pytest.mark.cluster


async def test_her_message_limit_holds_when_she_reconnects_to_another_node(
    cluster: Cluster,
) -> None:
    a, b = cluster.a, cluster.b
    login = await a.login(cluster.cli_adviser.username, cluster.cli_adviser.password)
    adviser = await staff(b, login)
    her, token = await visitor(a)
    await her.send({"type": "request_chat"})
    conversation = int((await her.receive("queue"))["conversation_id"])
    await adviser.send({"type": "set_available", "available": True})
    await adviser.send({"type": "take_next"})
    await her.receive("assigned")
    for n in range(8):
        await her.send(
            {"type": "message", "conversation_id": conversation, "client_id": f"m{n}",
             "body": f"line {n} of what happened this week"}
        )  # fmt: skip
        await her.receive("ack", client_id=f"m{n}")
    await her.close()

    again, _ = await visitor(b, token)
    await again.send(
        {"type": "message", "conversation_id": conversation, "client_id": "m9",
         "body": "one more, now through the other node"}
    )  # fmt: skip
    refused = await again.receive("error", client_id="m9")
    assert (refused["code"], refused["reason"]) == ("refused", "too_fast")
    await adviser.send({"type": "set_available", "available": False})
    for client in (again, adviser):
        await client.close()
