"""A warm transfer between advisers on different nodes: the receiver's console on node B joins
the whole chat, the giver's on node A lets it go, and she, on A, is told who is joining."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from chat.core.models import Staff
from tests.cluster.conftest import Cluster
from tests.cluster.talk import pair, say
from tests.wsclient import staff

pytestmark = pytest.mark.cluster


async def test_transfer_to_an_adviser_on_another_node(cluster: Cluster) -> None:
    chat = await pair(cluster.a, cluster.a)
    await say(chat.her, chat.conversation_id, "h1", "first words")
    await chat.adviser.receive("message", client_id="h1")

    login = await cluster.b.staff_session("adviser", "noor")
    receiver = await staff(cluster.b, login)
    await receiver.send({"type": "set_available", "available": True})
    await receiver.receive("status")
    async with cluster.services.db.read() as session:
        receiver_id = await session.scalar(select(Staff.id).where(Staff.username == "noor"))

    await chat.adviser.send(
        {
            "type": "transfer",
            "conversation_id": chat.conversation_id,
            "to": "adviser",
            "staff_id": receiver_id,
            "note": "over to you",
        }
    )
    await chat.adviser.receive("transferred_away", conversation_id=chat.conversation_id)
    assert (await chat.her.receive("transferred"))["adviser_name"] == "Noor"
    # Node B's console has the chat from its first event.
    assert (await receiver.receive("message", client_id="h1"))["body"] == "first words"
    assert (await receiver.receive("transfer_note"))["note"] == "over to you"
    await say(receiver, chat.conversation_id, "n1", "Hello, I'm Noor")
    await chat.her.receive("message", client_id="n1")
    await say(chat.adviser, chat.conversation_id, "g1", "still here?")
    assert (await chat.adviser.receive("error"))["code"] == "not_found"
