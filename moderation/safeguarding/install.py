"""Wire moderation into the app: load every data file at start, register events and routes."""

from __future__ import annotations

from fastapi import FastAPI

from chat.core.pipeline import Written
from chat.core.services import Services
from moderation.abuse import default_wordlists
from moderation.directory import load_default_directory
from moderation.guidance import default_guidance
from moderation.risk import assess
from moderation.safeguarding.actions import record_written
from moderation.safeguarding.events import register_events
from moderation.safeguarding.handlers import install_handlers
from moderation.safeguarding.routes import build_router
from moderation.wording import default_wording_rules


def install(app: FastAPI, services: Services) -> None:
    """Bad data files stop the start here, with the file and the problem named."""
    directory = load_default_directory()
    default_wordlists()
    default_wording_rules()
    default_guidance()
    assess("warm up the lexicons", None)
    app.state.directory = directory
    register_events()
    install_handlers(services.sockets)

    async def effects(written: Written) -> None:
        await record_written(services, directory, written)

    # Every place a woman writes (1:1, rooms) has the same effects of a verdict.
    services.messages.on_written(effects)
    app.include_router(build_router(directory))
