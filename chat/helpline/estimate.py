"""An honest wait: a range from who is online for her, their free places and how long chats
take lately. Pure: no I/O, no clock (callers pass the numbers in).

A chat that is k-th in line for the advisers who match her starts when k chats among their
`slots` places have ended. With chats lasting `h` on average and ending independently, that
takes about k·h/slots, give or take √k·h/slots; the range widens with that spread and with how
much handling times have varied lately. No matching adviser online: no estimate, and the page
says no one can answer right now, which is the truth.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from chat.helpline.routing import Adviser, Waiting, in_order, matches

# Before any chat has ended, a chat is taken to last this long (seconds).
PRIOR_HANDLING_SECONDS = 900.0
# Weight of the newest handling time in the smoothed mean.
SMOOTHING = 0.2
# How many spreads either side the range reaches.
WIDTH = 1.0


@dataclass(frozen=True)
class Handling:
    """Smoothed recent handling time and how much it varies (seconds)."""

    mean: float = PRIOR_HANDLING_SECONDS
    spread: float = PRIOR_HANDLING_SECONDS / 2


def smooth(durations: Iterable[float], alpha: float = SMOOTHING) -> Handling:
    """Exponentially smoothed mean and mean absolute deviation, oldest duration first."""
    mean: float | None = None
    spread = 0.0
    for seconds in durations:
        seconds = max(0.0, float(seconds))
        if mean is None:
            mean, spread = seconds, seconds / 2
            continue
        spread = (1 - alpha) * spread + alpha * abs(seconds - mean)
        mean = (1 - alpha) * mean + alpha * seconds
    if mean is None:
        return Handling()
    return Handling(mean=max(mean, 1.0), spread=spread)


@dataclass(frozen=True)
class Estimate:
    """Seconds until an adviser answers her, as a range; both 0 when one is free now."""

    low: float
    high: float

    @property
    def middle(self) -> float:
        return (self.low + self.high) / 2


def estimate(
    waiting: Waiting,
    queue: Sequence[Waiting],
    advisers: Sequence[Adviser],
    handling: Handling,
) -> Estimate | None:
    """Her wait as a range, or None when no adviser who could answer her is online."""
    return estimates([*(w for w in queue if w.id != waiting.id), waiting], advisers, handling)[
        waiting.id
    ]


def _range(k: int, slots: int, handling: Handling) -> Estimate:
    if k <= 0:
        return Estimate(0.0, 0.0)
    per = handling.mean / slots
    spread = math.sqrt(k) * per + k * handling.spread / slots
    middle = k * per
    return Estimate(max(0.0, middle - WIDTH * spread), middle + WIDTH * spread)


def estimates(
    queue: Sequence[Waiting], advisers: Sequence[Adviser], handling: Handling
) -> dict[int, Estimate | None]:
    """Every waiting chat's estimate in one pass over the queue (what queue news sends)."""
    return {
        waiting.id: found for waiting, found in each_estimate(in_order(queue), advisers, handling)
    }


# A kind of woman as the estimate sees her: who matches her depends on these alone.
Kind = tuple[str | None, str | None, bool, int | None]


def kind_of(waiting: Waiting) -> Kind:
    return (waiting.language, waiting.specialism, waiting.any_adviser, waiting.for_adviser)


def each_estimate(
    ordered: Iterable[Waiting],
    advisers: Sequence[Adviser],
    handling: Handling,
    ahead: Mapping[Kind, int] | None = None,
) -> Iterator[tuple[Waiting, Estimate | None]]:
    """The estimates of a queue already in order, one woman at a time (so a caller can pause
    between slices of a long queue).

    `ordered` may be a stretch from the middle of the queue: `ahead` then counts, by kind,
    the women before the stretch, so the estimates are those of the whole queue while only
    the stretch is read (queue news reads a bounded stretch per tick).
    """
    online = [a for a in advisers if a.available and a.trained]
    # Count, per group of advisers, how many are ahead: women who match the same advisers
    # share one count, so a queue of thousands costs one pass, not one pass per woman.
    ahead_by_group: dict[frozenset[int], int] = {}
    # Per kind of woman: the advisers who match her, their places and their free places.
    groups: dict[Kind, tuple[frozenset[int], int, int]] = {}

    def group_of(key: Kind, waiting: Waiting) -> tuple[frozenset[int], int, int]:
        found = groups.get(key)
        if found is None:
            # An adviser with no places at all (capacity 0) could never answer her.
            members = [a for a in online if a.capacity > 0 and matches(waiting, a)]
            found = (
                frozenset(a.id for a in members),
                sum(a.capacity for a in members),
                sum(a.free for a in members),
            )
            groups[key] = found
        return found

    for key, count in (ahead or {}).items():
        language, specialism, any_adviser, for_adviser = key
        sample = Waiting(0, 0, 0.0, language, specialism, any_adviser, for_adviser)
        group = group_of(key, sample)[0]
        if group and count > 0:
            ahead_by_group[group] = ahead_by_group.get(group, 0) + count
    for waiting in ordered:
        group, slots, free = group_of(kind_of(waiting), waiting)
        if not group:
            yield waiting, None
            continue
        ahead_count = sum(n for g, n in ahead_by_group.items() if g & group)
        yield waiting, _range(ahead_count + 1 - free, slots, handling)
        ahead_by_group[group] = ahead_by_group.get(group, 0) + 1
