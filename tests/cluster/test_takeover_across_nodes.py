"""A supervisor on node B takes over a chat held on node A: her console on B gets the whole chat
and writes in it, the adviser's console on A lets it go and is told why, she (on A) is told
someone else is now talking with her, and B's live board follows the adviser's load."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cluster.conftest import Cluster
from tests.cluster.talk import pair, receive_where, say
from tests.wsclient import staff

pytestmark = pytest.mark.cluster


async def test_a_supervisor_on_another_node_takes_a_chat_over(cluster: Cluster) -> None:
    chat = await pair(cluster.a, cluster.a)
    await say(chat.her, chat.conversation_id, "h1", "first words")
    await chat.adviser.receive("message", client_id="h1")
    adviser_name = chat.adviser.of_type("welcome")[0]["name"]

    boss = await staff(cluster.b, await cluster.b.staff_session("supervisor", "tova"))
    board = await boss.receive("board")
    assert any(row["name"] == adviser_name and row["chats"] >= 1 for row in board["advisers"]), (
        board
    )

    await boss.send(
        {"type": "take_over", "conversation_id": chat.conversation_id, "note": "I know her"}
    )
    await boss.receive("took_over", conversation_id=chat.conversation_id)
    away = await chat.adviser.receive("taken_away", conversation_id=chat.conversation_id)
    assert (away["by"], away["note"]) == ("Tova", "I know her")
    assert (await chat.her.receive("taken_over"))["adviser_name"] == "Tova"
    assert (await boss.receive("message", client_id="h1"))["body"] == "first words"

    await say(boss, chat.conversation_id, "t1", "Hello, I'm Tova")
    await chat.her.receive("message", client_id="t1")
    await say(chat.adviser, chat.conversation_id, "g1", "still here?")
    assert (await chat.adviser.receive("error"))["code"] == "not_found"

    # Node A's change reaches node B's board: the adviser has one chat fewer, Tova one more.
    def moved(event: dict[str, Any]) -> bool:
        rows = {row["name"]: row for row in event["advisers"]}
        return adviser_name in rows and "Tova" in rows and rows["Tova"]["chats"] == 1

    await receive_where(boss, "board_changes", moved, timeout=10)
