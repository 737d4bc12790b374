"""Nothing after she leaves: only a reload of the same tab shows her chat again."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.e2e.browser import EXIT_HOST, Pages, adviser_client, say, start_chat
from tests.wsclient import Client

pytestmark = pytest.mark.e2e

# A document opened later than the chat page was hidden: its clock runs a minute ahead.
A_MINUTE_LATER = "(() => { const real = Date.now; Date.now = () => real() + 60000; })()"


async def chatting(pages: Pages) -> tuple[Page, Client, int]:
    her = await pages.visitor()
    await start_chat(her)
    adviser, conversation = await adviser_client(pages.server, "nell")
    await say(adviser, conversation, "n1", "I'm here. What's happening?")
    await expect(her.locator("#log .msg-other")).to_have_count(1)
    return her, adviser, conversation


async def starts_afresh(her: Page) -> None:
    await expect(her.locator("#start")).to_be_visible()
    await expect(her.locator("#chat")).to_be_hidden()
    await expect(her.locator("#log .msg")).to_have_count(0)
    assert await her.evaluate("sessionStorage.getItem('willow.visitor')") is None


async def test_a_reload_of_the_same_tab_keeps_her_chat(pages: Pages) -> None:
    her, adviser, _ = await chatting(pages)
    await her.reload()
    await expect(her.locator("#chat-status")).to_have_text("You are talking with Nell")
    await expect(her.locator("#log .msg-other .msg-body")).to_have_text(
        "I'm here. What's happening?"
    )
    await adviser.close()


async def test_back_after_going_elsewhere_starts_afresh(pages: Pages) -> None:
    her, adviser, conversation = await chatting(pages)
    await her.goto(f"https://{EXIT_HOST}/news")
    await her.go_back()
    assert her.url.startswith(pages.origin)
    await starts_afresh(her)
    # The conversation is still there for the adviser: nothing told the server it ended.
    await say(adviser, conversation, "n2", "Still here")
    assert (await adviser.receive("ack", client_id="n2"))["seq"] > 0
    await adviser.close()


async def test_a_tab_reopened_later_starts_afresh(pages: Pages) -> None:
    her, adviser, _ = await chatting(pages)
    await her.context.add_init_script(A_MINUTE_LATER)
    await her.reload()
    await starts_afresh(her)
    await adviser.close()


async def test_a_new_tab_starts_afresh(pages: Pages) -> None:
    her, adviser, _ = await chatting(pages)
    other = await her.context.new_page()
    await other.goto(pages.origin + "/")
    await starts_afresh(other)
    await adviser.close()
