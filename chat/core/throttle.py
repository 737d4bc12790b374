"""Counting attempts per person or per address, without keeping who or where.

A counter is named by a keyed hash of what it counts (a username, a visitor session, a
network address), with a key derived from the secret key and the day, so names change every
day and say nothing without the key. Counters live in this process's memory (one node) or in
Redis with an expiry (several nodes), never in the database or the logs, and vanish when
their window ends.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from chat.core.addresses import ClientAddress
from chat.core.outages import BROKER, OUTAGES

Clock = Callable[[], float]
_DAY = 24 * 60 * 60
# A memory store prunes expired counters once it holds this many.
_PRUNE_AT = 10_000


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    # Seconds until the window ends and the counter starts again.
    retry_after: int


@dataclass(frozen=True)
class Rule:
    """At most `limit` hits per `window` seconds for one key of `bucket`."""

    bucket: str
    limit: int
    window: int
    # Its keyed hash may be remembered for the day, by identity: only for identities this
    # node holds in memory anyway (a visitor session's row id), never for an address, which
    # is kept nowhere but in its hash.
    hash_kept: bool = False


class Throttle:
    """Fixed-window counters by keyed hash, in memory or in Redis (see the module notes)."""

    def __init__(
        self,
        secret: bytes,
        # The store every node shares (the broker's Redis), asked for when first needed since
        # the broker connects at start; None, or a store that answers None, counts in memory.
        redis: Callable[[], aioredis.Redis | None] | None = None,
        prefix: str = "willow:throttle:",
        clock: Clock = time.time,
    ) -> None:
        self._secret = secret
        self._redis = redis
        self._prefix = prefix
        self._clock = clock
        self._counts: dict[str, tuple[int, float]] = {}
        self._day: tuple[int, bytes] | None = None
        # (bucket, identity) -> its keyed hash for the day, for rules that allow it
        # (`Rule.hash_kept`): a visitor's every message is checked and counted, and the hash
        # is the same all day (cleared with the day key).
        self._hashes: dict[tuple[str, str], str] = {}

    def _day_key(self, now: float) -> bytes:
        # The same all day: worked out once a day, not twice per message.
        day = int(now // _DAY)
        if self._day is None or self._day[0] != day:
            key = hmac.new(self._secret, f"throttle:{day}".encode(), "sha256").digest()
            self._day = (day, key)
            self._hashes.clear()
        return self._day[1]

    def _name(self, rule: Rule, identity: str, now: float) -> str:
        key = self._day_key(now)
        hashed = self._hashes.get((rule.bucket, identity)) if rule.hash_kept else None
        if hashed is None:
            digest = hmac.new(key, f"{rule.bucket}\0{identity}".encode(), hashlib.sha256)
            hashed = digest.hexdigest()[:32]
            if rule.hash_kept:
                if len(self._hashes) >= _PRUNE_AT:
                    self._hashes.clear()
                self._hashes[(rule.bucket, identity)] = hashed
        window = math.floor(now / rule.window)
        return f"{self._prefix}{rule.bucket}:{window}:{hashed}"

    def _retry_after(self, rule: Rule, now: float) -> int:
        return max(1, math.ceil((math.floor(now / rule.window) + 1) * rule.window - now))

    async def hit(self, rule: Rule, identity: str) -> Verdict:
        """Count one attempt; allowed while the window's count is within the limit."""
        now = self._clock()
        count = await self._add(self._name(rule, identity, now), rule.window, 1, now)
        return Verdict(count <= rule.limit, self._retry_after(rule, now))

    async def check(self, rule: Rule, identity: str) -> Verdict:
        """Whether one more attempt would be allowed, without counting it."""
        now = self._clock()
        count = await self._add(self._name(rule, identity, now), rule.window, 0, now)
        return Verdict(count < rule.limit, self._retry_after(rule, now))

    async def refund(self, rule: Rule, identity: str) -> None:
        """Take back one hit of this window (an attempt that turned out to be legitimate)."""
        now = self._clock()
        await self._add(self._name(rule, identity, now), rule.window, -1, now)

    async def reset(self, rule: Rule, identity: str) -> None:
        name = self._name(rule, identity, self._clock())
        shared = self._shared()
        if shared is not None:
            await shared.delete(name)
        else:
            self._counts.pop(name, None)

    def _shared(self) -> aioredis.Redis | None:
        return self._redis() if self._redis is not None else None

    async def _add(self, name: str, window: int, amount: int, now: float) -> int:
        shared = self._shared()
        if shared is not None:
            try:
                async with shared.pipeline(transaction=True) as pipe:
                    pipe.incrby(name, amount)
                    pipe.expire(name, window + 1, nx=True)
                    count, _ = await pipe.execute()
                return int(count)
            except (RedisConnectionError, RedisTimeoutError) as problem:
                # Redis is away: count on this node meanwhile rather than refuse her message
                # or her login (a limit per node is looser, never absent).
                OUTAGES.failed(BROKER, problem)
        if len(self._counts) >= _PRUNE_AT:
            self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
        count, until = self._counts.get(name, (0, now + window + 1))
        if until <= now:
            count, until = 0, now + window + 1
        self._counts[name] = (count + amount, until)
        return count + amount


class OpenSockets:
    """How many sockets each network address holds open on this node, by keyed hash."""

    def __init__(self) -> None:
        # A key of this process only: the counts cannot be matched to an address elsewhere.
        self._key = secrets.token_bytes(32)
        self._open: dict[str, int] = {}

    @contextmanager
    def holding(self, address: ClientAddress | None, cap: int) -> Iterator[bool]:
        """Count this socket while it is open; yields False (not counted) if over the cap."""
        if address is None or cap <= 0:
            yield True
            return
        name = hmac.new(self._key, address.address.encode(), hashlib.sha256).hexdigest()
        if self._open.get(name, 0) >= cap:
            yield False
            return
        self._open[name] = self._open.get(name, 0) + 1
        try:
            yield True
        finally:
            left = self._open[name] - 1
            if left:
                self._open[name] = left
            else:
                del self._open[name]
