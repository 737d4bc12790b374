"""A real server per room test, like tests/conftest.py's, with short grace periods."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import uvicorn

from chat.app import create_app
from chat.settings import Settings
from peers.runtime import RoomsRuntime
from tests.peers.roomkit import RoomServer
from tests.wsclient import Server

SHORT_GRACE = 0.5


@pytest.fixture
async def rooms(settings: Settings) -> AsyncIterator[RoomServer]:
    app = create_app(settings)
    runtime: RoomsRuntime = app.state.rooms
    runtime.tuning.participant_grace_seconds = SHORT_GRACE
    runtime.tuning.mentor_grace_seconds = SHORT_GRACE
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        access_log=False,
        ws_per_message_deflate=False,
    )
    instance = uvicorn.Server(config)
    task = asyncio.create_task(instance.serve())
    while not instance.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = instance.servers[0].sockets[0].getsockname()[1]
    yield RoomServer(Server(f"http://127.0.0.1:{port}", app.state.services), runtime)
    instance.should_exit = True
    await asyncio.wait_for(task, 10)
