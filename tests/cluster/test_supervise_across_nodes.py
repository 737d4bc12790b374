"""A supervisor on node B joins a chat held on node A: both consoles of hers (one on each
node) may write in it, and she and the adviser, on A, see that a supervisor joined."""

from __future__ import annotations

import pytest

from tests.cluster.conftest import Cluster
from tests.cluster.talk import pair, say
from tests.wsclient import staff

pytestmark = pytest.mark.cluster


async def test_a_supervisor_on_another_node_joins_and_writes(cluster: Cluster) -> None:
    chat = await pair(cluster.a, cluster.a)
    conversation = chat.conversation_id
    await say(chat.her, conversation, "h1", "first words")
    await chat.adviser.receive("message", client_id="h1")

    login = await cluster.b.staff_session("supervisor", "wyn")
    on_b = await staff(cluster.b, login)
    on_a = await staff(cluster.a, login)
    await on_b.send({"type": "supervise", "conversation_id": conversation})

    for side in (chat.her, chat.adviser, on_b):
        joined = await side.receive("joined", conversation_id=conversation)
        assert (joined["role"], joined["name"]) == ("supervisor", "Wyn")
    # Her other console, on node A, was told too and has the whole chat.
    assert (await on_a.receive("supervising"))["conversations"] == [conversation]
    assert (await on_a.receive("message", client_id="h1"))["body"] == "first words"
    await say(on_b, conversation, "s1", "I'm here too")
    await say(on_a, conversation, "s2", "and here")
    for side in (chat.her, chat.adviser):
        await side.receive("message", client_id="s1")
        await side.receive("message", client_id="s2")
