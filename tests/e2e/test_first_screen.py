"""The first screen on a small phone: calm to an onlooker, Start in reach, the rest a tap away."""

from __future__ import annotations

import json
import re

import pytest
from playwright.async_api import expect

from tests.e2e.browser import Pages, adviser_client, say, screenshot
from tests.e2e.test_accessibility import problems
from tests.e2e.test_catalogues import CATALOGUES
from tests.e2e.test_languages import text

pytestmark = pytest.mark.e2e

SMALL_PHONE = {"width": 360, "height": 640}
ALARMING = re.compile(r"\b(abuse|abusive|harm|danger|dangerous|violence)\b", re.IGNORECASE)


async def test_start_is_on_the_first_screen_and_nothing_alarming_shows(pages: Pages) -> None:
    her = await pages.visitor(viewport=SMALL_PHONE, is_mobile=True, has_touch=True)
    await expect(her.get_by_role("button", name="Start a chat")).to_be_in_viewport(ratio=1)
    await expect(her.get_by_role("link", name="Leave this page", exact=True)).to_be_in_viewport(
        ratio=1
    )
    # The promise comes first, short; an onlooker reads nothing alarming at a glance.
    await expect(her.locator(".promise-short")).to_be_in_viewport()
    shown = await her.evaluate("document.body.innerText")
    assert ALARMING.findall(shown) == [], shown
    assert await problems(her) == []
    await screenshot(her, "visitor-first-screen-360")

    # The full statement is one tap away, and says when something would be passed on.
    await her.get_by_text("What stays private").click()
    await expect(her.locator("#intro-confidential")).to_be_visible()
    await expect(her.get_by_text(text("en", "intro.safeguarding"))).to_be_visible()
    await her.get_by_text("Help us find the right person (optional)").click()
    await expect(her.get_by_label("Where do you live?")).to_be_visible()
    assert await problems(her) == [], "with both disclosures open"


async def test_times_read_in_urdu_digits_on_an_urdu_page(pages: Pages) -> None:
    her = await pages.visitor(locale="ur-PK")
    await expect(her.locator("html")).to_have_attribute("lang", "ur")
    await her.locator("#start").click()
    adviser, conversation = await adviser_client(pages.server, "zara")
    await say(adviser, conversation, "z1", "السلام علیکم، میں حاضر ہوں۔")
    time = her.locator("#log .msg-other .msg-time")
    await expect(time).to_have_text(re.compile(r"^[۰-۹]{2}:[۰-۹]{2}$"))
    await screenshot(her, "visitor-urdu-chat")
    await adviser.close()


async def test_staying_safe_online_is_one_tap_away_and_leaves_no_history(pages: Pages) -> None:
    her = await pages.visitor(viewport=SMALL_PHONE, is_mobile=True, has_touch=True)
    before = await her.evaluate("history.length")
    await her.get_by_role("link", name="Staying safe online").click()
    await expect(her.get_by_role("heading", name="Staying safe online")).to_be_visible()
    await expect(her.get_by_text(text("en", "safety.history"))).to_be_visible()
    assert await her.evaluate("history.length") == before
    assert await problems(her) == []
    await her.get_by_role("link", name="Back to the chat").click()
    await expect(her.locator("#start")).to_be_enabled()
    await her.goto(pages.origin + "/safety")
    await her.keyboard.press("Escape")
    await her.wait_for_url("https://www.bbc.co.uk/**")


@pytest.mark.parametrize("lang", ["pl", "ar", "ur", "bn", "pa"])
async def test_staying_safe_online_in_her_language(pages: Pages, lang: str) -> None:
    context = await pages.context(locale=lang)
    page = await context.new_page()
    await page.goto(pages.origin + "/safety")
    await expect(page.locator("h1")).to_have_text(text(lang, "safety.title"))
    await expect(page.locator("main li")).to_have_text(
        [text(lang, f"safety.{key}") for key in ("private", "history", "device", "leave")]
    )
    await expect(page.locator("html")).to_have_attribute("lang", lang)


async def test_a_somali_browser_gets_the_page_in_somali(pages: Pages) -> None:
    her = await pages.visitor(locale="so-SO", viewport=SMALL_PHONE, is_mobile=True)
    await expect(her.locator("html")).to_have_attribute("lang", "so")
    await expect(her.locator("html")).to_have_attribute("dir", "ltr")
    await expect(her).to_have_title(text("so", "page.title"))
    await expect(her.locator("#start")).to_have_text(text("so", "intro.start"))
    await expect(her.locator("#start")).to_be_in_viewport(ratio=1)
    assert await problems(her) == []
    await her.locator("#start").click()
    # Nobody is online yet: she is told so in Somali, not given a number in the queue.
    await expect(her.locator("#chat-status")).to_have_text(text("so", "chat.nobody_online"))
    adviser, conversation = await adviser_client(pages.server, "hodan")
    await say(adviser, conversation, "h1", "Soo dhawoow. Waan ku maqlayaa.")
    await expect(her.locator("#chat-status")).to_have_text(
        text("so", "chat.talking_with").replace("{name}", "Hodan")
    )
    await adviser.close()


async def test_the_rooms_page_in_somali(pages: Pages) -> None:
    context = await pages.context(locale="so")
    page = await context.new_page()
    await page.goto(pages.origin + "/rooms")
    rooms = json.loads((CATALOGUES / "rooms.so.json").read_text(encoding="utf-8"))
    await expect(page.locator("#list-title")).to_have_text(rooms["rooms.list.title"])
    await expect(page.locator(".one-to-one")).to_have_text(rooms["rooms.list.one_to_one"])
