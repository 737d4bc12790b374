"""Timed bans from a room, recognising a person without remembering her network address.

Willow never stores an IP address. To keep someone out of a room for a while, the caller
bans a set of opaque keys: the hash of her session token and keyed hashes of her network
address. The address hash key is random, lives only in memory (one node) or in Redis with
an expiry (several nodes), and is replaced every `rotation_seconds`. Hashes are made with
the current and the previous key, so a ban made just before a rotation still recognises
the address afterwards; once a key is two rotations old it is gone, and nothing then links
a ban to an address. The address part of a ban therefore lasts at most between one and two
rotation periods, whatever the ban's length; the session-token part lasts the full length.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import secrets
import time
from collections.abc import Callable, Iterable
from typing import Protocol

import redis.asyncio as aioredis

Clock = Callable[[], float]

DAY_SECONDS = 24 * 60 * 60
_KEY_BYTES = 32
# Separates address hashes from any other HMAC made with the same key.
_ADDRESS_CONTEXT = b"willow:address:"
# A Redis key survives a little past the end of the period in which it is needed.
_KEY_GRACE_SECONDS = 60
_RECHECK_SECONDS = 60


def network_identity(address: str) -> str:
    """The part of an address that identifies one connection point.

    An IPv6 host usually controls a whole /64, so a ban must cover the /64; an IPv4
    address written as IPv6 (``::ffff:a.b.c.d``) is the IPv4 address. Anything that does
    not parse (a test client's host name, say) is used as given, lower-cased.
    """
    text = address.strip()
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return text.lower()
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(ip), 64), strict=False))
    return str(ip)


def address_hashes(keys: Iterable[bytes], address: str) -> tuple[str, ...]:
    """HMAC-SHA256 of the address under each key, as hex, in the keys' order."""
    message = _ADDRESS_CONTEXT + network_identity(address).encode("utf-8")
    return tuple(hmac.new(key, message, hashlib.sha256).hexdigest() for key in keys)


class KeyRing(Protocol):
    """Where the address-hashing keys come from."""

    async def keys(self) -> tuple[bytes, ...]:
        """The current key, then the previous one when it still exists."""
        ...


def _epoch(now: float, rotation_seconds: int) -> int:
    return math.floor(now / rotation_seconds)


def _check_rotation(rotation_seconds: int) -> None:
    if isinstance(rotation_seconds, bool) or rotation_seconds < 1:
        raise ValueError("rotation_seconds must be a positive whole number of seconds")


class MemoryKeyRing:
    """Keys generated in this process: right for a single node."""

    def __init__(self, rotation_seconds: int = DAY_SECONDS, clock: Clock = time.monotonic):
        _check_rotation(rotation_seconds)
        self.rotation_seconds = rotation_seconds
        self._clock = clock
        self._keys: dict[int, bytes] = {}

    def keys_now(self) -> tuple[bytes, ...]:
        """The same as `keys`, without awaiting."""
        epoch = _epoch(self._clock(), self.rotation_seconds)
        for old in [e for e in self._keys if e < epoch - 1]:
            del self._keys[old]
        current = self._keys.setdefault(epoch, secrets.token_bytes(_KEY_BYTES))
        previous = self._keys.get(epoch - 1)
        return (current,) if previous is None else (current, previous)

    async def keys(self) -> tuple[bytes, ...]:
        return self.keys_now()


class RedisKeyRing:
    """Keys shared through Redis, so every node hashes an address the same way.

    The first node to need a period's key creates it (SET NX) with an expiry just after the
    following period ends; other nodes read it. Keys are cached in memory per period, so a
    node asks Redis about once per period (once a minute while there is no previous key).
    """

    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        prefix: str = "willow:addrkey:",
        rotation_seconds: int = DAY_SECONDS,
        clock: Clock = time.time,
    ) -> None:
        _check_rotation(rotation_seconds)
        self.rotation_seconds = rotation_seconds
        self._redis = redis
        self._prefix = prefix
        self._clock = clock
        self._cache: dict[int, bytes] = {}
        self._fetched_at = -math.inf

    async def keys(self) -> tuple[bytes, ...]:
        now = self._clock()
        epoch = _epoch(now, self.rotation_seconds)
        wanted = (epoch, epoch - 1)
        # A missing previous key is normal in the first period after a deployment; look
        # again now and then rather than on every call.
        stale = now - self._fetched_at >= _RECHECK_SECONDS
        if epoch not in self._cache or (epoch - 1 not in self._cache and stale):
            await self._fetch(epoch, now)
            self._fetched_at = now
        for old in [e for e in self._cache if e not in wanted]:
            del self._cache[old]
        return tuple(self._cache[e] for e in wanted if e in self._cache)

    async def _fetch(self, epoch: int, now: float) -> None:
        names = [f"{self._prefix}{epoch}", f"{self._prefix}{epoch - 1}"]
        needed_until = (epoch + 2) * self.rotation_seconds
        lifetime = math.ceil(needed_until - now) + _KEY_GRACE_SECONDS
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.set(names[0], secrets.token_hex(_KEY_BYTES), nx=True, ex=lifetime)
            pipe.mget(names)
            _, values = await pipe.execute()
        for offset, value in enumerate(values):
            if value is not None:
                text = value.decode("ascii") if isinstance(value, bytes) else str(value)
                self._cache[epoch - offset] = bytes.fromhex(text)


class AddressHasher:
    """Keyed, rotating hashes of network addresses (see the module notes)."""

    def __init__(
        self,
        key_ring: KeyRing | None = None,
        *,
        rotation_seconds: int = DAY_SECONDS,
        clock: Clock = time.monotonic,
    ) -> None:
        self.key_ring = key_ring if key_ring is not None else MemoryKeyRing(rotation_seconds, clock)

    async def hashes(self, address: str) -> tuple[str, ...]:
        """The address's hash under the current key and, if it exists, the previous key."""
        return address_hashes(await self.key_ring.keys(), address)


class BanStore(Protocol):
    """Timed bans per room, looked up by opaque keys (hashes), never by an address."""

    async def ban(self, room_id: str, keys: Iterable[str], seconds: int) -> None:
        """Ban every key for `seconds`; an existing longer ban is kept."""
        ...

    async def is_banned(self, room_id: str, keys: Iterable[str]) -> bool:
        """Whether any of the keys is banned from the room now."""
        ...

    async def unban(self, room_id: str, keys: Iterable[str]) -> None:
        """Lift the ban on every key (a mentor changed her mind)."""
        ...


def _checked(room_id: str, keys: Iterable[str]) -> list[str]:
    if not room_id:
        raise ValueError("a ban needs a room id")
    checked = list(keys)
    for key in checked:
        if not isinstance(key, str) or not key:
            raise ValueError("ban keys must be non-empty strings")
        if _is_address(key):
            # The one mistake that would write an address into storage: refuse it loudly.
            raise ValueError("a ban key must be a hash, never a raw network address")
    return checked


def _is_address(key: str) -> bool:
    try:
        ipaddress.ip_address(key)
    except ValueError:
        return False
    return True


def _checked_seconds(seconds: int) -> int:
    if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 1:
        raise ValueError("a ban lasts a positive whole number of seconds")
    return seconds


class MemoryBanStore:
    """Bans kept in this process's memory: right for a single node."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._until: dict[tuple[str, str], float] = {}

    async def ban(self, room_id: str, keys: Iterable[str], seconds: int) -> None:
        checked, length = _checked(room_id, keys), _checked_seconds(seconds)
        if not checked:
            raise ValueError("a ban needs at least one key")
        now = self._clock()
        self._forget_expired(now)
        for key in checked:
            entry = (room_id, key)
            self._until[entry] = max(self._until.get(entry, now), now + length)

    async def is_banned(self, room_id: str, keys: Iterable[str]) -> bool:
        now = self._clock()
        return any(self._until.get((room_id, key), now) > now for key in _checked(room_id, keys))

    async def unban(self, room_id: str, keys: Iterable[str]) -> None:
        for key in _checked(room_id, keys):
            self._until.pop((room_id, key), None)

    def _forget_expired(self, now: float) -> None:
        for entry in [entry for entry, until in self._until.items() if until <= now]:
            del self._until[entry]


class RedisBanStore:
    """Bans as Redis keys with an expiry, shared by every node; names hold hashes only."""

    def __init__(self, redis: aioredis.Redis, *, prefix: str = "willow:ban:") -> None:
        self._redis = redis
        self._prefix = prefix

    def _names(self, room_id: str, keys: Iterable[str]) -> list[str]:
        return [f"{self._prefix}{room_id}:{key}" for key in _checked(room_id, keys)]

    async def ban(self, room_id: str, keys: Iterable[str], seconds: int) -> None:
        names, length = self._names(room_id, keys), _checked_seconds(seconds)
        if not names:
            raise ValueError("a ban needs at least one key")
        async with self._redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.set(name, "1", nx=True, ex=length)
                # Lengthens an existing ban, never shortens it.
                pipe.expire(name, length, gt=True)
            await pipe.execute()

    async def is_banned(self, room_id: str, keys: Iterable[str]) -> bool:
        names = self._names(room_id, keys)
        return bool(names) and int(await self._redis.exists(*names)) > 0

    async def unban(self, room_id: str, keys: Iterable[str]) -> None:
        names = self._names(room_id, keys)
        if names:
            await self._redis.delete(*names)
