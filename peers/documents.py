"""The rooms and their schedule as one edited document (chat/core/documents.py).

The shipped (or WILLOW_ROOMS_FILE / WILLOW_SCHEDULE_FILE) files are the default; an admin's
version is the same data, `{"rooms": [...], "schedule": {...}}`, checked by the same
`parse_catalogue` and `parse_schedule` that check the files at start, so she sees the same
errors. A new version is used by every node's rooms at once (the room list, opening times,
rules); a room that is open now keeps its session and may not be removed until it closes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import select

from chat.core.documents import DocumentError, DocumentKind
from chat.core.services import Services
from moderation.directory import Directory
from peers.catalogue import DEFAULT_CATALOGUE_PATH, Catalogue, CatalogueError, parse_catalogue
from peers.datafiles import DataFileProblem, read_yaml
from peers.models import RoomSession
from peers.runtime import RoomsRuntime
from peers.schedule import DEFAULT_SCHEDULE_PATH, Schedule, ScheduleError, parse_schedule

KIND = "rooms"


@dataclass(frozen=True)
class RoomsDocument:
    catalogue: Catalogue
    schedule: Schedule
    body: dict[str, Any]


def rooms_from_data(data: object) -> RoomsDocument:
    """Check `{"rooms": [...], "schedule": {...}}` as the two files are checked."""
    if not isinstance(data, dict) or set(data) != {"rooms", "schedule"}:
        raise DocumentError('send the rooms as {"rooms": [...], "schedule": {...}}')
    try:
        catalogue = parse_catalogue(data["rooms"], Path("rooms"))
    except CatalogueError as problem:
        raise DocumentError("; ".join(f"rooms: {p}" for p in problem.problems)) from None
    try:
        schedule = parse_schedule(data["schedule"], Path("schedule"), catalogue)
    except ScheduleError as problem:
        raise DocumentError("; ".join(f"schedule: {p}" for p in problem.problems)) from None
    return RoomsDocument(catalogue, schedule, to_jsonable_python(data))


def shipped(services: Services) -> RoomsDocument:
    """The files the rooms started with, read again as data (they were checked at start)."""
    settings = services.settings
    try:
        rooms = read_yaml(settings.rooms_file or DEFAULT_CATALOGUE_PATH)
        schedule = read_yaml(settings.schedule_file or DEFAULT_SCHEDULE_PATH)
    except DataFileProblem as problem:
        raise DocumentError(str(problem)) from None
    return rooms_from_data({"rooms": rooms, "schedule": schedule or {}})


def install(runtime: RoomsRuntime) -> None:
    """Register the kind; a new version (or directory) goes into this node's rooms."""
    services = runtime.services

    def apply(document: RoomsDocument) -> None:
        runtime.catalogue = document.catalogue
        runtime.schedule = document.schedule

    def use_directory(directory: Directory) -> None:
        runtime.directory = directory

    async def rooms_in_use_stay(document: RoomsDocument) -> None:
        async with services.db.read() as session:
            open_now = set(
                await session.scalars(
                    select(RoomSession.room_id).where(RoomSession.status == "open")
                )
            )
        gone = sorted(open_now - set(document.catalogue.ids))
        if gone:
            raise DocumentError(
                f"rooms: {', '.join(gone)} has a session open now; remove it once it has closed"
            )

    services.documents.register(
        DocumentKind(
            name=KIND,
            guard=rooms_in_use_stay,
            default=lambda: shipped(services),
            parse=rooms_from_data,
            body=lambda document: document.body,
            summary=lambda document: f"{len(document.catalogue)} rooms",
            appliers=[apply],
        )
    )
    services.documents.on_change("directory", use_directory)
