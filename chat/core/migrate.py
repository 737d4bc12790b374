"""Apply Alembic migrations; used by `willow migrate`, at start, and by tests."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

# Any fixed number: every node that migrates takes this lock first.
MIGRATION_LOCK = 0x57494C4C4F57


def alembic_config(url: str, version_directories: Sequence[Path]) -> Config:
    """Alembic's configuration: the core's environment, every package's versions directory."""
    config = Config()
    config.set_main_option("script_location", "chat.core:migrations")
    config.set_main_option("path_separator", "os")
    config.set_main_option(
        "version_locations", os.pathsep.join(str(path) for path in version_directories)
    )
    config.set_main_option("sqlalchemy.url", url)
    return config


async def upgrade(engine: AsyncEngine, version_directories: Sequence[Path]) -> None:
    """Bring the database to the newest schema ("heads": one branch per package)."""
    config = alembic_config(
        str(engine.url.render_as_string(hide_password=False)), version_directories
    )

    def _upgrade(connection: object) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")

    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Nodes started together would each create the tables: one at a time, and
            # the others find the schema up to date.
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
            )
        await connection.run_sync(_upgrade)
