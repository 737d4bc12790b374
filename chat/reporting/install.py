"""`install(app, services)`: count happenings into the daily tables and add the report routes."""

from __future__ import annotations

from fastapi import FastAPI

from chat.core.services import Services
from chat.core.tally import Happening
from chat.reporting.counting import count, count_within
from chat.reporting.routes import router


def install(app: FastAPI, services: Services) -> None:
    async def counted(happening: Happening) -> None:
        await count(services, happening)

    services.tally.listen(counted, within=count_within)
    app.include_router(router)
