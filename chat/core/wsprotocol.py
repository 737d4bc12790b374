"""The WebSocket protocol Willow's server runs: uvicorn's, with the chat's common frames read
without the general frame parser's layers.

Nearly every frame on the chat socket is one whole text frame: a masked, unfragmented client
frame in, an unmasked server frame out, no extension (Willow turns per-message compression
off). uvicorn hands each through the websockets library's general frame machinery (a parser
built of generator steps, a frame object, its checks, its serialisation) and, going out, an
ASGI message and a coroutine per frame. Under a busy 1:1 load that is a noticeable share of
the node's time per message (bench: `python -m bench.pathcost --calls`).

So this protocol reads such a frame itself when the connection is open and the general parser
stands between two frames. (Frames out are framed once per message by the hub and written by
chat/core/frames.py's `FrameWriter` when the socket takes them at once.) Anything else (a
control frame, a fragment, an unmasked or reserved-bit frame, a frame over the size limit,
text that is not UTF-8, a half-arrived frame, a connection that is closing) goes through
uvicorn and websockets exactly as before, so every error, close code and limit is theirs.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

try:
    from websockets.speedups import apply_mask
except ImportError:  # a build of websockets without its C part
    from websockets.utils import apply_mask
from websockets.protocol import OPEN, Protocol
from websockets.streams import StreamReader

# FIN set, no reserved bit, opcode 1 (text): a whole text message in one frame.
_WHOLE_TEXT = 0x81
_MASKED = 0x80
_AT_EOF = StreamReader.at_eof.__code__
_FRAME_LOOP = Protocol.parse.__code__


class ChatWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O WebSocket protocol with a direct path for whole text frames."""

    def data_received(self, data: bytes) -> None:
        if self._between_frames():
            data = self._read_whole_text_frames(data)
            if not data:
                return
        super().data_received(data)

    def _between_frames(self) -> bool:
        """Open, and the general parser holds nothing: it waits for the start of a frame."""
        conn = self.conn
        return (
            self.handshake_complete
            and not self.close_sent
            and self.initial_response is None
            and conn.state is OPEN
            and conn.current_size is None
            and conn.parser_exc is None
            and not conn.extensions
            and not conn.reader.buffer
            and _waits_for_a_frame(conn.parser)
        )

    def _read_whole_text_frames(self, data: bytes) -> bytes:
        """Take the whole, masked, unfragmented text frames at the front of `data` and hand
        each to the app; return the rest, from the first that is anything else."""
        limit = self.conn.max_message_size
        fragment_limit = self.conn.max_fragment_size
        if fragment_limit is not None:
            limit = fragment_limit if limit is None else min(limit, fragment_limit)
        end = len(data)
        at = 0
        while end - at >= 6:
            second = data[at + 1]
            if data[at] != _WHOLE_TEXT or not second & _MASKED:
                break
            length = second & 0x7F
            start = at + 6
            if length == 126:
                start = at + 8
                if end < start:
                    break
                length = (data[at + 2] << 8) | data[at + 3]
            elif length == 127:
                break  # over 64 KiB: rare, left to the general parser
            if (limit is not None and length > limit) or end - start < length:
                break
            payload = apply_mask(data[start : start + length], data[start - 4 : start])
            try:
                text = payload.decode()
            except UnicodeDecodeError:
                break  # the general path closes with 1007
            self._text_received(text)
            at = start + length
        return data[at:] if at else data

    def _text_received(self, text: str) -> None:
        # What uvicorn does with a whole text message (send_receive_event_to_app).
        self.queue.put_nowait({"type": "websocket.receive", "text": text})
        if not self.read_paused:
            self.read_paused = True
            self.transport.pause_reading()


def _waits_for_a_frame(parser: Generator[None]) -> bool:
    """Whether the websockets parser is suspended between frames: its frame loop
    (`Protocol.parse`) waiting in `StreamReader.at_eof`, not part way through a frame (nor
    discarding what comes after a close)."""
    outer: Any = None
    step: Any = parser
    while step is not None:
        code = getattr(step, "gi_code", None)
        if code is _AT_EOF:
            return getattr(outer, "gi_code", None) is _FRAME_LOOP
        outer, step = step, getattr(step, "gi_yieldfrom", None)
    return False
