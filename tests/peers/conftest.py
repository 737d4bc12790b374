"""A real server per room test, like tests/conftest.py's, with short grace periods."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from fastapi import FastAPI

from chat.core.settings import Settings
from peers.runtime import RoomsRuntime
from tests.conftest import running_server
from tests.peers.roomkit import RoomServer

SHORT_GRACE = 0.5


def _short_grace(app: FastAPI) -> None:
    runtime = app.state.services.features.get(RoomsRuntime)
    runtime.tuning.participant_grace_seconds = SHORT_GRACE
    runtime.tuning.mentor_grace_seconds = SHORT_GRACE


@asynccontextmanager
async def room_server(
    settings: Settings, send_buffer: int | None = None
) -> AsyncIterator[RoomServer]:
    """`send_buffer` fixes the kernel send buffer, so a slow reader's line fills quickly."""
    async with running_server(settings, send_buffer, configure=_short_grace) as server:
        assert server.app is not None
        yield RoomServer(server, server.services.features.get(RoomsRuntime))


@pytest.fixture
async def rooms(settings: Settings) -> AsyncIterator[RoomServer]:
    async with room_server(settings) as running:
        yield running
