"""Every feature's tables and migrations, named in one place: the composition root's.

Each package owns its tables (its `models` module) and its Alembic versions directory; the
core's migration runner is told where they are, so it imports no feature.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from chat.core import migrate

TABLE_MODULES = (
    "chat.core.models",
    "chat.core.presence",
    "moderation.safeguarding.models",
    "peers.models",
    "chat.reporting.models",
)
VERSION_DIRECTORIES = (
    Path(migrate.__file__).parent / "migrations" / "versions",
    Path(importlib.import_module("moderation.safeguarding").__file__ or "").parent / "migrations",
    Path(importlib.import_module("peers").__file__ or "").parent / "migrations",
    Path(importlib.import_module("chat.reporting").__file__ or "").parent / "migrations",
)


def import_all_tables() -> None:
    """Load every package's tables into the one metadata (tests, autogenerate)."""
    for name in TABLE_MODULES:
        importlib.import_module(name)


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the database to the newest schema of every package."""
    import_all_tables()
    await migrate.upgrade(engine, VERSION_DIRECTORIES)
