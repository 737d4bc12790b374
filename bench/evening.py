"""Simulated helpline evenings: how far the wait estimate is from the wait she then has.

Pure and quick (no server): arrivals come at random through an evening, each woman with a
language and sometimes a topic; advisers with their languages and capacities take chats as
the routing decision (chat/helpline/routing.py) gives them; chats last a random time (a
log-normal around the evening's typical length). When she arrives, her estimate is worked out
exactly as the server does (chat/helpline/estimate.py, handling times smoothed over the chats
ended so far); when she is assigned, her actual wait is known. The error is the difference.

Women here never leave the queue and advisers never log off mid-evening: the error measured
is the estimator's own, not that of people changing their minds.
"""

from __future__ import annotations

import heapq
import math
import random
import statistics
from dataclasses import dataclass, replace
from typing import Any

from chat.helpline.estimate import estimate, smooth
from chat.helpline.routing import Adviser, Waiting, assign


@dataclass(frozen=True)
class Evening:
    name: str
    hours: float
    arrivals_per_hour: float
    advisers: tuple[tuple[int, frozenset[str]], ...]  # (capacity, languages)
    handling_minutes: float
    languages: tuple[tuple[str, float], ...] = (("en", 1.0),)
    seed: int = 1


EVENINGS = (
    Evening("quiet", 4, 6, ((2, frozenset({"en"})), (2, frozenset({"en", "pl"}))), 25),
    Evening(
        "busy",
        4,
        22,
        ((2, frozenset({"en"})), (2, frozenset({"en"})), (3, frozenset({"en", "ur"}))),
        25,
        (("en", 0.8), ("ur", 0.2)),
    ),
    Evening(
        "overloaded",
        3,
        30,
        ((2, frozenset({"en"})), (2, frozenset({"en", "ar"}))),
        20,
        (("en", 0.85), ("ar", 0.15)),
    ),
)


def _language(rng: random.Random, mix: tuple[tuple[str, float], ...]) -> str:
    roll, total = rng.random(), 0.0
    for code, share in mix:
        total += share
        if roll <= total:
            return code
    return mix[-1][0]


def simulate(evening: Evening) -> list[dict[str, float | None]]:
    """One evening: for each woman, (predicted low, high, actual) in seconds."""
    rng = random.Random(evening.seed)
    sigma = 0.6
    mu = math.log(evening.handling_minutes * 60) - sigma**2 / 2
    advisers = [
        Adviser(id=i + 1, capacity=cap, languages=langs)
        for i, (cap, langs) in enumerate(evening.advisers)
    ]
    events: list[tuple[float, int, str, int]] = []  # (time, order, kind, id)
    order = 0
    t = 0.0
    end = evening.hours * 3600
    woman = 0
    while True:
        t += rng.expovariate(evening.arrivals_per_hour / 3600)
        if t > end:
            break
        woman += 1
        order += 1
        heapq.heappush(events, (t, order, "arrive", woman))
    queue: dict[int, Waiting] = {}
    arrived: dict[int, float] = {}
    predicted: dict[int, tuple[float, float] | None] = {}
    handled: list[float] = []
    held: dict[int, int] = {}  # conversation -> adviser
    results: list[dict[str, float | None]] = []
    while events:
        now, _, kind, ident = heapq.heappop(events)
        if kind == "arrive":
            waiting = Waiting(ident, 0, now, language=_language(rng, evening.languages))
            queue[ident] = waiting
            arrived[ident] = now
            found = estimate(waiting, list(queue.values()), advisers, smooth(handled))
            predicted[ident] = None if found is None else (found.low, found.high)
        else:
            adviser_id = held.pop(ident)
            advisers = [
                replace(a, active=a.active - 1) if a.id == adviser_id else a for a in advisers
            ]
            handled.append(now - arrived[ident] - results_wait(results, ident))
        for conversation, adviser_id in assign(list(queue.values()), advisers):
            queue.pop(conversation)
            held[conversation] = adviser_id
            advisers = [
                replace(a, active=a.active + 1) if a.id == adviser_id else a for a in advisers
            ]
            guess = predicted[conversation]
            results.append(
                {
                    "id": conversation,
                    "low": guess[0] if guess else None,
                    "high": guess[1] if guess else None,
                    "actual": now - arrived[conversation],
                }
            )
            order += 1
            heapq.heappush(
                events, (now + rng.lognormvariate(mu, sigma), order, "end", conversation)
            )
    return results


def results_wait(results: list[dict[str, float | None]], ident: int) -> float:
    for row in reversed(results):
        if row["id"] == ident:
            return float(row["actual"] or 0.0)
    return 0.0


def error_summary(rows: list[dict[str, float | None]]) -> dict[str, Any]:
    """Minutes: mean and median absolute error of the range's middle, how often the actual
    wait fell inside the range, and the bias (positive: we said longer than it was)."""
    scored = [r for r in rows if r["low"] is not None and r["high"] is not None]
    if not scored:
        return {"women": len(rows), "estimated": 0}
    errors, inside, bias, widths = [], 0, [], []
    for r in scored:
        low, high, actual = float(r["low"] or 0), float(r["high"] or 0), float(r["actual"] or 0)
        middle = (low + high) / 2
        errors.append(abs(middle - actual) / 60)
        bias.append((middle - actual) / 60)
        widths.append((high - low) / 60)
        # Whole minutes, as the page shows them.
        if math.floor(low / 60) * 60 - 30 <= actual <= math.ceil(high / 60) * 60 + 30:
            inside += 1
    return {
        "women": len(rows),
        "estimated": len(scored),
        "mean_abs_error_min": round(statistics.fmean(errors), 2),
        "median_abs_error_min": round(statistics.median(errors), 2),
        "within_range_share": round(inside / len(scored), 3),
        "bias_min": round(statistics.fmean(bias), 2),
        "mean_range_width_min": round(statistics.fmean(widths), 2),
        "mean_actual_wait_min": round(
            statistics.fmean(float(r["actual"] or 0) for r in scored) / 60, 2
        ),
    }


def run_evenings(seeds: int = 5) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for evening in EVENINGS:
        rows: list[dict[str, float | None]] = []
        for seed in range(1, seeds + 1):
            rows += simulate(replace(evening, seed=seed))
        out[evening.name] = error_summary(rows)
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(run_evenings(), indent=2))
