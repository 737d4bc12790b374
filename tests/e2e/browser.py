"""Real-browser helpers: Chromium pages on a live Willow server, with every request recorded."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Request,
    Route,
    expect,
)

from chat.helpline.choices import LANGUAGES
from tests.wsclient import Client, Server, staff

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
EXIT_HOST = "www.bbc.co.uk"
EXIT_PAGE = (
    "<!doctype html><html><head><title>Weather</title></head><body><h1>Weather</h1></body></html>"
)
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
WAIT_MS = 10_000
PHONE = {"width": 390, "height": 844}

expect.set_options(timeout=WAIT_MS)


def chromium_or_skip() -> Path:
    if CHROMIUM.exists():
        return CHROMIUM
    message = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium; .ci/run does)"
    if os.environ.get("WILLOW_TEST_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


async def _fulfil_exit_site(route: Route) -> None:
    await route.fulfill(status=200, content_type="text/html", body=EXIT_PAGE)


async def _refuse(route: Route) -> None:
    await route.abort()


@dataclass
class Pages:
    """Opens visitor and staff pages on one test server and keeps what they asked for."""

    browser: Browser
    server: Server
    requests: list[tuple[str, str]] = field(default_factory=list)  # (url, resource type)
    page_errors: list[str] = field(default_factory=list)
    contexts: list[BrowserContext] = field(default_factory=list)

    @property
    def origin(self) -> str:
        return self.server.url

    async def context(self, locale: str = "en-GB", **options: Any) -> BrowserContext:
        context = await self.browser.new_context(locale=locale, **options)
        context.set_default_timeout(WAIT_MS)
        context.on("request", self._record)
        context.on("page", self._watch)
        # Anything off the test server is refused, so a mistake can never reach the network
        # (it is still recorded and fails the test). Routes added later are tried first.
        await context.route(
            re.compile(r"^(?!" + re.escape(self.origin) + r"/)https?://.*"), _refuse
        )
        await context.route(f"https://{EXIT_HOST}/**", _fulfil_exit_site)
        self.contexts.append(context)
        return context

    def _record(self, request: Request) -> None:
        self.requests.append((request.url, request.resource_type))

    def _watch(self, page: Page) -> None:
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("console", self._console)
        page.on("websocket", lambda ws: self.requests.append((ws.url, "websocket")))

    def _console(self, message: ConsoleMessage) -> None:
        # A blocked script or style shows up here: the pages must live within the CSP.
        if "Content Security Policy" in message.text:
            self.page_errors.append(message.text)

    async def visitor(self, locale: str = "en-GB", **options: Any) -> Page:
        context = await self.context(locale=locale, **options)
        page = await context.new_page()
        await page.goto(self.origin + "/")
        await expect(page.locator("#start")).to_be_enabled()
        return page

    async def adviser(self, name: str = "Asha") -> Page:
        """A logged-in adviser's console, via the login form. She reads every page language:
        these tests are about the pages; routing by language has its own tests."""
        username, password = await self.server.add_staff("adviser", name.lower())
        await self.server.set_profile(username, languages=list(LANGUAGES))
        context = await self.context(viewport={"width": 1280, "height": 900})
        page = await context.new_page()
        await page.goto(self.origin + "/staff")
        await page.get_by_label("Username").fill(username)
        await page.get_by_label("Password").fill(password)
        await page.get_by_role("button", name="Log in").click()
        await expect(page.locator("#me-name")).to_contain_text(name.title())
        return page

    def foreign_requests(self) -> list[str]:
        """Every request to a host other than the test server, but the exit navigation."""
        own = urlsplit(self.origin).netloc
        foreign = []
        for url, kind in self.requests:
            parts = urlsplit(url)
            if parts.scheme in ("data", "about", "blob"):
                continue
            if parts.netloc == own:
                continue
            if parts.netloc == EXIT_HOST and kind == "document":
                continue
            foreign.append(url)
        return foreign

    async def close(self) -> None:
        for context in self.contexts:
            await context.close()


async def start_chat(
    page: Page, topic: str | None = None, safe: str | None = None, nation: str | None = None
) -> None:
    """She fills in the optional questions and starts; waits until she is in the queue."""
    if topic or nation or safe:
        # The optional questions sit behind a disclosure so Start is on the first screen.
        await page.locator("#optional summary").click()
    if topic:
        await page.locator("#topic").select_option(topic)
    if nation:
        await page.locator("#nation").select_option(nation)
    if safe:
        await page.locator(f"input[name=safe][value={safe}]").check()
    await page.get_by_role("button", name="Start a chat").click()
    await expect(page.locator("#chat-status")).to_contain_text("in the queue")


async def take_chat(adviser: Page) -> None:
    await adviser.locator("#availability").click()
    await expect(adviser.locator("#availability")).to_have_attribute("aria-pressed", "true")
    await adviser.get_by_role("button", name="Take next chat").click()
    await expect(adviser.get_by_role("tab")).to_have_count(1)


async def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def adviser_client(server: Server, name: str) -> tuple[Client, int]:
    """An adviser on a plain socket who takes the first waiting chat: (client, conversation).
    She reads every page language, as the console's adviser above does."""
    login = await server.staff_session("adviser", name)
    await server.set_profile(login.username, languages=list(LANGUAGES))
    adviser = await staff(server, login)
    await adviser.send({"type": "set_available", "available": True})
    await adviser.send({"type": "take_next"})
    assigned = await adviser.receive("assigned")
    return adviser, int(assigned["conversation_id"])


async def say(adviser: Client, conversation: int, client_id: str, body: str) -> None:
    await adviser.send(
        {"type": "message", "conversation_id": conversation, "client_id": client_id, "body": body}
    )
