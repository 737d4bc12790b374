"""Quick exit: she is gone in one action, with nothing left in the tab and the chat ended."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import pytest
from playwright.async_api import Page, expect

from tests.e2e.browser import EXIT_HOST, Pages, screenshot, start_chat, take_chat
from tests.wsclient import Client

pytestmark = pytest.mark.e2e


async def press_button(page: Page) -> None:
    await page.get_by_role("link", name="Leave this page", exact=True).click()


async def press_escape(page: Page) -> None:
    await page.keyboard.press("Escape")


async def press_shift_three_times(page: Page) -> None:
    # Capitals typed with Shift must not count; only bare Shift presses do.
    field = page.get_by_label("Your message")
    await field.focus()
    for letter in "ABC":
        await page.keyboard.press(f"Shift+{letter}")
    await expect(field).to_have_value("ABC")
    assert page.url.startswith("http://127.0.0.1")
    for _ in range(3):
        await page.keyboard.press("Shift")


async def use_skip_link(page: Page) -> None:
    # The hidden link is the first thing a keyboard reaches after a page load, and it shows
    # when focused. The reload also shows the chat carries on from sessionStorage.
    link = page.get_by_role("link", name="Skip to leave this page")
    await page.reload()
    await expect(page.locator("#chat-status")).to_have_text("You are talking with Cleo")
    await expect(link).not_to_be_in_viewport()
    await page.keyboard.press("Tab")
    await expect(link).to_be_focused()
    await expect(link).to_be_in_viewport()
    await page.keyboard.press("Enter")


@pytest.mark.parametrize(
    "leave",
    [press_button, press_escape, press_shift_three_times, use_skip_link],
    ids=["button", "escape", "shift-x3", "skip-link"],
)
async def test_quick_exit_leaves_no_trace_and_tells_the_adviser(
    pages: Pages, leave: Callable[[Page], Awaitable[None]]
) -> None:
    her = await pages.visitor()
    await start_chat(her)
    adviser = await pages.adviser("Cleo")
    await take_chat(adviser)
    await expect(her.locator("#chat-status")).to_have_text("You are talking with Cleo")
    stored = json.loads(await her.evaluate("sessionStorage.getItem('willow.visitor')"))
    token = stored["token"]

    await leave(her)
    await her.wait_for_url(f"https://{EXIT_HOST}/**")
    await expect(her.locator("h1")).to_have_text("Weather")

    panel = adviser.get_by_role("tabpanel")
    await expect(panel.get_by_role("alert")).to_have_text(
        "She left quickly — do not try to contact her."
    )
    if leave is press_button:
        await screenshot(adviser, "staff-console-she-left-quickly")
    await expect(adviser.get_by_role("tab")).to_have_text(
        "Chat " + str(stored["conversationId"]) + " (left quickly)"
    )

    # Back does not return to the chat: the chat's history entry was replaced.
    await her.go_back()
    assert not her.url.startswith(pages.origin), her.url

    context = her.context
    assert await context.cookies() == []
    origins = (await context.storage_state())["origins"]
    assert [o for o in origins if o["origin"] == pages.origin and o["localStorage"]] == []
    # sessionStorage belongs to this tab and origin: come back to the origin in the same tab.
    await her.goto(pages.origin + "/healthz")
    assert await her.evaluate("sessionStorage.length") == 0

    # The server ended her session too: the old token opens nothing.
    client = await Client.open(pages.server)
    await client.send({"type": "hello", "v": 1, "token": token})
    assert (await client.receive("error"))["code"] == "unauthorized"
    await client.close()


async def test_quick_exit_before_any_chat_goes_straight_out(pages: Pages) -> None:
    her = await pages.visitor()
    await her.keyboard.press("Escape")
    await her.wait_for_url(f"https://{EXIT_HOST}/**")
    await expect(her).to_have_title("Weather")
