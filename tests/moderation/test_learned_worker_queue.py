"""The node's side of the learned layer: a real worker process behind the bounded queue.

Messages that arrive while the worker reads go to it together, as one batch, and each gets
the verdict it would get alone; a worker that dies loses only what it held, and the next
message starts a new one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from moderation.learned import LearnedVerdict, judge_most, load_head, model_inputs
from moderation.safeguarding.encoder import load_encoder
from moderation.safeguarding.learned import WorkerQueue

# Written for this test, not taken from any labelled set.
MISSED = "he said next time he'll make sure i never wake up"
SAFE = "thanks, that helped, i'll come back tomorrow"
MESSAGES = [
    (MISSED, ()),
    (SAFE, ()),
    ("i've kept all my tablets in a drawer", ("i can't do this any more",)),
    ("mere pati ne kaha woh mujhe jaan se maar dega", ()),
    ("ok", (SAFE,)),
]


@pytest.fixture
async def queue() -> AsyncIterator[WorkerQueue]:
    worker = WorkerQueue(limit=8)
    worker.start()
    try:
        # The model loads in the worker; the first verdict waits for it.
        assert await asyncio.wait_for(worker.judge("hello", ()), 120) is not None
        yield worker
    finally:
        worker.close()


async def test_messages_queued_while_the_worker_reads_go_as_one_batch(
    queue: WorkerQueue,
) -> None:
    before = queue.batches
    verdicts = await asyncio.gather(*(queue.judge(text, prev) for text, prev in MESSAGES))
    # The first goes at once (the worker was free); the four that queued behind it go together.
    assert queue.batches - before == 2
    assert queue.waiting == 0
    # Each verdict is the one the message gets read alone, in this process.
    encoder, head = load_encoder(), load_head()
    for (text, previous), verdict in zip(MESSAGES, verdicts, strict=True):
        alone = judge_most(head, encoder(model_inputs(text, previous)))
        assert isinstance(verdict, LearnedVerdict)
        assert verdict.danger == pytest.approx(alone.danger, abs=1e-5)
        assert (verdict.category, verdict.flagged) == (alone.category, alone.flagged)


async def test_a_full_queue_refuses_at_once(queue: WorkerQueue) -> None:
    answers: list[LearnedVerdict | None] = []
    taken = [queue.submit(f"{SAFE} {n}", (), answers.append) for n in range(10)]
    assert taken == [True] * 8 + [False] * 2
    for _ in range(600):
        if len(answers) == 8:
            break
        await asyncio.sleep(0.1)
    assert len(answers) == 8 and all(a is not None for a in answers)


async def test_a_worker_that_dies_loses_only_what_it_held(queue: WorkerQueue) -> None:
    process = queue._process
    assert process is not None
    held = asyncio.ensure_future(queue.judge(MISSED, ()))
    await asyncio.sleep(0)
    process.kill()
    # What it was reading gets no verdict (the layer counts it as skipped).
    assert await asyncio.wait_for(held, 30) is None
    assert queue.waiting == 0
    # The next message starts a new worker, which answers.
    verdict = await asyncio.wait_for(queue.judge(MISSED, ()), 120)
    assert verdict is not None and verdict.flagged
    assert queue._process is not None and queue._process.pid != process.pid
