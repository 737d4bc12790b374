"""Apply Alembic migrations; used by `willow migrate`, at start, and by tests."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

# Any fixed number: every node that migrates takes this lock first.
MIGRATION_LOCK = 0x57494C4C4F57


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", "chat:migrations")
    config.set_main_option("sqlalchemy.url", url)
    return config


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the database to the newest schema."""
    config = alembic_config(str(engine.url.render_as_string(hide_password=False)))

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
