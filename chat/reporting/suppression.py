"""Small numbers hidden, and hidden so that the total and the other cells cannot give them away.

A cell from 1 to 4 is shown as "fewer than 5" (primary suppression). Anyone holding the total
and the other cells of the same breakdown could subtract, so more cells are hidden (secondary
suppression), the smallest first, until no hidden cell can be worked out exactly from what is
shown; a total under 5 hides the whole breakdown. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

THRESHOLD = 5
# What a hidden figure is shown as: small (1 to 4), or hidden so a small one stays hidden.
FEWER = "fewer_than_5"
WITHHELD = "withheld"
Shown = int | str


@dataclass(frozen=True)
class Breakdown:
    """One breakdown as it may be shown: each figure a number, FEWER or WITHHELD."""

    total: Shown
    cells: dict[str, Shown]


def suppress(total: int, cells: dict[str, int]) -> Breakdown:
    """Hide what must be hidden from one breakdown whose cells add up to `total`."""
    if 0 < total < THRESHOLD:
        return Breakdown(FEWER, {value: _hidden(n) for value, n in cells.items()})
    hidden = {value for value, n in cells.items() if 0 < n < THRESHOLD}
    while hidden and _disclosed(total, cells, hidden):
        shown = sorted((n, value) for value, n in cells.items() if value not in hidden and n > 0)
        if not shown:
            # Nothing left to hide among the cells: the total goes instead.
            return Breakdown(WITHHELD, _shown(cells, hidden))
        hidden.add(shown[0][1])
    return Breakdown(total, _shown(cells, hidden))


def _hidden(n: int) -> Shown:
    return FEWER if n < THRESHOLD else WITHHELD


def _shown(cells: dict[str, int], hidden: set[str]) -> dict[str, Shown]:
    return {value: _hidden(n) if value in hidden else n for value, n in cells.items()}


def _bounds(n: int) -> tuple[int, int]:
    """What a reader knows of a hidden cell: 1 to 4 when small, at least 5 otherwise."""
    return (1, THRESHOLD - 1) if n < THRESHOLD else (THRESHOLD, 10**12)


def _disclosed(total: int, cells: dict[str, int], hidden: set[str]) -> bool:
    """Whether some hidden cell has only one value consistent with what is shown."""
    remainder = total - sum(n for value, n in cells.items() if value not in hidden)
    bounds = {value: _bounds(cells[value]) for value in hidden}
    for value in hidden:
        others_low = sum(low for other, (low, _high) in bounds.items() if other != value)
        others_high = sum(high for other, (_low, high) in bounds.items() if other != value)
        low, high = bounds[value]
        least = max(low, remainder - others_high)
        most = min(high, remainder - others_low)
        if least >= most:
            return True
    return False
