"""The benchmark's own arithmetic: percentiles, verdicts, seq checks, schedules, parsers."""

from __future__ import annotations

import asyncio
import itertools

import pytest

pytest.importorskip("hdrh", reason="the bench extra is not installed (pip install -e '.[bench]')")

from bench import report
from bench.client import clock
from bench.load import open_loop
from bench.pyspy import top_functions
from bench.redislimit import parse_csv
from bench.scenarios.one_to_one import batches
from bench.scenarios.rooms import message_rates, room_count
from bench.stats import (
    Latencies,
    SeqTrack,
    best_sustained,
    generator_verdict,
    kept_up,
    lateness_note,
    summarise,
)
from bench.willow import SENDER_PACE, pairs_for, seed_sizes


def test_percentiles_come_out_in_milliseconds() -> None:
    values = list(range(1, 1001))  # 1 µs .. 1000 µs
    summary = summarise(values)
    assert summary["count"] == 1000
    assert summary["p50_ms"] == pytest.approx(0.5, rel=0.01)
    assert summary["p99_ms"] == pytest.approx(0.99, rel=0.01)
    assert summary["max_ms"] == pytest.approx(1.0, rel=0.01)


def test_no_latencies_give_a_count_of_zero_only() -> None:
    assert Latencies().summary() == {"count": 0}


def test_a_saturated_generator_makes_the_step_invalid() -> None:
    assert generator_verdict(0.95) == (False, "INVALID: generator used 95% of its core")
    assert generator_verdict(0.5) == (True, None)
    assert generator_verdict(None) == (True, None)


def test_a_late_generator_is_noted() -> None:
    assert lateness_note(2.0) is None
    assert lateness_note(120.0) == "generator late (send lag p99 120 ms)"


def test_keeping_up_needs_everything_delivered_without_a_backlog() -> None:
    assert kept_up(1000, 990, 0, 12.0)
    assert not kept_up(1000, 990, 1, 12.0)  # lost one
    assert not kept_up(1000, 700, 0, 12.0)  # delivered too slowly
    assert not kept_up(1000, 990, 0, 900.0)  # a growing backlog
    assert not kept_up(1000, 990, 0, None)


def test_best_sustained_ignores_invalid_and_failed_steps() -> None:
    steps = [
        {"offered_rate": 100, "kept_up": True, "valid": True},
        {"offered_rate": 200, "kept_up": True, "valid": True},
        {"offered_rate": 400, "kept_up": False, "valid": True},
        {"offered_rate": 800, "kept_up": True, "valid": False},
    ]
    assert best_sustained(steps) == 200
    assert best_sustained([]) is None


def test_seq_track_counts_gaps_missing_and_repeats() -> None:
    seen = SeqTrack()
    for seq in (1, 2, 3, 3, 6, 7, 2):
        seen.see(10, seq)
    seen.see(11, 5)  # a stream first seen mid-way is not a gap
    assert (seen.gaps, seen.missing, seen.repeats) == (1, 2, 2)
    assert seen.last == {10: 7, 11: 5}


def test_open_loop_keeps_every_intended_time_on_the_schedule() -> None:
    sent: list[tuple[int, float, float]] = []

    async def go() -> int:
        return await open_loop(200, 0.25, lambda k, at: sent.append((k, at, clock())))

    assert asyncio.run(go()) == 50
    assert [k for k, _, _ in sent] == list(range(50))
    gaps = {round(b[1] - a[1], 6) for a, b in itertools.pairwise(sent)}
    assert gaps == {0.005}
    assert all(actual >= intended for _, intended, actual in sent)  # never early


def test_enough_conversations_keep_each_sender_under_willows_flood_limit() -> None:
    assert pairs_for(1000) * 2 * SENDER_PACE >= 1000
    assert pairs_for(10, at_least=100) == 100
    assert batches((250, 500, 1000), 100) == [
        pairs_for(250),
        pairs_for(500) - pairs_for(250),
        pairs_for(1000) - pairs_for(500),
    ]
    assert seed_sizes([100, 20]) == (120, 4)


def test_room_rates_turn_deliveries_into_messages() -> None:
    assert message_rates((30_000,), 50) == [612]
    assert room_count(400, 200) == 2
    assert room_count(100, 200) == 1


def test_redis_benchmark_csv_is_read() -> None:
    text = (
        '"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms",'
        '"p99_latency_ms","max_latency_ms"\n'
        '"PUBLISH c x","32786.89","0.026","0.016","0.031","0.031","0.095","0.191"\n'
    )
    assert parse_csv(text)["rps"] == pytest.approx(32786.89)
    assert parse_csv(text)["p50_latency_ms"] == pytest.approx(0.031)
    with pytest.raises(ValueError, match="no result"):
        parse_csv("")


def test_profile_top_functions_split_self_from_total() -> None:
    collapsed = (
        "process 1:python;main (app.py:1);handle (ws.py:10);decode (protocol.py:5) 30\n"
        "process 1:python;main (app.py:1);handle (ws.py:12) 10\n"
        "process 1:python;main (app.py:1);commit (db.py:3) 60\n"
    )
    samples, own, total = top_functions(collapsed)
    assert samples == 100
    assert own[0] == ("commit (db.py)", 60)
    assert ("handle (ws.py)", 10) in own
    assert total[0] == ("main (app.py)", 100)
    assert ("handle (ws.py)", 40) in total


def test_report_says_what_was_not_measured() -> None:
    results = {
        "profile": "short",
        "started_at": "2026-01-01T00:00:00+00:00",
        "machine": {
            "cpu_model": "X",
            "cores": 2,
            "memory_gib": 4,
            "python": "3.11",
            "kernel": "6",
            "load_average_at_start": [0, 0, 0],
        },
        "pinning": "none",
        "scenarios": {
            "rooms": {
                "status": "not available yet",
                "willow": {"status": "not available yet", "why": "no room_join"},
                "raw": {},
            },
            "idle": {"status": "skipped"},
        },
    }
    text = report.markdown(results)
    assert "Willow: not available yet (no room_join)" in text
    assert "| 1:1 p50 at 1,000 msg/s | ≤ 2 ms | — | — | — |" in text
    assert "## Idle connections\n\nStatus: skipped" in text


def test_routing_step_with_visitors_still_waiting_is_reported_as_fallen_behind() -> None:
    base = {"valid": True, "note": None, "unassigned": 0}
    assert report._routing_verdict(base) == "kept up"
    assert report._routing_verdict({**base, "unassigned": 2818}) == (
        "fell behind: 2,818 still waiting when the drain window closed"
    )
    late = {**base, "valid": False, "note": "INVALID: generator used 95% of its core"}
    assert report._routing_verdict(late) == "INVALID: generator used 95% of its core"


def test_a_surge_run_gets_its_own_section_and_target_row() -> None:
    latency = {"count": 219, "p50_ms": 13.2, "p90_ms": 18.5, "p99_ms": 43.0, "max_ms": 142.5}
    estimator = {"quiet": {"women": 112, "mean_abs_error_min": 1.1, "within_range_share": 0.97}}
    results = {
        "profile": "full",
        "started_at": "2026-01-01T00:00:00+00:00",
        "machine": {
            "cpu_model": "X",
            "cores": 2,
            "memory_gib": 4,
            "python": "3.11",
            "kernel": "6",
            "load_average_at_start": [0, 0, 0],
        },
        "pinning": "none",
        "scenarios": {
            "surge": {
                "status": "ok",
                "women": 5000,
                "rate_per_s": 50,
                "advisers": 4,
                "adviser_capacity": 40,
                "routing_after_end": latency,
                "server_cpu": [0.4],
                "bytes_per_s_per_waiting_woman": 6.7,
                "bytes_per_s_per_adviser": 13592.2,
                "estimator": estimator,
                "summary": {"routing_p99_ms": 43.0},
            }
        },
    }
    text = report.markdown(results)
    assert "| surge of 5,000 waiting: routing p99 after an end | ≤ 50 ms | 43 | — | yes |" in text
    assert "## Surge" in text
    assert "| 219 | 13.20 | 18.50 | 43 | 142.50 | 40% | 6.70 | 13,592.20 |" in text
    assert "| quiet | 112 | 1.10 |" in text
