"""The visitor page in her language: right-to-left where the script is, translated throughout."""

from __future__ import annotations

import json

import pytest
from playwright.async_api import expect

from tests.e2e.browser import Pages, say, screenshot
from tests.e2e.test_catalogues import CATALOGUES
from tests.wsclient import staff

pytestmark = pytest.mark.e2e


def text(lang: str, key: str) -> str:
    value: str = json.loads((CATALOGUES / f"{lang}.json").read_text(encoding="utf-8"))[key]
    return value


async def test_arabic_browser_gets_a_right_to_left_page_in_arabic(pages: Pages) -> None:
    her = await pages.visitor(locale="ar-EG")
    html = her.locator("html")
    await expect(html).to_have_attribute("dir", "rtl")
    await expect(html).to_have_attribute("lang", "ar")
    await expect(her).to_have_title(text("ar", "page.title"))
    await expect(her.locator("#start")).to_have_text(text("ar", "intro.start"))
    await expect(her.locator("#language")).to_have_value("ar")
    # The exit button is still on screen and in Arabic.
    await expect(
        her.get_by_role("link", name=text("ar", "exit.button"), exact=True)
    ).to_be_in_viewport()
    await screenshot(her, "visitor-arabic")

    # An adviser who reads Arabic is online: her place in the queue, in Arabic-Indic digits.
    login = await pages.server.staff_session("adviser", "huda")
    await pages.server.set_profile(login.username, languages=["ar", "en"])
    adviser = await staff(pages.server, login)
    await adviser.send({"type": "set_available", "available": True})
    await adviser.receive("status")
    await her.locator("#start").click()
    await expect(her.locator("#chat-status")).to_have_text(
        text("ar", "chat.queue_position").replace("{position}", "١")
    )
    await screenshot(her, "visitor-arabic-waiting")

    await adviser.send({"type": "take_next"})
    conversation = int((await adviser.receive("assigned"))["conversation_id"])
    await expect(her.locator("#chat-status")).to_have_text(
        text("ar", "chat.talking_with").replace("{name}", "Huda")
    )
    await her.get_by_label(text("ar", "chat.message")).fill("مرحبا، هل يمكننا التحدث؟")
    await her.get_by_label(text("ar", "chat.message")).press("Enter")
    await adviser.receive("message")
    await say(adviser, conversation, "h1", "مرحبا، أنا هنا. خذي وقتكِ.")
    await expect(her.locator("#log .msg")).to_have_count(2)
    await screenshot(her, "visitor-arabic-chat")
    await adviser.close()


async def test_choosing_a_language_redraws_the_page_and_its_direction(pages: Pages) -> None:
    her = await pages.visitor()
    html = her.locator("html")
    await expect(html).to_have_attribute("dir", "ltr")
    await her.locator("#language").select_option("ur")
    await expect(html).to_have_attribute("dir", "rtl")
    await expect(html).to_have_attribute("lang", "ur")
    await expect(her.locator("#intro-title")).to_have_text(text("ur", "intro.title"))
    await her.locator("#language").select_option("pl")
    await expect(html).to_have_attribute("dir", "ltr")
    await expect(her.locator("#start")).to_have_text(text("pl", "intro.start"))
    await expect(her).to_have_title("Czat")


@pytest.mark.parametrize("lang", ["bn", "pa"])
async def test_other_languages_load_from_the_browser_preference(pages: Pages, lang: str) -> None:
    her = await pages.visitor(locale=lang)
    await expect(her.locator("html")).to_have_attribute("dir", "ltr")
    await expect(her.locator("#start")).to_have_text(text(lang, "intro.start"))
    await screenshot(her, f"visitor-{lang}")
