"""Wire moderation into the app: load every data file at start, register events and routes."""

from __future__ import annotations

from fastapi import FastAPI

from chat.core.alerts import AlertKeeper
from chat.core.documents import DocumentKind
from chat.core.pipeline import Written
from chat.core.services import Services
from moderation.directory import Directory, directory_body, parse_directory
from moderation.loaded import load_moderation_data
from moderation.safeguarding.actions import record_written
from moderation.safeguarding.alert_routes import router as alert_router
from moderation.safeguarding.alert_store import raise_alert
from moderation.safeguarding.events import EVENTS
from moderation.safeguarding.handlers import install_handlers
from moderation.safeguarding.learned import LearnedLayer, reads_later
from moderation.safeguarding.outcome_codes import load_escalation_outcomes
from moderation.safeguarding.routes import build_router


def register_directory(services: Services, shipped: Directory) -> Directory:
    """The directory is an edited document (chat/core/documents.py): the data files, as
    loaded at start, are its default; an admin's version replaces the whole list."""
    return services.documents.register(
        DocumentKind[Directory](
            name="directory",
            default=lambda: shipped,
            parse=lambda body: parse_directory(body, "directory"),
            body=directory_body,
            summary=lambda found: f"{len(found.helplines)} entries",
            appliers=[services.features.replace],
        )
    )


def install(app: FastAPI, services: Services) -> None:
    """Bad data files stop the start here, with the file and the problem named."""
    settings = services.settings
    data = load_moderation_data(
        lexicon_dir=settings.lexicon_dir,
        wordlist_dir=settings.wordlist_dir,
        guidance_file=settings.guidance_file,
        directory_file=settings.directory_file,
    )
    services.features.add(data)
    services.features.add(load_escalation_outcomes(settings.escalation_outcomes_file))
    services.features.add(data.rules)
    services.features.add(register_directory(services, data.directory))
    # Alerts raised below this layer (the helpline's "I am in danger now") are kept too.
    services.features.add(AlertKeeper(raise_alert))
    services.sockets.add_events(EVENTS)
    install_handlers(services.sockets)

    learned = LearnedLayer(services) if settings.learned_risk == "on" else None
    if learned is not None:
        learned.start()

    async def effects(written: Written) -> None:
        await record_written(services, services.features.get(Directory), written)
        if learned is not None and reads_later(written):
            learned.read_later(written)

    # Every place a woman writes (1:1, rooms) has the same effects of a verdict.
    services.messages.on_written(effects)
    app.include_router(build_router(lambda: services.features.get(Directory)))
    app.include_router(alert_router)
