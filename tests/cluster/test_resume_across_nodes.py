"""She loses her node and comes back through the other: nothing lost, nothing twice."""

from __future__ import annotations

import pytest

from tests.cluster.conftest import Cluster
from tests.cluster.talk import (
    Pair,
    client_ids,
    last_seq,
    messages,
    pair,
    read_what_is_left,
    repeated,
    say,
    seqs,
)
from tests.wsclient import staff, visitor

pytestmark = pytest.mark.cluster


async def adviser_writes(talk: Pair, count: int, prefix: str) -> list[int]:
    """The adviser sends `count` lines and waits for each ack; returns their seqs."""
    stored = []
    for i in range(count):
        await say(talk.adviser, talk.conversation_id, f"{prefix}{i}", f"while she was away {i}")
        stored.append(int((await talk.adviser.receive("ack", client_id=f"{prefix}{i}"))["seq"]))
    return stored


async def test_she_reconnects_to_the_other_node_and_gets_exactly_what_she_missed(
    cluster: Cluster,
) -> None:
    talk = await pair(cluster.a, cluster.b)
    conversation = talk.conversation_id
    await say(talk.her, conversation, "v0", "before the drop")
    await talk.her.receive("message", client_id="v0")
    await say(talk.adviser, conversation, "r0", "answer before the drop")
    await talk.her.receive("message", client_id="r0")
    resume_from = last_seq(talk.her, conversation)
    await talk.her.close()

    missed = await adviser_writes(talk, 5, "away")

    back, _ = await visitor(
        cluster.b, talk.token, resume=[{"conversation_id": conversation, "last_seq": resume_from}]
    )
    for i in range(5):
        await back.receive("message", client_id=f"away{i}")
    await back.drain(0.5)
    assert seqs(back, conversation) == missed
    assert client_ids(back) == [f"away{i}" for i in range(5)]

    # The conversation simply goes on, through node B now.
    await say(back, conversation, "v1", "I'm back")
    assert (await back.receive("ack", client_id="v1"))["duplicate"] is False
    await talk.adviser.receive("message", client_id="v1")
    await say(talk.adviser, conversation, "r1", "good to see you")
    await back.receive("message", client_id="r1")
    await talk.adviser.drain(0.3)
    assert repeated(client_ids(talk.adviser)) == []
    assert client_ids(talk.adviser) == ["v0", "r0", *[f"away{i}" for i in range(5)], "v1", "r1"]
    await back.close()
    await talk.adviser.close()


async def test_a_node_killed_under_her_loses_nothing(cluster: Cluster) -> None:
    talk = await pair(cluster.a, cluster.b)
    conversation = talk.conversation_id
    await say(talk.her, conversation, "v0", "first")
    await talk.adviser.receive("message", client_id="v0")
    # Her last line leaves just as node A dies: it may or may not have been stored.
    await say(talk.her, conversation, "v1", "sent as the node died")
    cluster.process(cluster.a).kill()
    await read_what_is_left(talk.her)
    resume_from = last_seq(talk.her, conversation)
    acked = {e["client_id"] for e in talk.her.of_type("ack")}

    missed = await adviser_writes(talk, 3, "away")

    back, _ = await visitor(
        cluster.b, talk.token, resume=[{"conversation_id": conversation, "last_seq": resume_from}]
    )
    if "v1" not in acked:
        # The page resends what was never acknowledged, with the same client_id.
        await say(back, conversation, "v1", "sent as the node died")
        await back.receive("ack", client_id="v1")
    for i in range(3):
        await back.receive("message", client_id=f"away{i}")
    await talk.adviser.receive("message", client_id="v1")
    await back.drain(0.5)
    await talk.adviser.drain(0.3)

    got = [e for e in messages(back) if e["client_id"].startswith("away")]
    assert [e["seq"] for e in got] == missed
    seen = client_ids(talk.her) + client_ids(back)
    assert repeated(seen) == []
    assert set(seen) >= {"v0", "away0", "away1", "away2"}
    assert client_ids(talk.adviser).count("v1") == 1
    assert back.of_type("error") == []

    # Node A comes back and serves her again, from where she is.
    await cluster.restart(cluster.process(cluster.a))
    await back.close()
    again, _ = await visitor(
        cluster.a,
        talk.token,
        resume=[{"conversation_id": conversation, "last_seq": last_seq(back, conversation)}],
    )
    await say(talk.adviser, conversation, "after", "still here")
    await again.receive("message", client_id="after")
    await again.drain(0.3)
    assert client_ids(again) == ["after"]
    await again.close()
    await talk.adviser.close()


async def test_an_adviser_whose_node_dies_resumes_her_chats_on_the_other_node(
    cluster: Cluster,
) -> None:
    talk = await pair(cluster.b, cluster.a)
    conversation = talk.conversation_id
    await say(talk.adviser, conversation, "r0", "hello")
    await talk.adviser.receive("message", client_id="r0")
    cluster.process(cluster.a).kill()
    await read_what_is_left(talk.adviser)
    resume_from = last_seq(talk.adviser, conversation)

    for i in range(3):
        await say(talk.her, conversation, f"v{i}", f"are you there {i}")
        await talk.her.receive("ack", client_id=f"v{i}")

    back = await staff(
        cluster.b, talk.login, resume=[{"conversation_id": conversation, "last_seq": resume_from}]
    )
    assert conversation in back.of_type("welcome")[0]["conversations"]
    for i in range(3):
        await back.receive("message", client_id=f"v{i}")
    await back.drain(0.3)
    assert client_ids(back) == ["v0", "v1", "v2"]
    await say(back, conversation, "r1", "sorry, I'm here")
    await talk.her.receive("message", client_id="r1")
    await back.close()
    await talk.her.close()
