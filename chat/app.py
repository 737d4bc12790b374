"""`create_app(settings)`: the one place that wires every router, the hub and the pages."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from html import escape
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import Receive, Scope, Send

from chat import bundle
from chat.core import documents, http, transport
from chat.core.broker import Broker
from chat.core.logs import configure_logging
from chat.core.metrics import CONTENT_TYPE
from chat.core.outages import failed_with
from chat.core.security import SecurityHeaders
from chat.core.services import Services
from chat.core.settings import Settings
from chat.helpline import (
    admin_documents,
    assign,
    continuity,
    opening,
    profile,
    retention,
    second_factor,
    staff,
    staff_account,
    staff_admin,
    visitors,
    waiting,
)
from chat.helpline import presence as helpline_presence
from chat.helpline import sockets as helpline_sockets
from chat.helpline.console import install as install_console
from chat.helpline.measures import install_metrics as install_helpline_metrics
from chat.pageconfig import Branding, add_config_route, register_branding
from chat.reporting.install import install as install_reporting
from chat.schema import upgrade
from moderation.safeguarding.install import install as install_moderation
from peers.install import install as install_rooms

log = logging.getLogger("willow")
MIN_COMPRESSED_BYTES = 1000


class Willow(FastAPI):
    """FastAPI, with the chat socket answered before HTTP routing and middleware.

    A visitor keeps one socket open for as long as she is on the page. FastAPI's route for it
    (dependency solving, exit stacks, exception wrappers) held about 11 KiB per open socket
    that the chat socket never uses (traced with tracemalloc over 2,000 idle sockets); the
    socket checks its own origin and replies with its own errors, and the HTTP middleware only
    sets headers on HTTP responses.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == transport.PATH:
            scope["app"] = self
            await transport.websocket_endpoint(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None, broker: Broker | None = None) -> FastAPI:
    """The app; `broker` replaces the one WILLOW_BROKER_URL names (several apps, one process)."""
    settings = settings or Settings()
    configure_logging(settings.log_level)
    services = Services.build(settings, broker)
    documents.install(services)
    register_branding(services)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if services.db.is_sqlite:
            await upgrade(services.db.engine)
        await services.start()
        # What admins saved (chat/core/documents.py) replaces the data files' defaults.
        await services.documents.reload_all(services)
        await services.presence.heartbeat()
        heartbeat = asyncio.create_task(services.presence.run_forever(), name="willow-presence")
        housekeeping = asyncio.create_task(
            services.housekeeping.run_forever(), name="willow-housekeeping"
        )
        if settings.env != "test":
            _tune_gc()
        try:
            yield
        finally:
            housekeeping.cancel()
            heartbeat.cancel()
            await services.stop_background()
            with contextlib.suppress(Exception):
                await services.presence.stop()
            await services.broker.close()
            await services.db.dispose()

    app = Willow(
        title="Willow",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json" if settings.env == "development" else None,
    )
    app.state.services = services
    # Production is served over HTTPS only; the browser is told never to try plain HTTP.
    app.add_middleware(SecurityHeaders, hsts=settings.env == "production")
    http.install(app)
    # Pages, scripts and JSON go compressed: on a slow phone line the bytes are the wait. The
    # chat socket is answered before any middleware (Willow.__call__) and other sockets pass
    # through untouched; bodies under a packet are not worth compressing.
    app.add_middleware(GZipMiddleware, minimum_size=MIN_COMPRESSED_BYTES)

    # Presence first: her hold is taken before the welcome tells her what is open.
    helpline_presence.install(services)
    helpline_sockets.install(services)
    waiting.install(services.sockets)
    continuity.install(services.sockets)
    install_console(app, services)
    retention.install(services)
    assign.install(services)
    opening.install(services)
    # Any second-factor secret still in plain text (from before it was sealed) is encrypted.
    services.housekeeping.register(
        "seal_second_factor",
        services.settings.housekeeping_seconds,
        lambda: second_factor.seal_plain(services.db, services.settings.effective_secret_key),
    )
    install_helpline_metrics(services)
    app.include_router(visitors.router)
    app.include_router(waiting.router)
    app.include_router(staff.router)
    app.include_router(staff.admin_router)
    app.include_router(profile.router)
    app.include_router(staff_account.router)
    app.include_router(staff_admin.router)
    app.include_router(admin_documents.router)
    install_moderation(app, services)
    install_rooms(app, services)
    install_reporting(app, services)
    _add_health(app, services)
    add_config_route(app, services, visitors.LANGUAGES)
    _add_pages(app, services)
    return app


def _tune_gc() -> None:
    """Keep the cycle collector off the hot path.

    Everything built at start (lexicons, tables, routes) lives as long as the process, so it is
    moved out of the collector's sight once; and a first-generation collection runs every
    20,000 allocations rather than 700. Under load the default had the collector take a tenth
    of the node's time (bench/RESULTS.md).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


def _add_health(app: FastAPI, services: Services) -> None:
    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    async def readiness() -> dict[str, bool]:
        checks = {"database": False, "broker": await services.broker.ping()}
        try:
            async with services.db.read() as session:
                checks["database"] = (await session.execute(text("SELECT 1"))).scalar() == 1
        except Exception as problem:
            failed_with(problem, log, "readiness: database check failed")
        return checks

    async def sample_readiness() -> None:
        services.metrics.ready.set(1 if all((await readiness()).values()) else 0)

    services.metrics.sample(sample_readiness)

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        checks = await readiness()
        ok = all(checks.values())
        return JSONResponse({"ready": ok, **checks}, status_code=200 if ok else 503)

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        allowed = services.settings.metrics_allow
        if request.client is None or request.client.host not in allowed:
            return Response(status_code=404)
        return Response(await services.metrics.render(), media_type=CONTENT_TYPE)


# The quick-exit links in the pages' HTML name this address; each page is served with the
# deployment's own exit address in its place, so leaving works before any script has run.
PAGE_EXIT_URL = "https://www.bbc.co.uk/weather"
VISITOR_PAGES = {"/": "visitor", "/rooms": "rooms", "/safety": "safety"}


def _visitor_page(
    path: Path, exit_url: Callable[[], str], scripts: bundle.Bundle | None = None
) -> Callable[[], Awaitable[HTMLResponse]]:
    template = path.read_text(encoding="utf-8")
    # Made again only when an admin changes the exit address (an edited branding).
    made: dict[str, str] = {}

    async def page() -> HTMLResponse:
        address = exit_url()
        if address not in made:
            made.clear()
            html = template.replace(PAGE_EXIT_URL, escape(address, quote=True))
            made[address] = bundle.apply(html, scripts)
        return HTMLResponse(made[address])

    return page


def _add_pages(app: FastAPI, services: Services) -> None:
    settings = services.settings
    frontend = settings.frontend_dir
    # The visitor page's modules in one round trip when the pre-built bundle is fresh.
    scripts = bundle.load(frontend)

    def exit_url() -> str:
        return services.features.get(Branding).exit_url or settings.exit_url

    for route, folder in VISITOR_PAGES.items():
        page = _visitor_page(frontend / folder / "index.html", exit_url, scripts)
        app.add_api_route(route, page, methods=["GET"], include_in_schema=False)

    @app.get("/staff", include_in_schema=False)
    async def staff_page(_request: Request) -> FileResponse:
        return FileResponse(frontend / "staff" / "index.html")

    @app.get("/mentor", include_in_schema=False)
    async def mentor_page(_request: Request) -> FileResponse:
        return FileResponse(frontend / "mentor" / "index.html")

    @app.get("/admin", include_in_schema=False)
    async def admin_page(_request: Request) -> FileResponse:
        return FileResponse(frontend / "admin" / "index.html")

    @app.get("/admin/{kind}", include_in_schema=False)
    async def admin_document_page(kind: str) -> FileResponse:
        """One page per kind an admin edits (chat/helpline/admin_documents.py)."""
        if services.documents.kind(kind) is None:
            raise HTTPException(404)
        return FileResponse(frontend / "admin" / "document.html")

    @app.get("/account", include_in_schema=False)
    async def account_page(_request: Request) -> FileResponse:
        return FileResponse(frontend / "account" / "index.html")

    @app.get("/reports", include_in_schema=False)
    async def reports_page(_request: Request) -> FileResponse:
        return FileResponse(frontend / "reports" / "index.html")

    app.mount("/static", StaticFiles(directory=frontend), name="static")
