"""What the several-node tests do again and again: connect a pair across nodes, wait, count."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from websockets.exceptions import ConnectionClosed

from tests.wsclient import Client, Server, StaffLogin, staff, visitor

Event = dict[str, Any]


@dataclass
class Pair:
    her: Client
    adviser: Client
    conversation_id: int
    token: str
    login: StaffLogin


async def receive_where(
    client: Client, kind: str, check: Callable[[Event], bool], timeout: float = 5.0
) -> Event:
    """The next event of this type that passes `check`, skipping others of the type."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        remaining = deadline - asyncio.get_running_loop().time()
        event = await client.receive(kind, timeout=max(remaining, 0.01))
        if check(event):
            return event


async def collect(
    client: Client, check: Callable[[Event], bool], count: int, timeout: float = 10.0
) -> list[Event]:
    """Read until `count` events pass `check`, counting those received before this call too."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = [event for event in client.events if check(event)]
        if len(found) >= count:
            return found
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            raise AssertionError(
                f"{len(found)} of {count} awaited events within {timeout}s; got {client.types()}"
            )
        try:
            frame = await asyncio.wait_for(client.connection.recv(), remaining)
        except TimeoutError:
            continue
        client.events.append(orjson.loads(frame))


def in_queue(conversation_id: int) -> Callable[[Event], bool]:
    """Check for a queue_snapshot (at hello) or queue_changes: does it add this chat?"""

    def check(news: Event) -> bool:
        entries = [*news.get("waiting", []), *news.get("added", [])]
        return conversation_id in [entry["conversation_id"] for entry in entries]

    return check


def left_queue(conversation_id: int) -> Callable[[Event], bool]:
    """Check for queue_changes saying this chat left the queue."""

    def check(news: Event) -> bool:
        return conversation_id in news.get("removed", [])

    return check


def kind(event: Event) -> str:
    """The event's type, whether or not a test has already taken it."""
    return str(event["type"]).removeprefix("taken:")


def messages(client: Client) -> list[Event]:
    return client.of_type("message")


def client_ids(client: Client) -> list[str]:
    return [str(event["client_id"]) for event in messages(client)]


def repeated(values: list[str]) -> list[str]:
    return [value for value, count in Counter(values).items() if count > 1]


def seqs(client: Client, conversation_id: int) -> list[int]:
    """The seqs of the conversation's stored events, in the order this client got them."""
    return [
        int(e["seq"])
        for e in client.events
        if e.get("conversation_id") == conversation_id and "seq" in e and kind(e) != "ack"
    ]


def last_seq(client: Client, conversation_id: int) -> int:
    """The highest seq she was given in this conversation: what a page sends to resume."""
    return max(seqs(client, conversation_id), default=0)


async def read_what_is_left(client: Client, seconds: float = 0.3) -> None:
    """Keep what a dying connection still delivers, then stop quietly."""
    try:
        await client.drain(seconds)
    except ConnectionClosed:
        return


async def say(client: Client, conversation_id: int, client_id: str, body: str) -> None:
    await client.send(
        {
            "type": "message",
            "conversation_id": conversation_id,
            "client_id": client_id,
            "body": body,
        }
    )


async def take(adviser: Client, conversation_id: int) -> None:
    """Become available and take the next chat, which must be this one."""
    await adviser.send({"type": "set_available", "available": True})
    await adviser.receive("status")
    await adviser.send({"type": "take_next"})
    await adviser.receive("assigned", conversation_id=conversation_id)


async def adviser_on(server: Server, login: StaffLogin | None = None) -> tuple[Client, StaffLogin]:
    login = login or await server.staff_session("adviser")
    return await staff(server, login), login


async def pair(her_server: Server, adviser_server: Server) -> Pair:
    """She waits on one node, an adviser on the other takes her chat; both see `assigned`."""
    adviser, login = await adviser_on(adviser_server)
    her, token = await visitor(her_server)
    await her.send({"type": "request_chat"})
    conversation_id = int((await her.receive("queue"))["conversation_id"])
    await take(adviser, conversation_id)
    await her.receive("assigned", conversation_id=conversation_id)
    return Pair(her, adviser, conversation_id, token, login)
