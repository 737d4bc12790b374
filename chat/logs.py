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


def configure_logging(level: str) -> None:
    logging.getLogger("willow").setLevel(level.upper())
    for name in _CHATTY:
        logging.getLogger(name).setLevel(logging.WARNING)
