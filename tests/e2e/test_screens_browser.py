"""The staff pages' main screens at 1280 and 320 px (issue 14): the staff console with a chat,
the mentor console with a room open, admin and reports. At each width axe finds no serious or
critical problem and nothing makes the page scroll sideways; the screenshots go to
docs/screens/ for people to look at."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from chat.core.tally import Happening
from chat.reporting.counting import count
from tests.chat.test_reporting import months_ago
from tests.e2e.browser import Pages, start_chat, take_chat
from tests.e2e.test_accessibility import problems
from tests.e2e.test_rooms_browser import join_room, mentor_page, open_rooms
from tests.e2e.test_safeguarding_browser import say_as_her, staff_page

pytestmark = pytest.mark.e2e

SCREENS = Path(__file__).resolve().parents[2] / "docs" / "screens"
WIDTHS = (1280, 320)
# The innermost elements that reach past the screen's right edge.
TOO_WIDE = """(width) => [...document.querySelectorAll('body *')]
  .filter((e) => e.getBoundingClientRect().right > width + 1)
  .filter((e) => ![...e.children].some((c) => c.getBoundingClientRect().right > width + 1))
  .map((e) => `${e.tagName}#${e.id}.${e.className}: ${Math.round(e.getBoundingClientRect().right)}`)
  .slice(0, 8)"""


async def look_at(page: Page, name: str) -> None:
    """At each width: no serious accessibility problem, no sideways scroll, a screenshot."""
    SCREENS.mkdir(exist_ok=True)
    for width in WIDTHS:
        await page.set_viewport_size({"width": width, "height": 800 if width > 400 else 640})
        await page.evaluate("window.scrollTo(0, 0)")
        wide = await page.evaluate("document.documentElement.scrollWidth")
        assert wide <= width, f"{name}: {wide} px wide on a {width} px screen: " + str(
            await page.evaluate(TOO_WIDE, width)
        )
        assert await problems(page) == [], f"{name} at {width} px"
        await page.screenshot(path=str(SCREENS / f"{name}-{width}.png"), full_page=width > 400)


async def test_the_staff_console_with_a_chat(pages: Pages) -> None:
    her = await pages.visitor()
    await start_chat(her, topic="alcohol", safe="yes")
    await start_chat(await pages.visitor(), topic="children", safe="unsure")
    adviser = await pages.adviser("Vic")
    await take_chat(adviser)
    panel = adviser.get_by_role("tabpanel")
    await say_as_her(her, "Hello. I'm not sure where to start.")
    await expect(panel.locator(".log")).to_contain_text("not sure where to start")
    await panel.get_by_label("Your reply").fill("Take your time. I'm here and I'm listening.")
    await panel.get_by_label("Your reply").press("Enter")
    await expect(her.locator("#log .msg-other")).to_have_count(1)
    await look_at(adviser, "console-staff-chat")


async def test_the_mentor_console_with_a_room_open(pages: Pages) -> None:
    console = await mentor_page(pages, "Amina")
    assert await problems(console) == [], "the list of rooms"
    await console.get_by_role("button", name="Open this room: First time here").click()
    await expect(console.locator("#room-name")).to_have_text("First time here")
    her = await open_rooms(pages)
    await join_room(her, "First time here")
    await her.locator("#message").fill("hi, it's my first time")
    await her.locator("#message").press("Enter")
    await expect(console.locator("#log")).to_contain_text("my first time")
    await console.get_by_label("Your message to the room").fill("Welcome, I'm here tonight")
    await console.get_by_label("Your message to the room").press("Enter")
    await expect(console.locator("#log")).to_contain_text("Welcome, I'm here tonight")
    await look_at(console, "console-mentor-room")


async def test_the_admin_and_reports_pages(pages: Pages) -> None:
    await pages.server.add_staff("adviser", "kit")
    await pages.server.add_staff("mentor", "amina")
    admin = await staff_page(pages, "admin", "Ada")
    await admin.goto(pages.origin + "/admin")
    await expect(admin.locator("#staff-rows tr")).to_have_count(3)
    await look_at(admin, "console-admin")

    services = pages.server.services
    assert services is not None
    for language, how_many in (("en", 14), ("pl", 6), ("ar", 3)):
        for _ in range(how_many):
            await count(services, Happening("contact", {"language": language}, at=months_ago(1)))
    await admin.goto(pages.origin + "/reports")
    await expect(admin.get_by_role("table", name="Contacts: by language")).to_be_visible()
    await look_at(admin, "console-reports")
