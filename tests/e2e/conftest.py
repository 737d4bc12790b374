"""Fixtures for the real-browser tests: one Chromium per test, pages on the `server` fixture."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, async_playwright

from tests.e2e.browser import CHROMIUM_ARGS, Pages, chromium_or_skip
from tests.wsclient import Server


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    executable = chromium_or_skip()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(executable), args=CHROMIUM_ARGS
        )
        yield browser
        await browser.close()


@pytest.fixture
async def pages(browser: Browser, server: Server) -> AsyncIterator[Pages]:
    """Page factory; afterwards, no page may have asked any host but the test server."""
    opened = Pages(browser, server)
    yield opened
    await opened.close()
    assert opened.foreign_requests() == [], "a page made a request to another host"
    assert opened.page_errors == [], "a page had a script error or a CSP violation"
