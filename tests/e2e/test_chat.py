"""A visitor and an adviser talk from start to end, each in a real browser."""

from __future__ import annotations

import json

import pytest
from playwright.async_api import expect
from sqlalchemy import select

from chat.core.models import VisitorSession
from tests.e2e.browser import (
    PHONE,
    Pages,
    adviser_client,
    say,
    screenshot,
    start_chat,
    take_chat,
)
from tests.wsclient import Client

pytestmark = pytest.mark.e2e
NOBODY_ONLINE = "No adviser is online right now. You keep your place in the queue."


async def stored_choices(pages: Pages) -> list[tuple[object, ...]]:
    """What the server recorded of her pre-chat answers (and nothing else about her)."""
    services = pages.server.services
    assert services is not None
    async with services.db.read() as session:
        rows = await session.execute(
            select(
                VisitorSession.language,
                VisitorSession.topic,
                VisitorSession.safe_to_talk,
                VisitorSession.nation,
            )
        )
        return [tuple(row) for row in rows]


async def test_visitor_and_adviser_chat_from_start_to_end(pages: Pages) -> None:
    her = await pages.visitor()
    await expect(her).to_have_title("Chat")
    await screenshot(her, "visitor-before-chat")
    await start_chat(her, topic="drugs", safe="no", nation="wales")
    # No adviser is online yet: she is not given a number in a queue nobody serves.
    await expect(her.locator("#chat-status")).to_have_text(NOBODY_ONLINE)
    assert await stored_choices(pages) == [("en", "drugs", False, "wales")]

    adviser = await pages.adviser("Asha")
    queue = adviser.locator("#queue-rows tr")
    await expect(queue).to_have_count(1)
    await expect(queue.first).to_contain_text("Drugs")
    await expect(queue.first).to_contain_text("English")
    await expect(queue.first.locator("td").nth(3)).to_have_text("No")
    await take_chat(adviser)
    await expect(queue).to_have_count(0)
    panel = adviser.get_by_role("tabpanel")
    await expect(panel.locator(".chat-meta")).to_contain_text("Topic: Drugs")

    await expect(her.locator("#chat-status")).to_have_text("You are talking with Asha")

    # Her typing shows on the console, then her message arrives and is confirmed on her side.
    await her.get_by_label("Your message").press_sequentially("hello, is anyone there?")
    await expect(panel.locator(".typing")).to_have_text("The visitor is typing…")
    await her.get_by_label("Your message").press("Enter")
    await expect(panel.locator(".log")).to_contain_text("hello, is anyone there?")
    await expect(her.locator("#log .msg-own")).to_have_count(1)
    await expect(her.locator("#log .is-sending")).to_have_count(0)
    await expect(panel.locator(".typing")).to_have_text("")

    # The adviser's reply; markup in a message is shown as text, never run.
    reply = adviser.get_by_label("Your reply")
    await reply.press_sequentially("I'm here. <b>You</b> are safe to talk")
    await expect(her.locator("#typing")).to_have_text("Asha is typing…")
    await adviser.get_by_role("button", name="Send").click()
    received = her.locator("#log .msg-other")
    await expect(received).to_have_count(1)
    await expect(received.locator(".msg-body")).to_have_text(
        "I'm here. <b>You</b> are safe to talk"
    )
    await expect(her.locator("#log b")).to_have_count(0)
    await expect(received.locator(".msg-who")).to_have_text("Asha")
    await screenshot(her, "visitor-during-chat")
    await screenshot(adviser, "staff-console-chat-open")

    await adviser.get_by_role("button", name="End chat").click()
    await adviser.get_by_role("button", name="Yes, end it").click()
    await expect(her.locator("#chat-status")).to_have_text("The chat has ended")
    await expect(her.locator("#ended-text")).to_have_text("Your adviser ended the chat.")
    await expect(her.locator("#composer")).to_be_hidden()
    await expect(panel.locator(".log")).to_contain_text("You ended the chat.")
    await expect(her.get_by_role("button", name="Start a new chat")).to_be_visible()
    await screenshot(her, "visitor-ended")


async def test_she_can_end_the_chat_herself_after_confirming(pages: Pages) -> None:
    her = await pages.visitor()
    await start_chat(her)
    adviser = await pages.adviser("Bea")
    await take_chat(adviser)
    await expect(her.locator("#chat-status")).to_have_text("You are talking with Bea")

    await her.get_by_role("button", name="End chat").click()
    await her.get_by_role("button", name="No, go back").click()
    await expect(her.locator("#composer")).to_be_visible()

    await her.get_by_role("button", name="End chat").click()
    await her.get_by_role("button", name="Yes, end the chat").click()
    await expect(her.locator("#ended-text")).to_have_text("You ended the chat.")
    await expect(adviser.get_by_role("tabpanel").locator(".log")).to_contain_text(
        "She ended the chat."
    )

    # A new chat joins the queue again from the same page.
    await her.get_by_role("button", name="Start a new chat").click()
    await expect(her.locator("#chat-status")).to_have_text("You are number 1 in the queue")
    await expect(her.locator("#log .msg")).to_have_count(0)


async def test_phone_sized_page_keeps_the_exit_button_in_view(pages: Pages) -> None:
    her = await pages.visitor(viewport=PHONE, is_mobile=True, has_touch=True)
    exit_button = her.get_by_role("link", name="Leave this page", exact=True)
    box = await exit_button.bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] and box["y"] < 40
    assert box["height"] >= 44, "the exit button must be easy to tap"
    start = await her.get_by_role("button", name="Start a chat").bounding_box()
    assert start is not None and start["height"] >= 44
    await screenshot(her, "visitor-phone-before-chat")
    await start_chat(her)
    await screenshot(her, "visitor-phone-waiting")
    adviser, conversation = await adviser_client(pages.server, "gail")
    for n in range(8):
        await say(adviser, conversation, f"g{n}", f"Message {n}: take your time, I'm listening.")
    await expect(her.locator("#log .msg-other")).to_have_count(8)
    await her.mouse.wheel(0, 3000)
    box = await exit_button.bounding_box()
    assert box is not None and 0 <= box["y"] < 40, "the exit button stays on screen when scrolled"
    await screenshot(her, "visitor-phone-chat")
    await adviser.close()


async def test_she_can_delete_the_conversation_once_it_has_ended(pages: Pages) -> None:
    her = await pages.visitor()
    await start_chat(her)
    token = json.loads(await her.evaluate("sessionStorage.getItem('willow.visitor')"))["token"]
    await her.get_by_role("button", name="Stop waiting").click()
    await her.get_by_role("button", name="Yes, end the chat").click()
    await expect(her.locator("#ended-text")).to_have_text("You ended the chat.")

    await her.get_by_role("button", name="Delete this conversation").click()
    await expect(her.locator("#intro-notice")).to_have_text("Your conversation has been deleted.")
    assert await her.evaluate("sessionStorage.length") == 0
    assert await stored_choices(pages) == []
    client = await Client.open(pages.server)
    await client.send({"type": "hello", "v": 1, "token": token})
    assert (await client.receive("error"))["code"] == "unauthorized"
    await client.close()
