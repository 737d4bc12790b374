"""A real server per room test, like tests/conftest.py's, with short grace periods."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import uvicorn

from chat.app import create_app
from chat.settings import Settings
from peers.runtime import RoomsRuntime
from tests.peers.roomkit import RoomServer
from tests.wsclient import Server

SHORT_GRACE = 0.5


@asynccontextmanager
async def room_server(
    settings: Settings, send_buffer: int | None = None
) -> AsyncIterator[RoomServer]:
    """`send_buffer` fixes the kernel send buffer, so a slow reader's line fills quickly."""
    app = create_app(settings)
    runtime: RoomsRuntime = app.state.rooms
    runtime.tuning.participant_grace_seconds = SHORT_GRACE
    runtime.tuning.mentor_grace_seconds = SHORT_GRACE
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if send_buffer is not None:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
    listener.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, ws_per_message_deflate=False
    )
    instance = uvicorn.Server(config)
    task = asyncio.create_task(instance.serve(sockets=[listener]))
    while not instance.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = listener.getsockname()[1]
    try:
        yield RoomServer(Server(f"http://127.0.0.1:{port}", app.state.services), runtime)
    finally:
        instance.should_exit = True
        await asyncio.wait_for(task, 10)
        listener.close()


@pytest.fixture
async def rooms(settings: Settings) -> AsyncIterator[RoomServer]:
    async with room_server(settings) as running:
        yield running
