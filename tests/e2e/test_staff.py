"""The staff console: sessions, several chats at once, and what the adviser is told."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.e2e.browser import Pages, start_chat, take_chat

pytestmark = pytest.mark.e2e


async def test_wrong_password_is_refused_without_saying_which_part(pages: Pages) -> None:
    await pages.server.add_staff("adviser", "ines")
    context = await pages.context()
    page = await context.new_page()
    await page.goto(pages.origin + "/staff")
    await page.get_by_label("Username").fill("ines")
    await page.get_by_label("Password").fill("not the password")
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    assert "password" not in page.url and "ines" not in page.url


async def test_reload_keeps_the_session_and_the_open_chat_then_log_out_ends_it(
    pages: Pages,
) -> None:
    her = await pages.visitor()
    await start_chat(her)
    adviser = await pages.adviser("Jo")
    await take_chat(adviser)
    await her.get_by_label("Your message").fill("are you there")
    await her.get_by_label("Your message").press("Enter")
    await expect(adviser.get_by_role("tabpanel").locator(".log")).to_contain_text("are you there")

    await adviser.reload()
    await expect(adviser.locator("#me-name")).to_have_text("Signed in as Jo")
    await expect(adviser.get_by_role("tab")).to_have_count(1)
    await expect(adviser.get_by_role("tabpanel").locator(".log")).to_contain_text("are you there")
    await expect(adviser.locator("#availability")).to_have_attribute("aria-pressed", "true")

    await adviser.get_by_role("button", name="Log out").click()
    await expect(adviser.get_by_label("Username")).to_be_visible()
    assert await adviser.context.cookies() == []
    await adviser.reload()
    await expect(adviser.get_by_label("Username")).to_be_visible()
    await expect(adviser.locator("#console")).to_be_hidden()


async def test_an_adviser_keeps_several_chats_apart(pages: Pages) -> None:
    first = await pages.visitor()
    await start_chat(first, topic="alcohol")
    second = await pages.visitor()
    await start_chat(second, topic="children")
    await expect(second.locator("#chat-status")).to_contain_text("No adviser is online right now")

    adviser = await pages.adviser("Kay")
    await expect(adviser.locator("#queue-rows tr")).to_have_count(2)
    await take_chat(adviser)
    await expect(second.locator("#chat-status")).to_have_text("You are number 1 in the queue")
    await adviser.get_by_role("button", name="Take next chat").click()
    tabs = adviser.get_by_role("tab")
    await expect(tabs).to_have_count(2)
    await expect(adviser.get_by_role("tabpanel")).to_contain_text("Topic: Children")

    await first.get_by_label("Your message").fill("from the first")
    await first.get_by_label("Your message").press("Enter")
    await expect(tabs.first).to_contain_text("new")
    await tabs.first.click()
    panel = adviser.get_by_role("tabpanel")
    await expect(panel).to_contain_text("Topic: Alcohol")
    await expect(panel.locator(".log")).to_contain_text("from the first")
    await expect(tabs.first).not_to_contain_text("new")

    # Arrow keys move between tabs; a reply goes to the chat on screen only.
    await tabs.first.focus()
    await adviser.keyboard.press("ArrowRight")
    await expect(tabs.nth(1)).to_be_focused()
    await adviser.get_by_role("tabpanel").get_by_label("Your reply").fill("for the second")
    await adviser.get_by_role("tabpanel").get_by_label("Your reply").press("Enter")
    await expect(second.locator("#log .msg-other .msg-body")).to_have_text(["for the second"])
    await expect(first.locator("#log .msg-other")).to_have_count(0)
