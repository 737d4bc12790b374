"""The attempt counters (chat/core/throttle.py) on one node, in memory, with a set clock."""

from __future__ import annotations

from chat.core.throttle import Rule, Throttle

DAY = 24 * 60 * 60
SESSION_RULE = Rule("message", limit=3, window=10, hash_kept=True)
ADDRESS_RULE = Rule("address", limit=3, window=10)


class Clock:
    def __init__(self, at: float) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at


async def test_a_remembered_hash_counts_like_a_fresh_one_and_changes_with_the_day() -> None:
    clock = Clock(100 * DAY + 1)
    throttle = Throttle(b"k" * 32, clock=clock)
    verdicts = [await throttle.hit(SESSION_RULE, "17") for _ in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert not (await throttle.check(SESSION_RULE, "17")).allowed
    # Another session is counted apart.
    assert (await throttle.hit(SESSION_RULE, "18")).allowed
    names_today = set(throttle._counts)
    clock.at += DAY
    assert (await throttle.hit(SESSION_RULE, "17")).allowed
    # A new day, a new key: yesterday's names are not reused.
    assert not names_today & (set(throttle._counts) - names_today)
    assert len(set(throttle._counts) - names_today) == 1


async def test_an_address_is_kept_nowhere_in_the_throttle() -> None:
    throttle = Throttle(b"k" * 32, clock=Clock(100 * DAY + 1))
    for _ in range(4):
        last = await throttle.hit(ADDRESS_RULE, "203.0.113.7")
    assert not last.allowed
    await throttle.hit(SESSION_RULE, "17")
    held = repr(vars(throttle))
    assert "203.0.113.7" not in held
