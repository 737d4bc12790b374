"""`python -m bench --short | --full` (see bench/README.md)."""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path

import uvloop

from bench import pyspy, runner
from bench.context import Context
from bench.profiles import PROFILES, SHORT
from bench.servers import pin_generator, raise_fd_limit

HERE = Path(__file__).resolve().parent
FD_LIMIT = 65_536


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Willow's benchmark")
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--short",
        dest="profile",
        action="store_const",
        const="short",
        help="a few minutes (default)",
    )
    size.add_argument(
        "--full", dest="profile", action="store_const", const="full", help="the report's run"
    )
    size.add_argument(
        "--smoke", dest="profile", action="store_const", const="smoke", help="seconds; for tests"
    )
    parser.add_argument(
        "--only", default="", help=f"comma-separated scenarios: {', '.join(runner.SCENARIOS)}"
    )
    parser.add_argument(
        "--out", type=Path, default=HERE / "out", help="runs go in OUT/<timestamp>/"
    )
    parser.add_argument(
        "--results-md",
        type=Path,
        default=None,
        help="also copy the Markdown report here (a full run writes bench/RESULTS.md)",
    )
    parser.add_argument(
        "--profile-server", action="store_true", help="profile Willow with py-spy instead"
    )
    parser.add_argument(
        "--rate",
        type=int,
        default=None,
        help="offered load while profiling: 1:1 msg/s (1,000), or room deliveries/s (30,000)",
    )
    parser.add_argument(
        "--profile-rooms",
        type=int,
        default=0,
        metavar="SIZE",
        help="profile under the rooms load, rooms of SIZE members, instead of 1:1",
    )
    parser.add_argument(
        "--profile-room-count", type=int, default=4, help="rooms while profiling rooms"
    )
    parser.add_argument("--seconds", type=float, default=10, help="py-spy recording time")
    args = parser.parse_args(argv)
    args.profile = args.profile or SHORT.name
    args.only = [n for n in args.only.split(",") if n]
    unknown = [n for n in args.only if n not in runner.SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}")
    if args.results_md is None and args.profile == "full" and not args.only:
        args.results_md = HERE / "RESULTS.md"
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    # picows logs each write pause; a flooding adviser would fill the terminal with them.
    logging.getLogger("picows").setLevel(logging.ERROR)
    pinning = pin_generator()
    raise_fd_limit(FD_LIMIT)  # thousands of connections; the servers inherit the limit
    out = runner.new_out_dir(args.out)
    profile = PROFILES[args.profile]
    started = time.monotonic()
    if args.profile_server:
        with tempfile.TemporaryDirectory(prefix="willow-bench-") as scratch:
            ctx = Context(profile, out, Path(scratch))
            if args.profile_rooms:
                profiling = pyspy.profile_rooms(
                    ctx,
                    args.profile_rooms,
                    args.profile_room_count,
                    args.rate or 30_000,
                    args.seconds,
                )
            else:
                profiling = pyspy.profile_server(ctx, args.rate or 1000, args.seconds)
            result = uvloop.run(profiling)
        print(
            result["status"], f"→ {out}/profile.md, profile.svg" if result["status"] == "ok" else ""
        )
        return 0 if result["status"] == "ok" else 1
    print(f"bench: {profile.name} run → {out} ({pinning})", flush=True)
    results = uvloop.run(runner.run(profile, args.only, out, pinning))
    if args.results_md is not None:
        shutil.copyfile(out / "results.md", args.results_md)
    failed = [n for n, s in results["scenarios"].items() if s.get("status") == "error"]
    print(
        f"bench: done in {time.monotonic() - started:.0f}s → {out}/results.md (.json, latency.png)"
    )
    if failed:
        print(f"bench: scenarios with errors: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
