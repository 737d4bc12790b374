"""Logging that cannot leak: libraries that echo queries or frames are held at WARNING.

Even with WILLOW_LOG_LEVEL=debug, message text, tokens and addresses must not reach a log.
"""

from __future__ import annotations

import logging

# These log SQL parameters, frame contents or client addresses at INFO or DEBUG.
_CHATTY = (
    "aiosqlite",
    "sqlalchemy.engine",
    "sqlalchemy.pool",
    "asyncpg",
    "websockets",
    "uvicorn.access",
    "httpx",
)


class _NoClientAddress(logging.Filter):
    """uvicorn names the client's address when it accepts a websocket, even without access log."""

    def filter(self, record: logging.LogRecord) -> bool:
        websocket_line = isinstance(record.msg, str) and record.msg.startswith('%s - "WebSocket')
        if websocket_line and isinstance(record.args, tuple) and record.args:
            record.args = ("-", *record.args[1:])
        return True


def configure_logging(level: str) -> None:
    uvicorn_log = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _NoClientAddress) for f in uvicorn_log.filters):
        uvicorn_log.addFilter(_NoClientAddress())
    logging.getLogger("willow").setLevel(level.upper())
    for name in _CHATTY:
        logging.getLogger(name).setLevel(logging.WARNING)
