"""Timed room bans by session-token hash and rotating address hashes, in memory and in Redis."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from peers.bans import (
    AddressHasher,
    MemoryBanStore,
    MemoryKeyRing,
    RedisBanStore,
    RedisKeyRing,
    address_hashes,
    network_identity,
)
from tests.services import redis_url

ADDRESS = "203.0.113.77"
TOKEN_KEY = "token:" + "ab" * 32
ROTATION = 100


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# --- hashing ---------------------------------------------------------------------------------


def test_hashes_are_keyed_and_never_contain_the_address() -> None:
    key_a, key_b = secrets.token_bytes(32), secrets.token_bytes(32)
    hashes = address_hashes([key_a, key_b], ADDRESS)
    assert len(hashes) == 2 and hashes[0] != hashes[1]
    assert all(len(h) == 64 and ADDRESS not in h for h in hashes)
    assert address_hashes([key_a], ADDRESS) == hashes[:1]
    assert address_hashes([key_a], "203.0.113.78") != hashes[:1]


def test_one_ipv6_network_is_one_identity() -> None:
    assert network_identity("2001:db8:1:2::5") == network_identity("2001:db8:1:2:ffff::9")
    assert network_identity("2001:db8:1:2::5") != network_identity("2001:db8:1:3::5")
    assert network_identity("::ffff:203.0.113.77") == ADDRESS
    assert network_identity(" 203.0.113.77 ") == ADDRESS
    assert network_identity("TestClient") == "testclient"


async def test_hasher_gives_the_same_hashes_within_a_period() -> None:
    clock = Clock()
    hasher = AddressHasher(rotation_seconds=ROTATION, clock=clock)
    first = await hasher.hashes(ADDRESS)
    clock.now += 1
    assert await hasher.hashes(ADDRESS) == first
    assert await hasher.hashes("198.51.100.1") != first


async def test_each_hasher_has_its_own_random_key() -> None:
    assert await AddressHasher().hashes(ADDRESS) != await AddressHasher().hashes(ADDRESS)


async def test_rotation_keeps_the_previous_key_for_one_period_only() -> None:
    clock = Clock(ROTATION * 10_000 + 10)
    ring = MemoryKeyRing(ROTATION, clock)
    (first,) = await ring.keys()
    clock.now += ROTATION
    second, previous = await ring.keys()
    assert previous == first and second != first
    clock.now += ROTATION
    assert first not in await ring.keys()


def test_rotation_period_must_be_positive() -> None:
    with pytest.raises(ValueError, match="rotation_seconds"):
        MemoryKeyRing(0)


# --- the memory store ------------------------------------------------------------------------


async def test_ban_made_just_before_rotation_holds_just_after() -> None:
    clock = Clock(ROTATION * 10_000 + ROTATION - 1)
    hasher = AddressHasher(rotation_seconds=ROTATION, clock=clock)
    store = MemoryBanStore(clock)
    await store.ban("mothers", [TOKEN_KEY, *await hasher.hashes(ADDRESS)], 3 * ROTATION)
    assert await store.is_banned("mothers", await hasher.hashes(ADDRESS))

    clock.now += 2  # the key has rotated; her new session token is not banned
    assert await store.is_banned("mothers", await hasher.hashes(ADDRESS))
    assert not await store.is_banned("mothers", await hasher.hashes("198.51.100.1"))

    clock.now += ROTATION  # two rotations on, nothing links the ban to the address
    assert not await store.is_banned("mothers", await hasher.hashes(ADDRESS))
    assert await store.is_banned("mothers", [TOKEN_KEY])


async def test_ban_expires_after_its_length() -> None:
    clock = Clock()
    store = MemoryBanStore(clock)
    await store.ban("mothers", [TOKEN_KEY], 60)
    clock.now += 59.9
    assert await store.is_banned("mothers", [TOKEN_KEY])
    clock.now += 0.1
    assert not await store.is_banned("mothers", [TOKEN_KEY])


async def test_ban_is_for_one_room() -> None:
    store = MemoryBanStore()
    await store.ban("mothers", [TOKEN_KEY], 60)
    assert await store.is_banned("mothers", ["other", TOKEN_KEY])
    assert not await store.is_banned("newcomers", [TOKEN_KEY])


async def test_shorter_ban_does_not_shorten_a_longer_one() -> None:
    clock = Clock()
    store = MemoryBanStore(clock)
    await store.ban("mothers", [TOKEN_KEY], 600)
    await store.ban("mothers", [TOKEN_KEY], 10)
    clock.now += 300
    assert await store.is_banned("mothers", [TOKEN_KEY])


async def test_unban() -> None:
    store = MemoryBanStore()
    await store.ban("mothers", [TOKEN_KEY, "k2"], 600)
    await store.unban("mothers", [TOKEN_KEY, "k2"])
    assert not await store.is_banned("mothers", [TOKEN_KEY, "k2"])


async def test_no_keys_means_not_banned() -> None:
    assert not await MemoryBanStore().is_banned("mothers", [])


@pytest.mark.parametrize("keys", [[], [""], [ADDRESS], ["2001:db8::1"]])
async def test_ban_refuses_missing_keys_and_raw_addresses(keys: list[str]) -> None:
    store = MemoryBanStore()
    with pytest.raises(ValueError):
        await store.ban("mothers", keys, 60)


@pytest.mark.parametrize("seconds", [0, -1, True])
async def test_ban_length_must_be_positive_seconds(seconds: int) -> None:
    with pytest.raises(ValueError, match="positive whole number"):
        await MemoryBanStore().ban("mothers", [TOKEN_KEY], seconds)


# --- Redis -----------------------------------------------------------------------------------


@pytest.fixture
async def redis() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(redis_url())
    yield client
    await client.aclose()


@pytest.fixture
async def prefix(redis: aioredis.Redis) -> AsyncIterator[str]:
    value = f"willow-test-{secrets.token_hex(6)}:"
    yield value
    names = [name async for name in redis.scan_iter(match=f"{value}*")]
    if names:
        await redis.delete(*names)


async def test_redis_ban_holds_and_expires(redis: aioredis.Redis, prefix: str) -> None:
    store = RedisBanStore(redis, prefix=prefix + "ban:")
    await store.ban("mothers", [TOKEN_KEY], 1)
    assert await store.is_banned("mothers", ["other", TOKEN_KEY])
    assert not await store.is_banned("newcomers", [TOKEN_KEY])
    await asyncio.sleep(1.2)
    assert not await store.is_banned("mothers", [TOKEN_KEY])


async def test_redis_ban_keeps_the_longer_length(redis: aioredis.Redis, prefix: str) -> None:
    store = RedisBanStore(redis, prefix=prefix + "ban:")
    await store.ban("mothers", [TOKEN_KEY], 3600)
    await store.ban("mothers", [TOKEN_KEY], 5)
    assert await redis.ttl(f"{prefix}ban:mothers:{TOKEN_KEY}") > 3000
    await store.ban("mothers", [TOKEN_KEY], 7200)
    assert await redis.ttl(f"{prefix}ban:mothers:{TOKEN_KEY}") > 3600


async def test_redis_unban(redis: aioredis.Redis, prefix: str) -> None:
    store = RedisBanStore(redis, prefix=prefix + "ban:")
    await store.ban("mothers", [TOKEN_KEY], 600)
    await store.unban("mothers", [TOKEN_KEY])
    assert not await store.is_banned("mothers", [TOKEN_KEY])


async def test_redis_ban_refuses_a_raw_address(redis: aioredis.Redis, prefix: str) -> None:
    with pytest.raises(ValueError, match="raw network address"):
        await RedisBanStore(redis, prefix=prefix).ban("mothers", [ADDRESS], 60)


async def test_nodes_share_the_address_key(redis: aioredis.Redis, prefix: str) -> None:
    clock = Clock()
    node_a = AddressHasher(RedisKeyRing(redis, prefix=prefix + "key:", clock=clock))
    node_b = AddressHasher(RedisKeyRing(redis, prefix=prefix + "key:", clock=clock))
    assert await node_a.hashes(ADDRESS) == await node_b.hashes(ADDRESS)
    assert await node_a.hashes(ADDRESS) != await AddressHasher().hashes(ADDRESS)


async def test_redis_ban_across_rotation_and_nodes(redis: aioredis.Redis, prefix: str) -> None:
    clock = Clock(ROTATION * 10_000 + ROTATION - 1)

    def node() -> tuple[AddressHasher, RedisBanStore]:
        ring = RedisKeyRing(redis, prefix=prefix + "key:", rotation_seconds=ROTATION, clock=clock)
        return AddressHasher(ring), RedisBanStore(redis, prefix=prefix + "ban:")

    (hasher_a, store_a), (hasher_b, store_b) = node(), node()
    await store_a.ban("mothers", [TOKEN_KEY, *await hasher_a.hashes(ADDRESS)], 3600)
    assert await store_b.is_banned("mothers", await hasher_b.hashes(ADDRESS))

    clock.now += 2
    after_rotation = await hasher_b.hashes(ADDRESS)
    assert len(after_rotation) == 2
    assert await store_b.is_banned("mothers", after_rotation)
    assert await store_a.is_banned("mothers", await hasher_a.hashes(ADDRESS))

    clock.now += ROTATION
    assert not await store_b.is_banned("mothers", await hasher_b.hashes(ADDRESS))
    assert await store_b.is_banned("mothers", [TOKEN_KEY])


async def test_redis_keys_expire(redis: aioredis.Redis, prefix: str) -> None:
    clock = Clock(ROTATION * 10_000 + 10)
    ring = RedisKeyRing(redis, prefix=prefix + "key:", rotation_seconds=ROTATION, clock=clock)
    await ring.keys()
    names = [name async for name in redis.scan_iter(match=f"{prefix}key:*")]
    assert len(names) == 1
    ttl = await redis.ttl(names[0])
    # Needed for the rest of this period and all of the next, then gone.
    assert 2 * ROTATION - 10 <= ttl <= 2 * ROTATION + 60


async def test_raw_address_never_reaches_redis(redis: aioredis.Redis, prefix: str) -> None:
    clock = Clock()
    hasher = AddressHasher(RedisKeyRing(redis, prefix=prefix + "key:", clock=clock))
    store = RedisBanStore(redis, prefix=prefix + "ban:")
    addresses = [ADDRESS, "2001:db8:1:2::5"]
    for address in addresses:
        await store.ban("mothers", [TOKEN_KEY, *await hasher.hashes(address)], 600)
        clock.now += 24 * 60 * 60
        await store.ban("newcomers", await hasher.hashes(address), 600)

    stored: list[bytes | str] = []
    async for name in redis.scan_iter(match=f"{prefix}*"):
        stored += [name, await redis.get(name) or b""]
    assert len(stored) >= 8
    forms = {*addresses, "2001:db8:1:2::", "2001:db8:1:2::/64", "203.0.113", "cb00714d"}
    for text in stored:
        decoded = text.decode("utf-8") if isinstance(text, bytes) else text
        assert not any(form in decoded for form in forms)
