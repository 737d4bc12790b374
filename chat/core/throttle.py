"""Counting attempts per person or per address, without keeping who or where.

A rule allows at most `limit` attempts in any `window` seconds: the window slides, so a burst
that straddles a clock boundary is counted whole (a fixed window cut at multiples of the
window let twice the limit through around each cut). A counter keeps the times of the
attempts it allowed within the window, at most `limit` of them; refused attempts are not
kept, so hammering does not prolong a wait, and the counter stays small.

A counter is named by a keyed hash of what it counts (a username, a visitor session, a
network address), with a key derived from the secret key and the day, so names change every
day and say nothing without the key; just after midnight the previous day's counter is read
too, so the change of key is no boundary either. Counters live in this process's memory (one
node) or in Redis with an expiry (several nodes), never in the database or the logs, and
vanish when their window ends.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from chat.core.addresses import ClientAddress
from chat.core.outages import BROKER, OUTAGES

Clock = Callable[[], float]
_DAY = 24 * 60 * 60
# A memory store prunes expired counters once it holds this many.
_PRUNE_AT = 10_000

# One atomic step on Redis, the same as `_Memory.add`: drop what left the window, take back
# the newest (a refund), count (this key and the previous day's, within the window), and
# keep this attempt if it is allowed. Returns {allowed, time the oldest counted one leaves}.
_SLIDE = """
local key, before = KEYS[1], KEYS[2]
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local amount, member = tonumber(ARGV[4]), ARGV[5]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if amount < 0 then redis.call('ZPOPMAX', key) end
local times = {}
if before ~= key then
  local found = redis.call('ZRANGEBYSCORE', before, '(' .. (now - window), '+inf', 'WITHSCORES')
  for i = 2, #found, 2 do table.insert(times, found[i]) end
end
local count = #times + redis.call('ZCARD', key)
local allowed = count < limit
if amount > 0 and allowed then
  redis.call('ZADD', key, now, member)
  redis.call('EXPIRE', key, math.ceil(window) + 1)
  count = count + 1
end
local oldest = ''
if count >= limit then
  local edge = count - limit
  if edge < #times then
    oldest = times[edge + 1]
  else
    local found = redis.call('ZRANGE', key, edge - #times, edge - #times, 'WITHSCORES')
    oldest = found[2]
  end
end
return {allowed and 1 or 0, oldest}
"""


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    # Seconds until one more attempt would be allowed (1 at least).
    retry_after: int


@dataclass(frozen=True)
class Rule:
    """At most `limit` hits in any `window` seconds for one key of `bucket`."""

    bucket: str
    limit: int
    window: int
    # Its keyed hash may be remembered for the day, by identity: only for identities this
    # node holds in memory anyway (a visitor session's row id), never for an address, which
    # is kept nowhere but in its hash.
    hash_kept: bool = False


@dataclass(frozen=True)
class _Count:
    # Whether this attempt is (or one more would be) within the limit.
    allowed: bool
    # When the oldest attempt that keeps the count at the limit leaves the window.
    frees_at: float | None


class _Memory:
    """This node's counters: the times of the allowed attempts within the window, by name."""

    def __init__(self) -> None:
        self._times: dict[str, list[float]] = {}

    def add(self, names: tuple[str, str], rule: Rule, amount: int, now: float) -> _Count:
        name, before = names
        if len(self._times) >= _PRUNE_AT:
            # A window is a day at the longest: older counters count nothing.
            self._times = {k: v for k, v in self._times.items() if v[-1] > now - 2 * _DAY}
        since = now - rule.window
        kept = [t for t in self._times.get(name, ()) if t > since]
        if amount < 0 and kept:
            kept.pop()
        earlier = [t for t in self._times.get(before, ()) if t > since] if before != name else []
        allowed = len(earlier) + len(kept) < rule.limit
        if amount > 0 and allowed:
            kept.append(now)
        if kept:
            self._times[name] = kept
        else:
            self._times.pop(name, None)
        counted = earlier + kept
        edge = len(counted) - rule.limit
        return _Count(allowed, counted[edge] if edge >= 0 else None)

    def reset(self, name: str) -> None:
        self._times.pop(name, None)


class Throttle:
    """Sliding-window counters by keyed hash, in memory or in Redis (see the module notes)."""

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
        self._memory = _Memory()
        self._days: dict[int, bytes] = {}
        self._script: tuple[aioredis.Redis, AsyncScript] | None = None
        # (bucket, identity, day) -> its keyed hash that day, for rules that allow it
        # (`Rule.hash_kept`): a visitor's every message is checked and counted, and the hash
        # is the same all day (dropped with the day's key).
        self._hashes: dict[tuple[str, str, int], str] = {}

    def _day_key(self, day: int) -> bytes:
        # The same all day: worked out once a day, not twice per message.
        key = self._days.get(day)
        if key is None:
            key = hmac.new(self._secret, f"throttle:{day}".encode(), "sha256").digest()
            self._days = {d: k for d, k in self._days.items() if d >= day - 1}
            self._days[day] = key
            self._hashes = {k: v for k, v in self._hashes.items() if k[2] >= day - 1}
        return key

    def _name(self, rule: Rule, identity: str, day: int) -> str:
        hashed = self._hashes.get((rule.bucket, identity, day)) if rule.hash_kept else None
        if hashed is None:
            digest = hmac.new(self._day_key(day), f"{rule.bucket}\0{identity}".encode(), "sha256")
            hashed = digest.hexdigest()[:32]
            if rule.hash_kept:
                if len(self._hashes) >= _PRUNE_AT:
                    self._hashes.clear()
                self._hashes[(rule.bucket, identity, day)] = hashed
        return f"{self._prefix}{rule.bucket}:{hashed}"

    def _names(self, rule: Rule, identity: str, now: float) -> tuple[str, str]:
        """Today's counter, and the one the window still reaches into (yesterday's, or the same)."""
        day = int(now // _DAY)
        earlier = int((now - rule.window) // _DAY)
        today = self._name(rule, identity, day)
        return today, (self._name(rule, identity, earlier) if earlier != day else today)

    async def hit(self, rule: Rule, identity: str) -> Verdict:
        """Count one attempt, if it is allowed: no more than `limit` in the last `window` s."""
        return await self._verdict(rule, identity, 1)

    async def check(self, rule: Rule, identity: str) -> Verdict:
        """Whether one more attempt would be allowed, without counting it."""
        return await self._verdict(rule, identity, 0)

    async def refund(self, rule: Rule, identity: str) -> None:
        """Take back the newest hit (an attempt that turned out to be legitimate)."""
        await self._verdict(rule, identity, -1)

    async def reset(self, rule: Rule, identity: str) -> None:
        now = self._clock()
        names = set(self._names(rule, identity, now))
        shared = self._shared()
        if shared is not None:
            await shared.delete(*names)
        else:
            for name in names:
                self._memory.reset(name)

    def _shared(self) -> aioredis.Redis | None:
        return self._redis() if self._redis is not None else None

    async def _verdict(self, rule: Rule, identity: str, amount: int) -> Verdict:
        now = self._clock()
        names = self._names(rule, identity, now)
        count = await self._add(names, rule, amount, now)
        if count.frees_at is None:
            return Verdict(count.allowed, 1)
        return Verdict(count.allowed, max(1, math.ceil(count.frees_at + rule.window - now)))

    async def _add(self, names: tuple[str, str], rule: Rule, amount: int, now: float) -> _Count:
        shared = self._shared()
        if shared is not None:
            try:
                return await self._add_shared(shared, names, rule, amount, now)
            except (RedisConnectionError, RedisTimeoutError) as problem:
                # Redis is away: count on this node meanwhile rather than refuse her message
                # or her login (a limit per node is looser, never absent).
                OUTAGES.failed(BROKER, problem)
        return self._memory.add(names, rule, amount, now)

    async def _add_shared(
        self, shared: aioredis.Redis, names: tuple[str, str], rule: Rule, amount: int, now: float
    ) -> _Count:
        if self._script is None or self._script[0] is not shared:
            self._script = (shared, shared.register_script(_SLIDE))
        script = self._script[1]
        # A unique member per attempt: two at the same instant are two attempts.
        member = f"{now!r}:{secrets.token_hex(4)}"
        allowed, oldest = await script(
            keys=list(names), args=[repr(now), rule.window, rule.limit, amount, member]
        )
        frees_at = float(oldest) if oldest not in (b"", "", None) else None
        return _Count(bool(allowed), frees_at)


class OpenSockets:
    """How many sockets each network address holds open on this node, by keyed hash."""

    def __init__(self) -> None:
        # A key of this process only: the counts cannot be matched to an address elsewhere.
        self._key = secrets.token_bytes(32)
        self._open: dict[str, int] = {}

    def take(self, address: ClientAddress | None, cap: int) -> str | bool:
        """Count a socket from `address`: False if it is over the cap (not counted), else what
        to hand back to `give_back` when it closes. A plain pair of calls rather than a context
        manager, which an open socket would hold for its whole life (bench: idle)."""
        if address is None or cap <= 0:
            return True
        name = hmac.new(self._key, address.address.encode(), hashlib.sha256).hexdigest()
        if self._open.get(name, 0) >= cap:
            return False
        self._open[name] = self._open.get(name, 0) + 1
        return name

    def give_back(self, taken: str | bool) -> None:
        """The socket counted by `take` has closed."""
        if not isinstance(taken, str):
            return
        left = self._open[taken] - 1
        if left:
            self._open[taken] = left
        else:
            del self._open[taken]
