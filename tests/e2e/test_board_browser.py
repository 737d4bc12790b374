"""Supervision in a real browser (issue 14): the live board (a waiting woman, a busy adviser and
a flagged chat appear and change live, the longest wait turns red past the target), taking a
chat over (the adviser's console, the supervisor's and her page each show it), and a transfer
to a specialism (refused while nobody is free, then made)."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from chat.core.settings import Settings
from chat.helpline.choices import LANGUAGES
from tests.e2e.browser import ARTIFACTS, Pages, screenshot, start_chat
from tests.e2e.test_accessibility import problems
from tests.e2e.test_safeguarding_browser import IMMINENT, say_as_her

pytestmark = pytest.mark.e2e

# The board's wait target, short so the colour changes within the test.
TARGET = 10


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"wait_target_seconds": TARGET})


async def console(pages: Pages, role: str, name: str, **profile: object) -> Page:
    """A logged-in console at desk width; she reads every page language unless told."""
    username, password = await pages.server.add_staff(role, name.lower())
    await pages.server.set_profile(username, **{"languages": list(LANGUAGES), **profile})
    context = await pages.context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.goto(pages.origin + "/staff")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator("#me-name")).to_contain_text(name.title())
    return page


async def board_screen(page: Page, name: str) -> None:
    """The board alone, kept with the test's artifacts (docs/screens holds copies, looked at)."""
    ARTIFACTS.mkdir(exist_ok=True)
    await page.locator("#board").screenshot(path=str(ARTIFACTS / f"{name}.png"))


async def test_the_board_changes_live_and_a_supervisor_takes_a_chat_over(pages: Pages) -> None:
    boss = await console(pages, "supervisor", "Sol")
    board = boss.locator("#board")
    await expect(board.get_by_role("heading", name="Live board")).to_be_visible()
    await expect(board.locator("#board-wait")).to_have_text("Nobody is waiting (target: 10 s).")
    await expect(board.locator("#board-flagged-empty")).to_be_visible()

    # Two women wait: the queue by language and by risk, the wait within the target.
    first = await pages.visitor()
    await start_chat(first)
    second = await pages.visitor(locale="pl-PL")
    await second.locator("#language").select_option("pl")
    await second.locator("#start").click()
    await expect(second.locator("#chat-status")).to_be_visible()
    await expect(board.locator("#board-waiting")).to_have_text("2 waiting")
    languages = board.get_by_role("table", name="By language")
    await expect(languages.get_by_role("row", name="English 1")).to_be_visible()
    await expect(languages.get_by_role("row", name="Polish 1")).to_be_visible()
    await expect(board.get_by_role("table", name="By risk")).to_contain_text("None")
    await expect(board.locator("#board-wait")).to_have_class(re.compile("wait-ok"))

    # An adviser with room for one chat takes the first: busy, and the queue is one shorter.
    tess = await console(pages, "adviser", "Tess", capacity=1)
    advisers = board.get_by_role("region", name="Advisers")
    await expect(advisers.get_by_role("row", name="Tess Away 0 of 1")).to_be_visible()
    await tess.locator("#availability").click()
    await tess.get_by_role("button", name="Take next chat").click()
    await expect(tess.get_by_role("tab")).to_have_count(1)
    await expect(advisers.get_by_role("row", name="Tess Online 1 of 1 (full)")).to_be_visible()
    await expect(board.locator("#board-waiting")).to_have_text("1 waiting")

    # What she writes raises the risk: the chat is flagged on the board, her words are not.
    await say_as_her(first, IMMINENT)
    flagged = board.locator("#board-flagged li")
    await expect(flagged).to_have_count(1)
    await expect(flagged).to_contain_text(re.compile(r"Immediate danger.*Chat \d+, with Tess"))
    await expect(board).not_to_contain_text("pills")

    # The second woman has now waited past the target: said in words, and in red.
    await expect(board.locator("#board-wait")).to_contain_text(
        "over the target of 10 s", timeout=20_000
    )
    await expect(board.locator("#board-wait")).to_have_class(re.compile("wait-over"))
    assert await problems(boss) == []
    await board_screen(boss, "staff-board-1280")
    await boss.set_viewport_size({"width": 320, "height": 900})
    assert await boss.evaluate("document.documentElement.scrollWidth") <= 320
    assert await problems(boss) == []
    await board_screen(boss, "staff-board-320")
    await boss.set_viewport_size({"width": 1280, "height": 900})

    # The supervisor opens the flagged chat from the board and takes it over, with a note.
    await flagged.get_by_role("button", name=re.compile(r"^Open chat \d+$")).click()
    reading = boss.get_by_role("tabpanel")
    await expect(reading.locator(".log")).to_contain_text("pills")
    await reading.get_by_role("button", name="Take over this chat…").click()
    await reading.get_by_label(re.compile("^Why you are taking it over")).fill(
        "Imminent risk: I will stay with her"
    )
    assert await problems(boss) == []
    await reading.get_by_role("button", name="Take over", exact=True).click()
    await expect(reading.locator(".log")).to_contain_text("You took over this chat.")
    await expect(reading.locator(".composer")).to_be_visible()

    # Her page says, in her language, that someone else is now talking with her.
    await expect(first.locator("#log")).to_contain_text(
        "Someone else is now talking with you: Sol."
    )
    await expect(first.locator("body")).not_to_contain_text("I will stay with her")
    # The adviser's console lets the chat go and says who took it and why.
    panel = tess.get_by_role("tabpanel")
    await expect(panel.locator(".chat-observer")).to_have_text(
        "Sol took this chat over: “Imminent risk: I will stay with her”. "
        "You can read it but not write in it."
    )
    await expect(panel.locator(".composer")).to_be_hidden()
    # The board follows: Tess is free again, Sol has the flagged chat.
    await expect(advisers.get_by_role("row", name="Tess Online 0 of 1")).to_be_visible()
    await expect(flagged).to_contain_text(re.compile(r"Chat \d+, with Sol"))

    reply = reading.get_by_label("Your reply")
    await reply.fill("I'm Sol, I'm here with you now.")
    await reply.press("Enter")
    await expect(first.locator("#log .msg-other .msg-body").last).to_have_text(
        "I'm Sol, I'm here with you now."
    )
    await screenshot(boss, "staff-takeover")

    # Ending the chat takes it off the board.
    await reading.get_by_role("button", name="End chat").click()
    await reading.get_by_role("button", name="Yes, end it").click()
    await expect(flagged).to_have_count(0)
    assert pages.page_errors == []


async def test_a_transfer_to_a_specialism_is_refused_then_made(pages: Pages) -> None:
    her = await pages.visitor()
    await start_chat(her)
    giver = await console(pages, "adviser", "Vic")
    await giver.locator("#availability").click()
    await giver.get_by_role("button", name="Take next chat").click()
    await expect(giver.get_by_role("tab")).to_have_count(1)
    await say_as_her(her, "He hits me when he drinks")
    panel = giver.get_by_role("tabpanel")
    await expect(panel.locator(".log")).to_contain_text("He hits me")
    bea = await console(pages, "adviser", "Bea", specialisms=["domestic_abuse"])
    await bea.locator("#availability").click()
    await expect(bea.locator("#availability")).to_have_attribute("aria-pressed", "true")

    await panel.get_by_role("button", name="Transfer…").click()
    to = panel.get_by_label("Hand it to")
    await expect(to.locator("optgroup[label='A specialism'] option")).to_have_count(7)
    # Nobody holds this one: a clear refusal, and the chat stays.
    await to.select_option(label="Any free adviser: Sexual violence")
    await panel.get_by_role("button", name="Transfer", exact=True).click()
    await expect(panel.locator(".transfer-status")).to_have_text(
        "No adviser with that specialism who reads her language is free now. "
        "Choose someone else, or try again soon."
    )
    await expect(panel.locator(".composer")).to_be_visible()

    await to.select_option(label="Any free adviser: Domestic abuse")
    await panel.get_by_label("Note for them (she does not see it)").fill("Abuse at home")
    assert await problems(giver) == []
    await panel.get_by_role("button", name="Transfer", exact=True).click()
    await expect(panel.locator(".log")).to_contain_text("You handed this chat to Bea.")
    await expect(her.locator("#log")).to_contain_text(
        "Someone else is joining the chat to help you: Bea."
    )
    received = bea.get_by_role("tabpanel")
    await expect(received.locator(".log")).to_contain_text("He hits me when he drinks")
    await expect(received.locator(".log")).to_contain_text(
        "Vic handed this chat to Bea: “Abuse at home”"
    )
    assert pages.page_errors == []
