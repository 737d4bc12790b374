"""A supervisor sets up two-step login in the console, then logs in with a code."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator

import pyotp
import pytest
from playwright.async_api import Browser, expect

from chat.core.settings import Settings
from tests.conftest import running_server
from tests.e2e.browser import Pages, screenshot

pytestmark = pytest.mark.e2e


@pytest.fixture
async def strict_pages(browser: Browser, settings: Settings) -> AsyncIterator[Pages]:
    required = Settings(**{**settings.model_dump(), "second_factor_required": True})
    async with running_server(required) as server:
        opened = Pages(browser, server)
        yield opened
        await opened.close()
        assert opened.foreign_requests() == []
        assert opened.page_errors == []


async def test_enrol_then_log_in_with_a_code(strict_pages: Pages) -> None:
    username, password = await strict_pages.server.add_staff("supervisor", "rhea")
    context = await strict_pages.context()
    page = await context.new_page()
    await page.goto(strict_pages.origin + "/staff")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()

    await expect(page.get_by_role("heading", name="Set up two-step login")).to_be_visible()
    await expect(page.locator("#console")).to_be_hidden()
    # The secret arrives after the heading (the page asks for it): wait until it is shown.
    await expect(page.locator("#enrol-secret")).to_have_text(re.compile(r"[A-Z2-7]{4}"))
    secret = (await page.locator("#enrol-secret").text_content() or "").replace(" ", "")
    totp = pyotp.TOTP(secret)
    await page.get_by_label("Code from the app").fill("000000" if totp.now() != "000000" else "1")
    await page.get_by_role("button", name="Turn on two-step login").click()
    await expect(page.get_by_role("alert")).to_contain_text("That code is not right")
    await page.get_by_label("Code from the app").fill(totp.now())
    await page.get_by_role("button", name="Turn on two-step login").click()
    await expect(page.locator("#recovery-codes li")).to_have_count(10)
    await screenshot(page, "second-factor-recovery-codes")
    await page.get_by_role("button", name="Continue to the console").click()
    await expect(page.locator("#me-name")).to_have_text("Signed in as Rhea")

    await page.get_by_role("button", name="Log out").click()
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("alert")).to_have_text(
        "Type the code from your authenticator app."
    )
    # The enrolment code was used once already; the next one is new.
    await asyncio.sleep(30 - time.time() % 30 + 0.2)
    await page.get_by_label("Code from your authenticator app, or a recovery code").fill(totp.now())
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator("#me-name")).to_have_text("Signed in as Rhea")
    await screenshot(page, "second-factor-logged-in")
