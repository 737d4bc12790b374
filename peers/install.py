"""`install(app, services)`: load the rooms' data files and add rooms to the app.

Called once by chat.app.create_app. A fault in the catalogue or the schedule stops the start
with a message that names the file and every problem in it.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from chat.core.events import ConnectionClosed
from chat.core.services import Services
from moderation.directory import Directory
from moderation.loaded import Rules
from peers import documents, events, handlers, lifecycle, routes
from peers import presence as seat_presence
from peers.catalogue import DEFAULT_CATALOGUE_PATH, CatalogueError, load_catalogue
from peers.control import apply_standing, handle_control, refresh_standing
from peers.errors import ROOM_ERROR_CODES
from peers.rooms import expire_abandoned, purge_closed_sessions
from peers.runtime import RoomsRuntime, Tuning
from peers.schedule import DEFAULT_SCHEDULE_PATH, ScheduleError, load_schedule

EXPIRY_EVERY_SECONDS = 60.0


class RoomsSetupError(RuntimeError):
    """The rooms cannot start: a data file is missing or wrong; the message says what."""


def load_runtime(services: Services) -> RoomsRuntime:
    settings = services.settings
    rooms_file: Path = settings.rooms_file or DEFAULT_CATALOGUE_PATH
    schedule_file: Path = settings.schedule_file or DEFAULT_SCHEDULE_PATH
    try:
        catalogue = load_catalogue(rooms_file)
    except CatalogueError as exc:
        raise RoomsSetupError(f"Willow cannot start (WILLOW_ROOMS_FILE): {exc}") from exc
    try:
        schedule = load_schedule(schedule_file, catalogue)
    except ScheduleError as exc:
        raise RoomsSetupError(f"Willow cannot start (WILLOW_SCHEDULE_FILE): {exc}") from exc
    # The helplines directory safeguarding loaded at its install: one copy per app.
    runtime = RoomsRuntime(
        services,
        catalogue,
        schedule,
        services.features.get(Directory),
        rules=services.features.find(Rules),
        tuning=Tuning(
            participant_grace_seconds=services.settings.room_participant_grace_seconds,
            mentor_grace_seconds=services.settings.room_mentor_grace_seconds,
        ),
    )
    runtime.control_handler = handle_control
    runtime.standing_handler = apply_standing
    return runtime


def install(app: FastAPI, services: Services) -> RoomsRuntime:
    """Load and check the data, then register the events, handlers, routes and purges."""
    runtime = load_runtime(services)
    services.features.add(runtime)
    documents.install(runtime)
    every = services.settings.housekeeping_seconds
    services.housekeeping.register("room_sessions", every, lambda: purge_closed_sessions(services))
    # A backstop for grace timers lost with a node, so it runs more often than the purges.
    services.housekeeping.register(
        "room_expiry", min(every, EXPIRY_EVERY_SECONDS), lambda: expire_abandoned(runtime)
    )
    services.sockets.add_events(events.ROOM_EVENTS)
    services.sockets.add_error_codes(ROOM_ERROR_CODES)
    handlers.register(services.sockets)
    services.events.on(ConnectionClosed, handlers.connection_closed)
    seat_presence.install(runtime)
    lifecycle.subscribe(runtime, services.events)
    services.hub.after_resync(lambda: runtime.spawn(refresh_standing(runtime)))
    app.include_router(routes.router)
    services.metrics.sample(runtime.sample_metrics)
    return runtime
