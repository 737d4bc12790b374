"""The learned risk layer's worker process: `python -m moderation.safeguarding.learned_worker`,
started by its node (moderation/safeguarding/learned.py) with two pipes, never by hand.

It loads the encoder and the committed head once, then reads batches of messages on its
standard input and answers each batch with its verdicts on its standard output, in order:
each frame is a 4-byte big-endian length and a JSON body (no pickles either way).

    node -> worker  {"messages": [[text, [earlier, ...]], ...]}
    worker -> node  {"verdicts": [[danger, category, flagged], ...]}
                    or {"error": "TypeName"} when the batch could not be read

The whole batch is embedded in one encoder call (`moderation.learned.judge_many`). The worker
ends when its input hangs up: the node closed it, or the node died (a node killed outright
cannot say so; its end of the pipe closes with it), even while the model is loading. It runs
at the lowest scheduling priority, so where it shares a core with its node, the kernel gives
the core to the node first.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import struct
import sys
import threading
from typing import BinaryIO

HEADER = struct.Struct(">I")
# A frame larger than this is refused (a batch is at most the queue's size of messages, each
# cut to moderation.learned.MAX_CHARS with her last two).
MAX_FRAME = 64 * 1024 * 1024


class FrameError(ValueError):
    """A frame that is too large or not the JSON object expected."""


def encode_frame(body: dict[str, object]) -> bytes:
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return HEADER.pack(len(data)) + data


def decode_body(data: bytes) -> dict[str, object]:
    body = json.loads(data)
    if not isinstance(body, dict):
        raise FrameError("a frame is a JSON object")
    return body


def _read_exactly(stream: BinaryIO, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        part = stream.read(size - len(data))
        if not part:
            return None
        data += part
    return data


def read_frame(stream: BinaryIO) -> dict[str, object] | None:
    """The next frame's body, or None when the input has ended."""
    header = _read_exactly(stream, HEADER.size)
    if header is None:
        return None
    (size,) = HEADER.unpack(header)
    if size > MAX_FRAME:
        raise FrameError(f"a frame of {size} bytes")
    data = _read_exactly(stream, size)
    return None if data is None else decode_body(data)


def serve(source: BinaryIO, sink: BinaryIO) -> None:
    # Imported here: the node imports this module's framing without loading numpy's model.
    from moderation.learned import judge_many, load_head
    from moderation.safeguarding.encoder import load_encoder

    encoder, head = load_encoder(), load_head()
    while (request := read_frame(source)) is not None:
        try:
            messages = request["messages"]
            assert isinstance(messages, list)
            verdicts = judge_many(head, encoder, [(str(t), tuple(p)) for t, p in messages])
            reply: dict[str, object] = {
                "verdicts": [[v.danger, v.category.value, v.flagged] for v in verdicts]
            }
        except Exception as exc:
            # Named by its type only: a message's words never reach the log or the node.
            reply = {"error": type(exc).__name__}
        sink.write(encode_frame(reply))
        sink.flush()


def _end_with_the_node(fd: int) -> None:
    """End as soon as the node's end of the input closes, even while the model is still
    loading or a batch is being read: a thread that sleeps in poll() until the pipe hangs up
    (no wake-ups before that)."""

    def watch() -> None:
        poller = select.poll()
        poller.register(fd, 0)  # hang-ups and errors are always reported
        while True:
            for _fd, events in poller.poll():
                if events & (select.POLLHUP | select.POLLERR | select.POLLNVAL):
                    os._exit(0)

    threading.Thread(target=watch, name="willow-learned-node", daemon=True).start()


def main() -> None:
    os.nice(19)
    _end_with_the_node(sys.stdin.fileno())
    # The verdicts go out on a private copy of standard output; anything printed (by a
    # library) goes to standard error, the node's log, and cannot corrupt a frame.
    sink = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    with contextlib.suppress(BrokenPipeError, KeyboardInterrupt):
        serve(sys.stdin.buffer, sink)


if __name__ == "__main__":
    main()
