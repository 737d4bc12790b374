"""Text frames built once and written straight to a socket's transport.

A room message goes to every member as the same bytes. Through the server's ASGI send, each
socket would frame it again: a coroutine, a message dict, the text encoded, a frame object
checked and serialised, the output list joined. For a socket that could take the frame at
once, all of that ends in one `transport.write` of the same bytes; so the hub frames a message
once (`text_frame`) and each socket's `FrameWriter` writes that frame itself, when and only
when the server's send would have written it at once and done nothing else.

Whenever that is not so (a full socket, a closing one, a server other than uvicorn's
websockets sans-I/O protocol, a compression extension), the writer declines and the frame
goes the server's way, through the send queue, which keeps the order and the bound.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

try:
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
    from websockets.protocol import State
except ImportError:  # pragma: no cover (another server or version: frames go its way)
    WebSocketsSansIOProtocol = None  # type: ignore[assignment,misc]

_TEXT = 0x81  # FIN, opcode 1 (text); a server's frames are never masked (RFC 6455, 5.1)
_SHORT = struct.Struct("!BB")
_MEDIUM = struct.Struct("!BBH")
_LONG = struct.Struct("!BBQ")

# The protocol's attributes a writer reads (uvicorn 0.55's websockets sans-I/O protocol).
_READ = (
    "close_sent",
    "conn",
    "disconnected",
    "handshake_complete",
    "initial_response",
    "transport",
    "writable",
)

# Writes a whole frame on one socket now; False (nothing written) when it cannot.
WriteFrame = Callable[[bytes], bool]


def text_frame(payload: bytes) -> bytes:
    """One unfragmented, unmasked text frame carrying `payload` (UTF-8 text)."""
    length = len(payload)
    if length < 126:
        head = _SHORT.pack(_TEXT, length)
    elif length < 65536:
        head = _MEDIUM.pack(_TEXT, 126, length)
    else:
        head = _LONG.pack(_TEXT, 127, length)
    return head + payload


class FrameWriter:
    """Writes frames on one uvicorn websocket (the websockets sans-I/O protocol) directly."""

    __slots__ = ("_conn", "_protocol", "_transport", "_writable")

    def __init__(self, protocol: Any) -> None:
        self._protocol = protocol
        # Set once the socket is accepted and never replaced while it is open.
        self._conn = protocol.conn
        self._transport = protocol.transport
        self._writable = protocol.writable

    @classmethod
    def for_send(cls, send: Callable[..., Any]) -> FrameWriter | None:
        """A writer for the socket behind the server's ASGI `send`, if frames can go straight
        to it: uvicorn's sans-I/O websockets protocol (or chat/core/wsprotocol.py's, which
        only reads differently), accepted, with no extension (a
        compressed socket needs its own framing)."""
        protocol = getattr(send, "__self__", None)
        if WebSocketsSansIOProtocol is None or not isinstance(protocol, WebSocketsSansIOProtocol):
            return None
        # What `write` reads of the protocol: a uvicorn that no longer has it goes its own way.
        if not all(hasattr(protocol, name) for name in _READ):
            return None
        conn = protocol.conn
        if conn.extensions or protocol.transport is None or not hasattr(conn, "writes"):
            return None
        if not protocol.handshake_complete or protocol.initial_response is not None:
            return None
        return cls(protocol)

    def write(self, frame: bytes) -> bool:
        """Write `frame` now if the server's send would write it without waiting; otherwise
        write nothing and say so (the frame then goes the server's way, which waits for a
        full socket and reports one that is gone)."""
        protocol = self._protocol
        if (
            protocol.close_sent
            or protocol.disconnected
            or not self._writable.is_set()
            or self._conn.state is not State.OPEN
            # Anything the protocol still holds to send goes first, the server's way.
            or self._conn.writes
            or self._transport.is_closing()
        ):
            return False
        self._transport.write(frame)
        return True
