"""Safe to talk: the agreed word reaches the adviser as "not safe now"; one tap hides the chat."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.e2e.browser import Pages, adviser_client, say, screenshot, start_chat, take_chat
from tests.e2e.test_accessibility import problems

pytestmark = pytest.mark.e2e

NOT_SAFE = (
    "Not safe now: she sent the agreed word. Do not write until she writes again; "
    "someone else may be reading her screen."
)


async def test_the_agreed_word_tells_the_adviser_and_hides_her_chat(pages: Pages) -> None:
    her = await pages.visitor()
    await her.locator(".more-private summary").click()
    await expect(her.locator("#intro-quiet")).to_contain_text("send the word “umbrella”")
    await start_chat(her)
    adviser = await pages.adviser("Rhea")
    await take_chat(adviser)
    box = her.get_by_label("Your message")
    await box.fill("he is always checking my phone")
    await box.press("Enter")
    panel = adviser.get_by_role("tabpanel")
    await expect(panel.locator(".log")).to_contain_text("checking my phone")

    await box.fill("Umbrella")
    await box.press("Enter")
    await expect(panel.locator(".chat-alert")).to_have_text(NOT_SAFE)
    await expect(adviser.get_by_role("tab")).to_contain_text("(not safe now)")
    cover = her.get_by_role("button", name="Tap to show the chat")
    await expect(cover).to_be_visible()
    await expect(cover).to_contain_text("Your adviser knows it is not safe to talk now.")
    await expect(her.locator("#chat-body")).to_have_class("chat-body is-covered")
    # Nothing of the conversation is left for a screen reader or the keyboard either.
    await expect(her.locator("#chat-body")).to_have_attribute("inert", "")
    await expect(her.get_by_role("log")).to_have_count(0)
    assert await problems(her) == [], "with the chat covered"
    await screenshot(her, "visitor-chat-covered")

    await cover.click()
    await expect(her.get_by_role("log")).to_be_visible()
    await box.fill("ok he went out")
    await box.press("Enter")
    await expect(panel.locator(".chat-alert")).to_be_hidden()
    await expect(adviser.get_by_role("tab")).not_to_contain_text("(not safe now)")


async def test_one_tap_hides_the_chat_and_one_tap_brings_it_back(pages: Pages) -> None:
    her = await pages.visitor()
    await start_chat(her)
    adviser, conversation = await adviser_client(pages.server, "sol")
    await say(adviser, conversation, "s1", "Hello, I'm Sol. Take your time.")
    await expect(her.locator("#log .msg-other")).to_have_count(1)

    await her.get_by_role("button", name="Hide the chat").click()
    cover = her.get_by_role("button", name="Tap to show the chat")
    await expect(cover).to_be_focused()
    await expect(her.get_by_role("log")).to_have_count(0)
    await expect(cover).not_to_contain_text("adviser knows")
    assert await problems(her) == []

    await cover.click()
    await expect(her.locator("#log .msg-other .msg-body")).to_have_text(
        "Hello, I'm Sol. Take your time."
    )
    await expect(her.get_by_role("button", name="Hide the chat")).to_be_focused()
    await adviser.close()
