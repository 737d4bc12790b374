"""A server with tracemalloc switched on and off by signals, for `python -m bench.idlemem`.

`python -m bench.traced OUT -- MODULE ARGS` runs `python -m MODULE ARGS` (a Willow node's
`chat.cli run`, or `bench.rawserver --port N`). SIGUSR1 starts tracing allocations; SIGUSR2
writes what is still allocated since then to OUT (a tracemalloc snapshot), then collects
cyclic garbage and writes what is left to OUT.collected. Only what the measured stretch
allocated is traced, not start-up or the warm-up connections.
"""

from __future__ import annotations

import gc
import os
import runpy
import signal
import sys
import tracemalloc
from types import FrameType

# Frames kept per allocation: 1 is enough to group by line and keeps the server quick.
FRAMES = int(os.environ.get("BENCH_TRACE_FRAMES", "1"))


def main(argv: list[str]) -> None:
    if len(argv) < 3 or argv[1] != "--":
        sys.exit("usage: python -m bench.traced OUT -- MODULE ARGS")
    out, module, args = argv[0], argv[2], argv[3:]

    def start(_signal: int, _frame: FrameType | None) -> None:
        tracemalloc.start(FRAMES)

    def stop(_signal: int, _frame: FrameType | None) -> None:
        tracemalloc.take_snapshot().dump(out + ".partial")
        gc.collect()
        tracemalloc.take_snapshot().dump(out + ".collected")
        tracemalloc.stop()
        # The reader waits for OUT: it appears only once both snapshots are whole.
        os.replace(out + ".partial", out)

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
