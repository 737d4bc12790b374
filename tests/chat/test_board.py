"""The supervisors' live board (issue 14): a snapshot after hello, then only the advisers and
chats a change touched; an adviser's status and load, a flagged chat and its end, and never a
word of hers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import orjson

from tests.wsclient import Client, Server, connected_pair, staff

RISKY = "he has a knife and he is coming back now"
Board = dict[str, dict[int, dict[str, Any]]]


def _apply(board: Board, event: dict[str, Any]) -> None:
    """What the console does with `board` and `board_changes`."""
    if event["type"] == "board":
        board["advisers"] = {row["staff_id"]: row for row in event["advisers"]}
        board["flagged"] = {row["conversation_id"]: row for row in event["flagged"]}
        return
    for gone in event["gone_advisers"]:
        board["advisers"].pop(gone, None)
    board["advisers"].update({row["staff_id"]: row for row in event["advisers"]})
    for gone in event["unflagged"]:
        board["flagged"].pop(gone, None)
    board["flagged"].update({row["conversation_id"]: row for row in event["flagged"]})


async def _until(
    boss: Client, board: Board, wanted: Callable[[Board], bool], timeout: float = 8.0
) -> None:
    """Apply the board news as it comes until the board shows what is wanted."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not wanted(board):
        left = deadline - asyncio.get_running_loop().time()
        assert left > 0, f"the board never showed it: {board}"
        _apply(board, await boss.receive("board_changes", timeout=left))


def _adviser(board: Board, name: str) -> dict[str, Any] | None:
    return next((row for row in board["advisers"].values() if row["name"] == name), None)


async def test_the_board_shows_status_load_and_flags_as_they_change(server: Server) -> None:
    assert server.services is not None
    boss = await staff(server, await server.staff_session("supervisor", "wyn"))
    first = await boss.receive("board")
    assert first["wait_target_seconds"] == server.services.settings.wait_target_seconds
    board: Board = {}
    _apply(board, first)
    assert board["flagged"] == {}

    her, adviser, chat, _ = await connected_pair(server)
    login_name = adviser.of_type("welcome")[0]["name"]
    await _until(
        boss,
        board,
        lambda b: (
            (row := _adviser(b, login_name)) is not None
            and (row["status"], row["chats"]) == ("online", 1)
        ),
    )

    await her.send({"type": "message", "conversation_id": chat, "client_id": "r", "body": RISKY})
    await her.receive("ack", client_id="r")
    await _until(boss, board, lambda b: chat in b["flagged"])
    flagged = board["flagged"][chat]
    assert flagged["status"] == "active"
    assert flagged["adviser_name"] == login_name
    assert flagged["risk_level"] in ("high", "imminent")

    await adviser.send({"type": "set_available", "available": False})
    await _until(boss, board, lambda b: _adviser(b, login_name)["status"] == "away")  # type: ignore[index]

    await adviser.send({"type": "end", "conversation_id": chat})
    await _until(
        boss,
        board,
        lambda b: chat not in b["flagged"] and _adviser(b, login_name)["chats"] == 0,  # type: ignore[index]
    )
    await adviser.close()
    await _until(boss, board, lambda b: _adviser(b, login_name)["status"] == "offline")  # type: ignore[index]

    # Nothing she wrote was on the board, and each change named only what it touched.
    news = boss.of_type("board") + boss.of_type("board_changes")
    assert "knife" not in orjson.dumps(news).decode()
    assert all(len(event["advisers"]) <= 2 for event in boss.of_type("board_changes"))

    # A supervisor who logs in later is given the board as it is now.
    later = await staff(server, await server.staff_session("supervisor", "ada"))
    again: Board = {}
    _apply(again, await later.receive("board"))
    assert _adviser(again, login_name)["status"] == "offline"  # type: ignore[index]
    assert again["flagged"] == {}


async def test_only_supervisors_get_the_board(server: Server) -> None:
    adviser = await staff(server, await server.staff_session("adviser", "pat"))
    await adviser.drain(0.3)
    assert "board" not in adviser.types()
