"""Waiting honestly in a real browser: the estimate, the any-adviser question (closed hours and
a surge: tests/e2e/test_closed_browser.py)."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from chat.core.settings import Settings
from chat.helpline.staff import set_training
from tests.conftest import running_server
from tests.e2e.browser import Pages, screenshot
from tests.wsclient import staff

pytestmark = pytest.mark.e2e


async def test_she_sees_an_honest_wait_and_is_asked_before_any_adviser_answers(
    browser: Browser, settings: Settings
) -> None:
    changes = {"assignment": "auto", "chats_need_training": True, "match_wait_seconds": 1}
    async with running_server(Settings(**{**settings.model_dump(), **changes})) as server:
        pages = Pages(browser, server)
        try:
            her = await pages.visitor()
            await her.locator("#language").select_option("pl")
            await her.locator("#start").click()
            # Nobody who reads Polish is online: the page says so instead of a queue number
            # or a made-up wait.
            await expect(her.locator("#chat-status")).to_contain_text(
                "Żadna doradczyni nie jest teraz dostępna"
            )
            login = await server.staff_session("adviser")
            assert server.services is not None
            await set_training(server.services, login.username, True, "test")
            adviser = await staff(server, login)
            await adviser.send({"type": "set_available", "available": True})
            offer = her.locator("#wait-offer")
            await expect(offer).to_be_visible(timeout=10_000)
            await screenshot(her, "visitor-any-adviser-offer")
            assert adviser.of_type("assigned") == []
            await her.locator("#wait-any").click()
            triage = await adviser.receive("triage", timeout=10)
            assert triage["language"] == "pl" and triage["any_adviser"] is True
            await expect(her.locator("#wait-news")).to_be_hidden()
        finally:
            await pages.close()
        assert pages.foreign_requests() == [] and pages.page_errors == []
