"""The adviser sees at once when the woman she is talking with goes offline, and when she is
back, in a real browser on both sides."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.e2e.browser import Pages, screenshot, start_chat, take_chat
from tests.e2e.test_reconnect import Link

pytestmark = pytest.mark.e2e

OFFLINE = (
    "She is offline: her page closed or lost its connection. "
    "The chat stays open for a while in case she comes back."
)


async def test_the_adviser_sees_her_go_offline_and_come_back(pages: Pages) -> None:
    link = Link()
    context = await pages.context()
    await context.route_web_socket(re.compile(r"/ws$"), link.handle)
    her = await context.new_page()
    await her.goto(pages.origin + "/")
    await start_chat(her, topic="drugs")
    adviser = await pages.adviser("Asha")
    await take_chat(adviser)
    await expect(her.locator("#chat-status")).to_have_text("You are talking with Asha")
    panel = adviser.get_by_role("tabpanel")
    status = panel.locator(".chat-presence")
    await expect(status).to_be_hidden()

    # Her connection is lost (a phone changing network, or her page closed).
    await link.cut()
    await expect(status).to_be_visible()
    await expect(status).to_have_text(OFFLINE)
    await expect(panel.locator(".log")).to_contain_text("She went offline.")
    await screenshot(adviser, "adviser-sees-her-offline")

    # Her page reconnects by itself: the chat goes on, and the adviser is told she is back.
    link.up = True
    await expect(her.locator("#connection")).to_have_text("")
    await expect(status).to_be_hidden()
    await expect(panel.locator(".log")).to_contain_text("She is back online.")
    await expect(panel.locator(".composer")).to_be_visible()
    await expect(her.locator("#chat-status")).to_have_text("You are talking with Asha")
    await screenshot(adviser, "adviser-sees-her-back")


async def test_with_no_adviser_online_she_is_not_given_a_number_in_the_queue(
    pages: Pages,
) -> None:
    her = await pages.visitor()
    await start_chat(her, topic="drugs")
    status = her.locator("#chat-status")
    await expect(status).to_have_text(
        "No adviser is online right now. You keep your place in the queue."
    )
    await screenshot(her, "visitor-nobody-online")

    adviser = await pages.adviser("Asha")
    await adviser.locator("#availability").click()
    await expect(status).to_have_text("You are number 1 in the queue")
