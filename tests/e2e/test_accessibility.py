"""axe-core finds no serious or critical accessibility problem on either page."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page, expect

from tests.e2e.browser import Pages, start_chat, take_chat

pytestmark = pytest.mark.e2e

BLOCKING = {"serious", "critical"}


async def problems(page: Page) -> list[str]:
    results = await Axe().run(page)
    violations: list[dict[str, Any]] = results.response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in violations
        if v.get("impact") in BLOCKING
    ]


async def test_visitor_page_before_and_during_a_chat(pages: Pages) -> None:
    her = await pages.visitor()
    assert await problems(her) == []

    await start_chat(her)
    assert await problems(her) == []

    adviser = await pages.adviser("Esme")
    await take_chat(adviser)
    await expect(her.locator("#chat-status")).to_have_text("You are talking with Esme")
    await adviser.get_by_label("Your reply").fill("Hello, I'm Esme.")
    await adviser.get_by_role("button", name="Send").click()
    await expect(her.locator("#log .msg-other")).to_have_count(1)
    assert await problems(her) == []
    await her.locator("#log .msg-other summary").click()
    await expect(her.get_by_role("button", name="Report")).to_be_visible()
    assert await problems(her) == [], "with a message's menu open"

    await her.get_by_role("button", name="End chat").click()
    assert await problems(her) == [], "with the end confirmation open"


async def test_visitor_page_in_arabic(pages: Pages) -> None:
    her = await pages.visitor(locale="ar")
    assert await problems(her) == []


async def test_staff_console_login_queue_and_chat(pages: Pages) -> None:
    context = await pages.context()
    login = await context.new_page()
    await login.goto(pages.origin + "/staff")
    await expect(login.get_by_label("Username")).to_be_visible()
    assert await problems(login) == []

    her = await pages.visitor()
    await start_chat(her, topic="alcohol", safe="yes")
    adviser = await pages.adviser("Fern")
    await expect(adviser.locator("#queue-rows tr")).to_have_count(1)
    assert await problems(adviser) == [], "with a chat waiting"

    await take_chat(adviser)
    await her.get_by_label("Your message").fill("hi")
    await her.get_by_label("Your message").press("Enter")
    await expect(adviser.get_by_role("tabpanel").locator(".log")).to_contain_text("hi")
    assert await problems(adviser) == [], "with a chat open"
