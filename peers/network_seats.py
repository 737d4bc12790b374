"""How many seats of one room session are held from one network address, without keeping it.

Forty sessions opened from one address could otherwise fill a room so that a real woman is
told `room_full`. At a join, the participants who came in from her address (by the address a
named proxy forwarded, chat/core/addresses.py) and are still present are counted; at the
limit she is refused. Many women share one address (a refuge, a library), so the limit is a
few seats, not one.

The address is kept only as a keyed hash (HMAC with the server's secret and the room
session's id, so the name says nothing outside this session), naming a set of participant
ids in Redis with an expiry (several nodes) or in this process's memory, never in the
database or the logs. Nothing is released by hand: a participant who has left simply stops
counting, because the count is of those the database says are still present.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable

import redis.asyncio as aioredis

# A set lives a little longer than any room session runs.
HOLD_SECONDS = 12 * 60 * 60
_PRUNE_AT = 10_000


class NetworkSeats:
    def __init__(
        self,
        secret: bytes,
        redis: Callable[[], aioredis.Redis | None],
        prefix: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret
        self._redis = redis
        self._prefix = prefix
        self._clock = clock
        self._memory: dict[str, tuple[set[int], float]] = {}

    def name(self, session_id: int, address: str) -> str:
        digest = hmac.new(self._secret, f"seats\0{session_id}\0{address}".encode(), hashlib.sha256)
        return f"{self._prefix}{session_id}:{digest.hexdigest()[:32]}"

    async def members(self, name: str) -> set[int]:
        """The participants who took a seat from this address (some may have left since)."""
        store = self._redis()
        if store is not None:
            return {int(member) for member in await store.smembers(name)}
        held = self._memory.get(name)
        return set(held[0]) if held and held[1] > self._clock() else set()

    async def hold(self, name: str, keep: set[int]) -> None:
        """The set becomes `keep` (the present ones and the newcomer), for another while."""
        store = self._redis()
        if store is not None:
            async with store.pipeline(transaction=True) as pipe:
                pipe.delete(name)
                if keep:
                    pipe.sadd(name, *keep)
                    pipe.expire(name, HOLD_SECONDS)
                await pipe.execute()
            return
        now = self._clock()
        if len(self._memory) >= _PRUNE_AT:
            self._memory = {k: v for k, v in self._memory.items() if v[1] > now}
        self._memory[name] = (set(keep), now + HOLD_SECONDS)
