"""Talking to a Willow node as the pages do: hello, request_chat, take_next.

The events are those of chat/core/protocol.py.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

from bench.client import Peer, connect, connect_many
from bench.load import Group
from bench.seed import ADVISER_CAPACITY, Seeded
from bench.servers import ServerProcess

PROTOCOL_VERSION = 1
# Willow refuses a visitor's 9th message within 10 s (moderation/limits.py). The generator
# keeps each sender well under that, so a given rate needs enough conversations.
SENDER_PACE = 0.6  # messages/s per sender at most


def pairs_for(rate: float, at_least: int = 1) -> int:
    """Conversations needed to offer `rate` msg/s with both sides at most SENDER_PACE."""
    return max(at_least, math.ceil(rate / (2 * SENDER_PACE)))


async def visitor(
    server: ServerProcess,
    token: str,
    resume: list[dict[str, int]] | None = None,
    source_ip: str | None = None,
    receive_buffer: int | None = None,
) -> Peer:
    """A visitor connection that has said hello and been welcomed."""
    peer = await connect(
        server.ws_url, server.origin, source_ip=source_ip, receive_buffer=receive_buffer
    )
    peer.send({"type": "hello", "v": PROTOCOL_VERSION, "token": token, "resume": resume or []})
    await peer.expect("welcome", within=60)
    return peer


async def staff(server: ServerProcess, cookie: str) -> Peer:
    """A logged-in staff member who has said hello and been welcomed."""
    peer = await connect(server.ws_url, server.origin, cookie=cookie)
    peer.send({"type": "hello", "v": PROTOCOL_VERSION})
    await peer.expect("welcome")
    return peer


async def adviser(server: ServerProcess, cookie: str) -> Peer:
    """A logged-in adviser, marked available."""
    peer = await staff(server, cookie)
    peer.send({"type": "set_available", "available": True})
    await peer.expect("status")
    return peer


async def open_pairs(
    visitor_server: ServerProcess,
    adviser_server: ServerProcess,
    tokens: list[str],
    cookies: list[str],
    receive_buffer: int | None = None,
) -> list[Group]:
    """One active conversation per token: visitor on one node, her adviser on (maybe) another."""
    advisers = [await adviser(adviser_server, c) for c in cookies]
    visitors = await connect_many(
        len(tokens), lambda i: visitor(visitor_server, tokens[i], receive_buffer=receive_buffer)
    )
    groups = []
    for index, her in enumerate(visitors):
        her.send({"type": "request_chat"})
        queued = await her.expect("queue")
        conversation_id = queued["conversation_id"]
        staff = advisers[index // ADVISER_CAPACITY]
        staff.send({"type": "take_next"})
        await her.expect("assigned", conversation_id=conversation_id)
        await staff.expect("assigned", conversation_id=conversation_id)
        groups.append(Group([her, staff], conversation_id, senders=[her, staff]))
    await asyncio.sleep(0.2)  # let the last setup events arrive
    for group in groups:
        her, staff = group.members
        # She never sees the adviser's staff-only events (the triage note at assignment), so
        # her seq check starts from the conversation's seq as the adviser knows it.
        her.seqs.last[group.stream] = staff.seqs.last.get(group.stream, 0)
    for peer in (*advisers, *visitors):
        peer.inbox.clear()
    return groups


def advisers_for(pairs: int) -> int:
    return max(1, math.ceil(pairs / ADVISER_CAPACITY))


class PairSource:
    """Opens more Willow conversations on demand, from accounts seeded before the start."""

    def __init__(
        self, visitor_server: ServerProcess, adviser_server: ServerProcess, seeded: Seeded
    ):
        self.visitor_server = visitor_server
        self.adviser_server = adviser_server
        self.tokens = list(seeded.visitor_tokens)
        self.cookies = list(seeded.staff_cookies)

    async def take(self, count: int) -> list[Group]:
        if count > len(self.tokens) or advisers_for(count) > len(self.cookies):
            raise RuntimeError(f"not enough seeded accounts for {count} more conversations")
        tokens, self.tokens = self.tokens[:count], self.tokens[count:]
        cookies, self.cookies = (
            self.cookies[: advisers_for(count)],
            self.cookies[advisers_for(count) :],
        )
        return await open_pairs(self.visitor_server, self.adviser_server, tokens, cookies)


def seed_sizes(pair_counts: list[int]) -> tuple[int, int]:
    """Visitors and advisers to seed when conversations are opened in these batches."""
    return sum(pair_counts), sum(advisers_for(n) for n in pair_counts)


async def raw_groups(server: ServerProcess, count: int, size: int, prefix: str) -> list[Group]:
    """`count` rooms of `size` connections on the raw server."""

    async def open_member(index: int) -> Peer:
        return await connect(f"{server.ws_url}?room={prefix}{index // size}", server.origin)

    peers = await connect_many(count * size, open_member)
    return [Group(peers[i * size : (i + 1) * size], i) for i in range(count)]


async def probe_event(
    server: ServerProcess, token: str, event: dict[str, Any]
) -> list[dict[str, Any]]:
    """Send one event after hello; whatever the server answers within half a second."""
    peer = await visitor(server, token)
    try:
        peer.send(event)
        await asyncio.sleep(0.5)
        return list(peer.inbox)
    finally:
        peer.close()


def close_all(peers: list[Peer]) -> None:
    for peer in peers:
        peer.close(graceful=False)
