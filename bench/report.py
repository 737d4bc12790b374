"""results.json → a Markdown report (targets first, then each scenario) and a latency chart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.stats import per_cpu_second

DASH = "—"


def _num(value: Any, digits: int = 2) -> str:
    if value is None:
        return DASH
    if isinstance(value, bool | str):
        return str(value)
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.{digits}f}"


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += [
        "| " + " | ".join(_num(c) if not isinstance(c, str) else c for c in row) + " |"
        for row in rows
    ]
    return [*lines, ""]


def _routing_verdict(step: dict[str, Any]) -> str:
    if not step["valid"]:
        return str(step["note"])
    if step["unassigned"]:
        return f"fell behind: {step['unassigned']:,} still waiting when the drain window closed"
    return "kept up"


def _verdict(step: dict[str, Any]) -> str:
    if not step.get("valid", True):
        return str(step.get("note") or "INVALID")
    verdict = "kept up" if step.get("kept_up") else "fell behind"
    return f"{verdict}; {step['note']}" if step.get("note") else verdict


def _cpu(step: dict[str, Any]) -> str:
    """The servers' own CPU, and their workers' (the learned layer's) apart when they ran."""
    own = " + ".join(f"{c:.0%}" for c in step.get("server_cpu", [])) or DASH
    workers = step.get("server_workers_cpu", [])
    if any(c >= 0.005 for c in workers):
        own += " (worker " + " + ".join(f"{c:.0%}" for c in workers) + ")"
    return own


def _rss(step: dict[str, Any]) -> str:
    return " + ".join(f"{r:.0f}" for r in step.get("server_peak_rss_mib", [])) or DASH


STEP_HEADER = [
    "server",
    "groups",
    "offered/s",
    "delivered/s",
    "p50 ms",
    "p90 ms",
    "p99 ms",
    "p99.9 ms",
    "max ms",
    "undelivered",
    "seq gaps",
    "errors",
    "server CPU",
    "per CPU-s",
    "peak RSS MiB",
    "generator CPU",
    "send lag p99 ms",
    "p99 from send ms",
    "verdict",
]


def _step_row(label: str, step: dict[str, Any]) -> list[Any]:
    latency = step.get("latency", {})
    errors = ", ".join(f"{k}: {v}" for k, v in step.get("errors", {}).items()) or "0"
    return [
        label,
        step.get("conversations"),
        step["offered_rate"],
        step.get("delivered_rate"),
        latency.get("p50_ms"),
        latency.get("p90_ms"),
        latency.get("p99_ms"),
        latency.get("p999_ms"),
        latency.get("max_ms"),
        step.get("undelivered"),
        step.get("seq_missing"),
        errors,
        _cpu(step),
        per_cpu_second(step) if step.get("server_cpu") else None,
        _rss(step),
        f"{step.get('generator_cpu', 0):.0%}",
        step.get("send_lag", {}).get("p99_ms"),
        step.get("latency_from_send", {}).get("p99_ms"),
        _verdict(step),
    ]


def _status(section: dict[str, Any]) -> str:
    return str(section.get("status", "missing"))


def _met(value: Any, goal: float, higher_is_better: bool) -> str:
    if not isinstance(value, int | float):
        return DASH
    ok = value >= goal if higher_is_better else value <= goal
    return "yes" if ok else "no"


def _both(first: str, second: str) -> str:
    if DASH in (first, second):
        return DASH
    return "yes" if first == second == "yes" else "no"


def targets(results: dict[str, Any]) -> list[str]:
    s = results["scenarios"]
    one = s.get("one_to_one", {}).get("summary", {})
    one_pg = s.get("one_to_one_pg", {}).get("summary", {})
    rooms50 = s.get("rooms", {}).get("summary", {}).get("50", {})
    room_sizes = {
        k: v for k, v in s.get("rooms", {}).get("summary", {}).items() if k in ("50", "200")
    }
    sized = list(room_sizes.items())
    idle = s.get("idle", {}).get("summary", {})
    routing = s.get("routing", {}).get("summary", {})
    surge_section = s.get("surge", {})
    surge = surge_section.get("summary", {})
    two = s.get("two_nodes", {}).get("summary", {})
    rows: list[list[Any]] = [
        [
            "1:1 p50 at 1,000 msg/s",
            "≤ 2 ms",
            one.get("p50_ms_at_1000"),
            one.get("raw_p50_ms_at_1000"),
            _met(one.get("p50_ms_at_1000"), 2.0, False),
        ],
        [
            "1:1 p99 at 1,000 msg/s",
            "≤ 10 ms",
            one.get("p99_ms_at_1000"),
            one.get("raw_p99_ms_at_1000"),
            _met(one.get("p99_ms_at_1000"), 10.0, False),
        ],
        [
            "1:1 persisted msg/s sustained",
            "≥ 5,000",
            one.get("sustained_msgs_per_s"),
            one.get("raw_sustained_msgs_per_s"),
            _met(one.get("sustained_msgs_per_s"), 5000, True),
        ],
        [
            "1:1 on PostgreSQL: p50 / p99 at 1,000 msg/s",
            "≤ 2 / ≤ 10 ms",
            f"{_num(one_pg.get('p50_ms_at_1000'))} / {_num(one_pg.get('p99_ms_at_1000'))}",
            DASH,
            _both(
                _met(one_pg.get("p50_ms_at_1000"), 2.0, False),
                _met(one_pg.get("p99_ms_at_1000"), 10.0, False),
            ),
        ],
        [
            "1:1 on PostgreSQL: persisted msg/s sustained",
            "≥ 5,000",
            one_pg.get("sustained_msgs_per_s"),
            one.get("raw_sustained_msgs_per_s"),
            _met(one_pg.get("sustained_msgs_per_s"), 5000, True),
        ],
        [
            "rooms of 50: deliveries/s (p99 ≤ 100 ms)",
            "≥ 30,000",
            rooms50.get("willow_deliveries_per_s"),
            rooms50.get("raw_deliveries_per_s"),
            _met(rooms50.get("willow_deliveries_per_s"), 30_000, True),
        ],
        [
            "rooms of 50: share of raw limit",
            "≥ 0.25",
            rooms50.get("ratio_of_raw"),
            1.0,
            _met(rooms50.get("ratio_of_raw"), 0.25, True),
        ],
        *[
            [
                f"rooms of {size}: per server CPU-second, share of raw",
                "≥ 0.6",
                rooms.get("per_cpu_ratio_of_raw"),
                1.0,
                _met(rooms.get("per_cpu_ratio_of_raw"), 0.6, True),
            ]
            for size, rooms in room_sizes.items()
        ],
        *[
            [
                f"{name}: per server CPU-second, times python-socketio",
                "≥ 5",
                figures.get("per_cpu_times_socketio"),
                DASH,
                _met(figures.get("per_cpu_times_socketio"), 5.0, True),
            ]
            for name, figures in (("1:1", one), *[(f"rooms of {k}", v) for k, v in sized])
        ],
        [
            f"idle: KiB per connection ({_num(idle.get('connections'))} open)",
            "≤ 40 KiB at 20,000",
            idle.get("willow_kib_per_connection"),
            idle.get("raw_kib_per_connection"),
            _met(idle.get("willow_kib_per_connection"), 40.0, False),
        ],
        [
            "routing p99 at 50 arrivals/s",
            "≤ 50 ms",
            routing.get("p99_ms_at_50_per_s"),
            DASH,
            _met(routing.get("p99_ms_at_50_per_s"), 50.0, False),
        ],
        [
            f"surge of {_num(surge_section.get('women'), 0)} waiting: routing p99 after an end",
            "≤ 50 ms",
            surge.get("routing_p99_ms"),
            DASH,
            _met(surge.get("routing_p99_ms"), 50.0, False),
        ],
        [
            "two nodes over Redis: added p50",
            "≤ 1 ms",
            two.get("added_p50_ms"),
            two.get("redis_publish_round_trip_p50_ms"),
            _met(two.get("added_p50_ms"), 1.0, False),
        ],
    ]
    lines = [
        "## Where we stand",
        "",
        "Targets are for one server process on one core; a dash means not measured in this run.",
        "",
    ]
    return lines + _table(["target", "goal", "Willow", "raw limit", "met"], rows)


def _one_to_one(section: dict[str, Any], postgres: dict[str, Any]) -> list[str]:
    lines = ["## 1:1 chats with persistence", ""]
    sqlite_ok, postgres_ok = _status(section) == "ok", _status(postgres) == "ok"
    if not sqlite_ok and not postgres_ok:
        return [
            *lines,
            f"Status: {_status(section)} {section.get('error', '')}",
            f"On PostgreSQL: {_status(postgres)} {postgres.get('error', '')}",
            "",
        ]
    lines += [
        "Visitor–adviser conversations (more for higher rates; each side writes at most 0.6 "
        "msg/s); messages alternate direction; latency is from "
        "the "
        "intended send time to the partner's receipt. The raw server relays the same frames. "
        '"Willow" stores on SQLite (the embedded default), "Willow, PostgreSQL" on a '
        "scratch PostgreSQL database on the same machine (its processes are not pinned and "
        'their CPU is not in "server CPU", which is the node\'s own).',
        "",
    ]
    if not postgres_ok:
        lines += [f"On PostgreSQL: {_status(postgres)} {postgres.get('error', '')}", ""]
    rows = [_step_row("Willow", st) for st in section.get("willow", [])]
    rows += [_step_row("Willow, PostgreSQL", st) for st in postgres.get("willow", [])]
    rows += [_step_row("raw", st) for st in section.get("raw", [])]
    rows += [_step_row("python-socketio", st) for st in section.get("socketio", [])]
    lines += _table(STEP_HEADER, rows)
    if sqlite_ok:
        summary = section["summary"]
        lines += _table(["figure", "value"], [[k.replace("_", " "), v] for k, v in summary.items()])
    if postgres_ok:
        summary = postgres["summary"]
        lines += _table(
            ["figure, PostgreSQL", "value"],
            [[k.replace("_", " "), v] for k, v in summary.items()],
        )
    return lines


def _rooms(section: dict[str, Any]) -> list[str]:
    lines = ["## Group rooms", ""]
    willow = section.get("willow", {})
    if _status(section) == "error":
        return [*lines, f"Status: error {section.get('error', '')}", ""]
    lines += [
        f"Willow: {willow.get('status')}" + (f" ({willow['why']})" if willow.get("why") else ""),
        "",
    ]
    rows = []
    for size, steps in section.get("raw", {}).items():
        rows += [_step_row(f"raw, rooms of {size}", st) for st in steps]
    for size, steps in section.get("socketio", {}).items():
        rows += [_step_row(f"python-socketio, rooms of {size}", st) for st in steps]
    for size, steps in willow.items():
        if isinstance(steps, list):
            rows += [_step_row(f"Willow, rooms of {size}", st) for st in steps]
    lines += ["Offered and delivered are deliveries/s (messages/s × listeners).", ""]
    header = ["server", *STEP_HEADER[1:]]
    lines += _table(header, [_as_deliveries(r, section) for r in rows])
    figures = [
        [f"rooms of {size}", key.replace("_", " "), value]
        for size, summary in section.get("summary", {}).items()
        for key, value in summary.items()
    ]
    if figures:
        lines += _table(["rooms", "figure", "value"], figures)
    return lines


def _as_deliveries(row: list[Any], _section: dict[str, Any]) -> list[Any]:
    label = str(row[0])
    size = int(label.rsplit(" ", 1)[-1])
    return [label, row[1], row[2] * (size - 1), *row[3:]]


def _two_nodes(section: dict[str, Any]) -> list[str]:
    lines = ["## Two nodes over Redis and PostgreSQL", ""]
    if _status(section) != "ok":
        return [*lines, f"Status: {_status(section)} {section.get('error', '')}", ""]
    rows = [
        _step_row(name.replace("_", " "), section[name])
        for name in ("one_node_memory", "one_node_redis", "two_nodes_redis")
    ]
    lines += _table(STEP_HEADER, rows)
    limit = section.get("redis_publish_limit", {})
    if limit.get("status") == "ok":
        lines += _table(
            ["redis-benchmark PUBLISH", "per s", "p50 ms", "p99 ms"],
            [
                [name.replace("_", " "), v["publish_per_s"], v["p50_ms"], v["p99_ms"]]
                for name, v in limit.items()
                if isinstance(v, dict)
            ],
        )
    else:
        lines += [f"Redis limit: {limit.get('status')}", ""]
    lines += _table(
        ["figure", "value"], [[k.replace("_", " "), v] for k, v in section["summary"].items()]
    )
    return lines


def _stalled(section: dict[str, Any]) -> list[str]:
    lines = ["## 1% of clients stop reading", ""]
    if _status(section) != "ok":
        return [*lines, f"Status: {_status(section)} {section.get('error', '')}", ""]
    lines += [
        f"{section['pairs']} pairs; {section['stalled_clients']} visitor(s) stop reading while "
        "their advisers write fast and long; "
        f"WILLOW_SEND_QUEUE_SIZE={section.get('send_queue_size')}.",
        "",
    ]
    lines += _table(
        STEP_HEADER,
        [
            _step_row("baseline", section["baseline"]),
            _step_row("with stalled", section["with_stalled"]),
        ],
    )
    lines += _table(
        ["figure", "value"], [[k.replace("_", " "), v] for k, v in section["summary"].items()]
    )
    return lines


def _reconnect(section: dict[str, Any]) -> list[str]:
    lines = ["## Reconnect storm", ""]
    if _status(section) != "ok":
        return [*lines, f"Status: {_status(section)} {section.get('error', '')}", ""]
    welcome = section.get("welcome_latency", {})
    rows = [
        ["visitors dropped at once", section["visitors"]],
        ["offline for (s)", section["offline_s"]],
        ["messages written while offline", section["written_while_offline"]],
        ["until all welcomed again (s)", section["all_welcomed_s"]],
        ["until all caught up (s)", section["all_caught_up_s"]],
        [
            "hello → welcome p50 / p99 / max (ms)",
            " / ".join(_num(welcome.get(k)) for k in ("p50_ms", "p99_ms", "max_ms")),
        ],
        ["undelivered", section["undelivered"]],
        ["seq gaps (missing) / repeats", f"{section['seq_missing']} / {section['seq_repeats']}"],
        ["server CPU / peak RSS MiB", f"{_cpu(section)} / {_rss(section)}"],
    ]
    return lines + _table(["figure", "value"], rows)


def _idle(section: dict[str, Any]) -> list[str]:
    lines = ["## Idle connections", ""]
    if _status(section) != "ok":
        return [*lines, f"Status: {_status(section)} {section.get('error', '')}", ""]
    lines += [
        f"{_num(section['connections'])} connections (wanted {_num(section['wanted'])}, "
        f"open-files limit {_num(section['fd_limit'])}).",
        "",
    ]
    rows = [
        [
            name,
            v["rss_before_mib"],
            v["rss_after_mib"],
            v["kib_per_connection"],
            v["open_per_s"],
            v.get("ping_sample_answered") or DASH,
        ]
        for name, v in (("Willow", section["willow"]), ("raw", section["raw"]))
    ]
    lines += _table(
        [
            "server",
            "RSS before MiB",
            "RSS after MiB",
            "KiB per connection",
            "opened per s",
            "ping sample answered",
        ],
        rows,
    )
    return lines


def _routing(section: dict[str, Any]) -> list[str]:
    lines = ["## Queue routing", ""]
    if _status(section) != "ok":
        return [*lines, f"Status: {_status(section)} {section.get('error', '')}", ""]
    lines += [
        f"{section['advisers']} advisers take chats as they see them; latency is from the intended "
        "request_chat time to the visitor's `assigned`.",
        "",
    ]
    rows = []
    for st in section["steps"]:
        latency = st["latency"]
        errors = ", ".join(f"{k}: {v}" for k, v in st["adviser_errors"].items()) or "0"
        rows.append(
            [
                st["offered_rate"],
                st["assigned"],
                st["unassigned"],
                latency.get("p50_ms"),
                latency.get("p99_ms"),
                latency.get("max_ms"),
                errors,
                _cpu(st),
                f"{st['generator_cpu']:.0%}",
                _routing_verdict(st),
            ]
        )
    lines += _table(
        [
            "arrivals/s",
            "assigned",
            "unassigned",
            "p50 ms",
            "p99 ms",
            "max ms",
            "adviser errors",
            "server CPU",
            "generator CPU",
            "verdict",
        ],
        rows,
    )
    return lines


def _surge(section: dict[str, Any]) -> list[str]:
    lines = ["## Surge", ""]
    if _status(section) != "ok":
        return [*lines, f"Status: {_status(section)} {section.get('error', '')}", ""]
    latency = section["routing_after_end"]
    lines += [
        f"{section['women']} women arrive at {section['rate_per_s']} a second while "
        f"{section['advisers']} advisers of {section['adviser_capacity']} places end chats; "
        "latency is from an adviser's `end` to the next woman's `assigned`.",
        "",
    ]
    lines += _table(
        [
            "hand-overs",
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "max ms",
            "server CPU",
            "bytes/s per waiting woman",
            "bytes/s per adviser",
        ],
        [
            [
                latency.get("count"),
                latency.get("p50_ms"),
                latency.get("p90_ms"),
                latency.get("p99_ms"),
                latency.get("max_ms"),
                ", ".join(f"{c:.0%}" for c in section.get("server_cpu", [])) or DASH,
                section.get("bytes_per_s_per_waiting_woman"),
                section.get("bytes_per_s_per_adviser"),
            ]
        ],
    )
    rows = [
        [
            name,
            e.get("women"),
            e.get("mean_abs_error_min"),
            e.get("median_abs_error_min"),
            e.get("within_range_share"),
            e.get("mean_actual_wait_min"),
        ]
        for name, e in section.get("estimator", {}).items()
    ]
    if rows:
        lines += [
            "",
            "The wait estimator on simulated evenings (minutes):",
            "",
            *_table(
                [
                    "evening",
                    "women",
                    "mean error",
                    "median error",
                    "share inside the range",
                    "mean actual wait",
                ],
                rows,
            ),
        ]
    return [*lines, ""]


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        f"# Willow benchmark: {results['profile']} run, {results['started_at']}",
        "",
        f"Machine: {m['cpu_model']}, {m['cores']} cores, {m['memory_gib']} GiB, "
        f"Python {m['python']}, "
        f"kernel {m['kernel']}; load average at start {m['load_average_at_start']}. "
        f"Pinning: {results['pinning']}. Wall time: {_num(results.get('wall_seconds'), 0)} s.",
        "",
    ]
    lines += targets(results)
    s = results["scenarios"]
    lines += _one_to_one(s.get("one_to_one", {}), s.get("one_to_one_pg", {}))
    lines += _rooms(s.get("rooms", {}))
    lines += _two_nodes(s.get("two_nodes", {}))
    lines += _stalled(s.get("stalled", {}))
    lines += _reconnect(s.get("reconnect", {}))
    lines += _idle(s.get("idle", {}))
    lines += _routing(s.get("routing", {}))
    if "surge" in s:
        lines += _surge(s["surge"])
    return "\n".join(lines)


def chart(results: dict[str, Any], path: Path) -> None:
    """Latency (p50 and p99) against offered load: 1:1, rooms and routing, Willow and raw."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = results["scenarios"]
    figure, axes = plt.subplots(1, 3, figsize=(16, 5))
    one = s.get("one_to_one", {})
    pg = s.get("one_to_one_pg", {})
    for label, steps in (
        ("Willow", one.get("willow", [])),
        ("Willow, PostgreSQL", pg.get("willow", [])),
        ("raw", one.get("raw", [])),
    ):
        _plot(axes[0], steps, label, 1)
    axes[0].set_title("1:1 chats")
    axes[0].set_xscale("log")
    axes[0].set_xlabel("offered messages/s")
    rooms = s.get("rooms", {})
    for size, steps in rooms.get("raw", {}).items():
        _plot(axes[1], steps, f"raw, rooms of {size}", int(size) - 1)
    for size, steps in rooms.get("willow", {}).items():
        if isinstance(steps, list):
            _plot(axes[1], steps, f"Willow, rooms of {size}", int(size) - 1)
    axes[1].set_title(
        "group rooms" + ("" if rooms.get("status") == "ok" else f" (Willow: {rooms.get('status')})")
    )
    axes[1].set_xlabel("offered deliveries/s")
    axes[1].set_xscale("log")
    _plot(axes[2], s.get("routing", {}).get("steps", []), "Willow", 1)
    axes[2].set_title("queue routing")
    axes[2].set_xlabel("arrivals/s")
    for axis in axes:
        axis.set_ylabel("latency ms (from intended send)")
        axis.set_yscale("log")
        axis.grid(True, which="both", alpha=0.3)
        if axis.get_legend_handles_labels()[0]:
            axis.legend(fontsize=8)
    figure.suptitle(f"Willow benchmark, {results['profile']} run, {results['started_at']}")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _plot(axis: Any, steps: list[dict[str, Any]], label: str, per_message: int) -> None:
    points = [
        (st["offered_rate"] * per_message, st["latency"])
        for st in steps
        if st.get("latency", {}).get("count")
    ]
    if not points:
        return
    xs = [x for x, _ in points]
    axis.plot(xs, [lat["p50_ms"] for _, lat in points], marker="o", label=f"{label} p50")
    axis.plot(
        xs, [lat["p99_ms"] for _, lat in points], marker="x", linestyle="--", label=f"{label} p99"
    )
