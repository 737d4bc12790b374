"""Profile a Willow node under load with py-spy: a flame graph and the top functions.

`python -m bench --profile-server [--rate 1000] [--seconds 10]` profiles the 1:1 load;
`--profile-rooms 50 [--profile-room-count 4] [--rate 30000]` the rooms load (rate in
deliveries a second). Either writes profile.svg, profile.txt (collapsed stacks) and
profile.md (top functions by self and total time).
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from bench.context import Context
from bench.load import MessageLoad, open_loop
from bench.willow import advisers_for, close_all, open_pairs, pairs_for

TOP = 25
_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>.*?)(?::\d+)?\)$")


def py_spy() -> str | None:
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


def _name(frame: str) -> str:
    """`func (path/to/file.py:12)` → `func (file.py)`: lines merged, paths shortened."""
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    file = match.group("file")
    for marker in ("site-packages/", "/work/main/", "lib/python3"):
        if marker in file:
            file = file.split(marker, 1)[1]
    return f"{match.group('func')} ({file})"


def top_functions(
    collapsed: str, top: int = TOP
) -> tuple[int, list[tuple[str, int]], list[tuple[str, int]]]:
    """From py-spy's collapsed stacks: total samples, and the top functions by self and total."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_name(f) for f in stack.split(";")]
        # py-spy puts the thread first; skip it so it does not top every list.
        if frames and frames[0].startswith(("process ", "thread ")):
            frames = frames[1:]
        if not frames:
            continue
        samples += count
        own[frames[-1]] += count
        for name in set(frames):
            total[name] += count
    return samples, own.most_common(top), total.most_common(top)


def profile_markdown(
    samples: int, own: list[tuple[str, int]], total: list[tuple[str, int]], title: str
) -> str:
    lines = [
        f"# {title}",
        "",
        f"{samples} samples.",
        "",
        "## Top functions by self time",
        "",
        "| share | samples | function |",
        "|---|---|---|",
    ]
    lines += [f"| {n / max(samples, 1):.1%} | {n} | `{f}` |" for f, n in own]
    lines += [
        "",
        "## Top functions by total time (inclusive)",
        "",
        "| share | samples | function |",
        "|---|---|---|",
    ]
    lines += [f"| {n / max(samples, 1):.1%} | {n} | `{f}` |" for f, n in total]
    return "\n".join(lines) + "\n"


async def _record(binary: str, pid: int, seconds: float, output: Path, fmt: str) -> None:
    process = await asyncio.create_subprocess_exec(
        binary,
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(int(seconds)),
        "--rate",
        "200",
        "--format",
        fmt,
        "--output",
        str(output),
        "--nonblocking",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await process.communicate()
    if process.returncode:
        raise RuntimeError(f"py-spy failed: {err.decode(errors='replace')[:400]}")


async def profile_server(ctx: Context, rate: int, seconds: float) -> dict[str, Any]:
    binary = py_spy()
    if binary is None:
        return {"status": "not available: py-spy is not installed (pip install py-spy)"}
    pairs = pairs_for(rate, ctx.profile.pairs)
    async with ctx.willow(pairs, advisers_for(pairs)) as (server, seeded):
        groups = await open_pairs(server, server, seeded.visitor_tokens, seeded.staff_cookies)
        load = MessageLoad(groups)
        load.begin()
        sending = asyncio.create_task(open_loop(rate, 2 * seconds + 4, load.send_one))
        await asyncio.sleep(1)
        await _record(binary, server.pid, seconds, ctx.out / "profile.txt", "raw")
        await _record(binary, server.pid, seconds, ctx.out / "profile.svg", "flamegraph")
        sending.cancel()
        close_all([m for g in groups for m in g.members])
    title = f"Willow under 1:1 load at {rate} msg/s offered ({pairs} pairs), py-spy {seconds:.0f} s"
    return _summarise(ctx, title)


async def profile_rooms(
    ctx: Context, size: int, rooms: int, deliveries: int, seconds: float
) -> dict[str, Any]:
    """The rooms load (bench/roomcost.py's node and rooms) at `deliveries` a second."""
    from bench.roomcost import Options, message_rate, willow_rooms
    from bench.scenarios.rooms import WillowRooms

    binary = py_spy()
    if binary is None:
        return {"status": "not available: py-spy is not installed (pip install py-spy)"}
    options = Options("willow", size, rooms, deliveries, 1, False, 0, None, {})
    rate = message_rate(options)
    async with willow_rooms(ctx, options, None) as (server, groups):
        load = MessageLoad(groups, frame=WillowRooms().frame, delivery="room_message")
        load.begin()
        sending = asyncio.create_task(open_loop(rate, 2 * seconds + 4, load.send_one))
        await asyncio.sleep(1)
        await _record(binary, server.pid, seconds, ctx.out / "profile.txt", "raw")
        await _record(binary, server.pid, seconds, ctx.out / "profile.svg", "flamegraph")
        sending.cancel()
        close_all([m for g in groups for m in g.members])
    title = (
        f"Willow under the rooms load: {rooms} rooms of {size}, {deliveries} deliveries/s "
        f"offered ({rate:.0f} msg/s), py-spy {seconds:.0f} s"
    )
    return _summarise(ctx, title)


def _summarise(ctx: Context, title: str) -> dict[str, Any]:
    samples, own, total = top_functions((ctx.out / "profile.txt").read_text())
    (ctx.out / "profile.md").write_text(profile_markdown(samples, own, total, title))
    return {"status": "ok", "samples": samples, "self": own, "total": total}
