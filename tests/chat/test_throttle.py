"""Attempt counters: at most `limit` in any `window` seconds, wherever the clock's cuts fall.

Each test runs on this node's memory and, when the suite has one, on Redis (every node's
shared store), with a clock the test moves.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from chat.core.throttle import Rule, Throttle
from tests.services import BROKER_URL, redis_url

MESSAGES = Rule("message", limit=8, window=10)
SESSION_RULE = Rule("message", limit=3, window=10, hash_kept=True)
ADDRESS_RULE = Rule("address", limit=3, window=10)
DAY = 24 * 60 * 60


class Clock:
    def __init__(self, at: float) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[aioredis.Redis | None]:
    if request.param == "memory":
        yield None
        return
    client = aioredis.from_url(redis_url())
    yield client
    await client.aclose()


def _throttle(store: aioredis.Redis | None, clock: Clock) -> Throttle:
    # A prefix of its own, so tests sharing the Redis never count each other's attempts.
    prefix = f"willow-test-{secrets.token_hex(4)}:throttle:"
    return Throttle(secrets.token_bytes(32), (lambda: store), prefix=prefix, clock=clock)


async def _hits(throttle: Throttle, clock: Clock, times: list[float], who: str = "her") -> None:
    for at in times:
        clock.at = at
        assert (await throttle.hit(MESSAGES, who)).allowed, at


async def test_a_burst_across_a_multiple_of_the_window_is_counted_whole(
    store: aioredis.Redis | None,
) -> None:
    # 1000 s since the epoch is a multiple of the 10 s window: three before it, five after.
    clock = Clock(0.0)
    throttle = _throttle(store, clock)
    await _hits(throttle, clock, [999.5, 999.7, 999.9, 1000.1, 1000.3, 1000.5, 1000.7, 1000.9])
    clock.at = 1001.0
    ninth = await throttle.check(MESSAGES, "her")
    assert not ninth.allowed
    # The first leaves the window at 1009.5: eight and a half seconds from now, said as 9.
    assert ninth.retry_after == 9
    assert not (await throttle.hit(MESSAGES, "her")).allowed
    # Someone else is counted apart.
    assert (await throttle.check(MESSAGES, "someone else")).allowed
    clock.at = 1009.6
    assert (await throttle.hit(MESSAGES, "her")).allowed
    assert not (await throttle.check(MESSAGES, "her")).allowed


async def test_refused_attempts_do_not_prolong_the_wait(store: aioredis.Redis | None) -> None:
    clock = Clock(0.0)
    throttle = _throttle(store, clock)
    await _hits(throttle, clock, [100.0 + n / 10 for n in range(8)])
    for n in range(50):
        clock.at = 101.0 + n / 10
        assert not (await throttle.hit(MESSAGES, "her")).allowed
    clock.at = 110.05
    assert (await throttle.hit(MESSAGES, "her")).allowed


async def test_the_change_of_day_is_no_boundary(store: aioredis.Redis | None) -> None:
    # Names change with the day's key; the window still reaches back into yesterday's count.
    clock = Clock(0.0)
    throttle = _throttle(store, clock)
    midnight = 20_000 * DAY
    await _hits(throttle, clock, [midnight - 2 + n / 10 for n in range(8)])
    clock.at = midnight + 1
    refused = await throttle.check(MESSAGES, "her")
    assert not refused.allowed and refused.retry_after == 7
    clock.at = midnight + 8.05
    assert (await throttle.hit(MESSAGES, "her")).allowed


async def test_a_refund_gives_back_one_place_and_a_reset_all(store: aioredis.Redis | None) -> None:
    clock = Clock(500.0)
    throttle = _throttle(store, clock)
    await _hits(throttle, clock, [500.0 + n / 10 for n in range(8)])
    assert not (await throttle.check(MESSAGES, "her")).allowed
    await throttle.refund(MESSAGES, "her")
    assert (await throttle.hit(MESSAGES, "her")).allowed
    assert not (await throttle.check(MESSAGES, "her")).allowed
    await throttle.reset(MESSAGES, "her")
    await _hits(throttle, clock, [501.0 + n / 10 for n in range(8)])


@pytest.mark.skipif(not BROKER_URL, reason="needs Redis")
async def test_two_nodes_share_one_window_in_redis() -> None:
    client = aioredis.from_url(redis_url())
    secret, prefix = secrets.token_bytes(32), f"willow-test-{secrets.token_hex(4)}:throttle:"
    clock = Clock(2000.0)
    a, b = (Throttle(secret, lambda: client, prefix=prefix, clock=clock) for _ in range(2))
    try:
        for n in range(8):
            clock.at = 1995.5 + n / 2
            assert (await (a if n % 2 else b).hit(MESSAGES, "her")).allowed
        clock.at = 2000.0
        assert not (await a.check(MESSAGES, "her")).allowed
        assert not (await b.check(MESSAGES, "her")).allowed
    finally:
        await client.aclose()


# On this node alone: what the throttle keeps in memory.


async def test_a_remembered_hash_counts_like_a_fresh_one_and_changes_with_the_day() -> None:
    clock = Clock(100 * DAY + 1)
    throttle = Throttle(b"k" * 32, clock=clock)
    verdicts = [await throttle.hit(SESSION_RULE, "17") for _ in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert not (await throttle.check(SESSION_RULE, "17")).allowed
    # Another session is counted apart.
    assert (await throttle.hit(SESSION_RULE, "18")).allowed
    names_today = set(throttle._memory._times)
    clock.at += DAY
    assert (await throttle.hit(SESSION_RULE, "17")).allowed
    # A new day, a new key: yesterday's names are not reused.
    assert not names_today & (set(throttle._memory._times) - names_today)
    assert len(set(throttle._memory._times) - names_today) == 1


async def test_an_address_is_kept_nowhere_in_the_throttle() -> None:
    throttle = Throttle(b"k" * 32, clock=Clock(100 * DAY + 1))
    for _ in range(4):
        last = await throttle.hit(ADDRESS_RULE, "203.0.113.7")
    assert not last.allowed
    await throttle.hit(SESSION_RULE, "17")
    held = repr(vars(throttle)) + repr(vars(throttle._memory))
    assert "203.0.113.7" not in held
