"""Wire moderation into the app: load every data file at start, register events and routes."""

from __future__ import annotations

from fastapi import FastAPI

from chat.core.alerts import AlertKeeper
from chat.core.pipeline import Written
from chat.core.services import Services
from moderation.loaded import load_moderation_data
from moderation.safeguarding.actions import record_written
from moderation.safeguarding.alert_routes import router as alert_router
from moderation.safeguarding.alert_store import raise_alert
from moderation.safeguarding.events import EVENTS
from moderation.safeguarding.handlers import install_handlers
from moderation.safeguarding.learned import LearnedLayer, reads_later
from moderation.safeguarding.routes import build_router


def install(app: FastAPI, services: Services) -> None:
    """Bad data files stop the start here, with the file and the problem named."""
    settings = services.settings
    data = load_moderation_data(
        lexicon_dir=settings.lexicon_dir,
        wordlist_dir=settings.wordlist_dir,
        guidance_file=settings.guidance_file,
        directory_file=settings.directory_file,
    )
    directory = data.directory
    services.features.add(data)
    services.features.add(data.rules)
    services.features.add(directory)
    # Alerts raised below this layer (the helpline's "I am in danger now") are kept too.
    services.features.add(AlertKeeper(raise_alert))
    services.sockets.add_events(EVENTS)
    install_handlers(services.sockets)

    learned = LearnedLayer(services, directory) if settings.learned_risk == "on" else None
    if learned is not None:
        learned.start()

    async def effects(written: Written) -> None:
        await record_written(services, directory, written)
        if learned is not None and reads_later(written):
            learned.read_later(written)

    # Every place a woman writes (1:1, rooms) has the same effects of a verdict.
    services.messages.on_written(effects)
    app.include_router(build_router(directory))
    app.include_router(alert_router)
