"""A Willow node with cProfile switched on and off by signals, for `python -m bench.pathcost`.

`python -m bench.profiled OUT -- ARGS` runs `willow ARGS` (chat/cli.py). SIGUSR1 starts
profiling the event loop's thread; SIGUSR2 stops it and writes the statistics to OUT (a
pstats file). Only the measured stretch is profiled, not start-up or the conversations'
setup. Threads (SQLite's writer, aiosqlite's) are not profiled: their CPU time is in the
process's CPU time, which pathcost reports beside the call counts.
"""

from __future__ import annotations

import cProfile
import signal
import sys
from types import FrameType


def main(argv: list[str]) -> None:
    if len(argv) < 2 or argv[1] != "--":
        sys.exit("usage: python -m bench.profiled OUT -- willow-arguments")
    out, willow_args = argv[0], argv[2:]
    profiler = cProfile.Profile()

    def start(_signal: int, _frame: FrameType | None) -> None:
        profiler.enable()

    def stop(_signal: int, _frame: FrameType | None) -> None:
        profiler.disable()
        profiler.dump_stats(out)

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)
    from chat.cli import main as willow

    willow(willow_args)


if __name__ == "__main__":
    main(sys.argv[1:])
