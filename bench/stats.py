"""Latency figures and verdicts: raw microseconds on the hot path, summaries and judgements after.

Everything here is pure (no I/O), so it is tested directly.
"""

from __future__ import annotations

from array import array
from typing import Any

from hdrh.histogram import HdrHistogram

HIGHEST_US = 3_600_000_000  # an hour: anything later is clipped, not dropped
# The generator's own process using this much of its core means it may be the bottleneck.
GENERATOR_SATURATED = 0.90
# A step "keeps up" when nearly everything offered was delivered without a growing backlog.
KEPT_UP_DELIVERY_RATIO = 0.95
KEPT_UP_P99_MS = 250.0
# Sending this much later than scheduled (a busy machine, a descheduled generator) is noted.
GENERATOR_LATE_MS = 10.0


class Latencies:
    """Latencies in whole microseconds, appended cheaply and summarised with HdrHistogram."""

    def __init__(self) -> None:
        self.values: array[int] = array("q")

    def add(self, seconds: float) -> None:
        self.values.append(max(1, int(seconds * 1_000_000)))

    def __len__(self) -> int:
        return len(self.values)

    def summary(self) -> dict[str, float]:
        return summarise(self.values)


def summarise(values_us: array[int] | list[int]) -> dict[str, float]:
    """Count, mean and percentiles in milliseconds; empty input gives count 0 only."""
    if not values_us:
        return {"count": 0}
    histogram = HdrHistogram(1, HIGHEST_US, 3)
    for value in values_us:
        histogram.record_value(min(value, HIGHEST_US))
    ms = 1000.0
    return {
        "count": len(values_us),
        "mean_ms": round(histogram.get_mean_value() / ms, 3),
        "p50_ms": histogram.get_value_at_percentile(50) / ms,
        "p90_ms": histogram.get_value_at_percentile(90) / ms,
        "p99_ms": histogram.get_value_at_percentile(99) / ms,
        "p999_ms": histogram.get_value_at_percentile(99.9) / ms,
        "max_ms": histogram.get_max_value() / ms,
    }


def generator_verdict(generator_cpu: float | None) -> tuple[bool, str | None]:
    """A step is INVALID when the load generator itself was near the limit of its core."""
    if generator_cpu is not None and generator_cpu >= GENERATOR_SATURATED:
        return False, f"INVALID: generator used {generator_cpu:.0%} of its core"
    return True, None


def lateness_note(send_lag_p99_ms: float | None) -> str | None:
    """Say so when the generator itself sent late: latencies then include its delay too."""
    if send_lag_p99_ms is not None and send_lag_p99_ms > GENERATOR_LATE_MS:
        return f"generator late (send lag p99 {send_lag_p99_ms:.0f} ms)"
    return None


def kept_up(offered: float, delivered_rate: float, lost: int, p99_ms: float | None) -> bool:
    """Delivered (almost) all that was offered, lost nothing and built no backlog."""
    if offered <= 0 or lost:
        return False
    if delivered_rate < KEPT_UP_DELIVERY_RATIO * offered:
        return False
    return p99_ms is not None and p99_ms <= KEPT_UP_P99_MS


def ratio(willow: float | None, limit: float | None) -> float | None:
    """Willow's figure as a fraction of the limit's, or None when either is missing."""
    if willow is None or limit is None or limit == 0:
        return None
    return round(willow / limit, 3)


def best_sustained(steps: list[dict[str, Any]]) -> float | None:
    """The highest offered rate among valid steps that kept up."""
    rates = [float(s["offered_rate"]) for s in steps if s.get("kept_up") and s.get("valid")]
    return max(rates) if rates else None


def per_cpu_second(step: dict[str, Any] | None) -> float | None:
    """Deliveries per second of server CPU (its share of a core summed over its processes):
    a figure that does not depend on whether the generator kept up with its schedule."""
    if step is None:
        return None
    cpu = sum(step.get("server_cpu", []))
    return round(step["delivered_rate"] / cpu) if cpu > 0 else None


def common_step(
    *ladders: list[dict[str, Any]],
) -> tuple[float | None, list[dict[str, Any] | None]]:
    """The highest offered rate at which every ladder delivered everything (kept up or not:
    per CPU-second does not need the schedule kept), with each ladder's step."""
    whole = [{s["offered_rate"] for s in steps if s.get("undelivered") == 0} for steps in ladders]
    rates = set.intersection(*whole) if whole else set()
    if not rates:
        return None, [None for _ in ladders]
    rate = max(rates)
    return rate, [step_at(steps, rate) for steps in ladders]


def step_at(steps: list[dict[str, Any]], rate: float) -> dict[str, Any] | None:
    """The step whose offered rate is `rate`, if that step ran."""
    for step in steps:
        if step["offered_rate"] == rate:
            return step
    return None


class SeqTrack:
    """What one recipient saw of each stream's `seq`: the last, and every gap or repeat."""

    def __init__(self) -> None:
        self.last: dict[int, int] = {}
        self.gaps = 0
        self.missing = 0
        self.repeats = 0

    def see(self, stream: int, seq: int) -> None:
        last = self.last.get(stream)
        if last is None:
            self.last[stream] = seq
            return
        if seq <= last:
            self.repeats += 1
            return
        if seq != last + 1:
            self.gaps += 1
            self.missing += seq - last - 1
        self.last[stream] = seq
