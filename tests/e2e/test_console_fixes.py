"""The console's layout and wording fixes (issue 14): what an adviser or supervisor sees."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.e2e.browser import Pages, start_chat, take_chat
from tests.e2e.test_accessibility import problems
from tests.e2e.test_safeguarding_browser import IMMINENT, say_as_her, staff_page
from tests.wsclient import visitor

pytestmark = pytest.mark.e2e

SCREENS = Path(__file__).resolve().parents[2] / "docs" / "screens"


def frames_sent(page: Page) -> list[dict[str, Any]]:
    """Every JSON frame the page sends on its sockets from now on, in order."""
    frames: list[dict[str, Any]] = []

    def watch(ws: Any) -> None:
        ws.on("framesent", lambda payload: frames.append(json.loads(payload)))

    page.on("websocket", watch)
    return frames


async def box(page: Page, selector: str) -> Any:
    found = await page.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not on screen"
    return found


async def test_sending_with_enter_does_not_say_typing_again(pages: Pages) -> None:
    her = await pages.visitor()
    await start_chat(her)
    adviser = await pages.adviser("Sam")
    sent = frames_sent(adviser)
    await adviser.reload()  # the socket opens again, watched from its first frame
    await take_chat(adviser)
    reply = adviser.get_by_role("tabpanel").get_by_label("Your reply")
    await reply.fill("I'm here")
    await reply.press("Enter")
    await expect(her.locator("#log")).to_contain_text("I'm here")
    await adviser.wait_for_timeout(600)
    kinds = [(f.get("type"), f.get("active")) for f in sent if f.get("type") != "hello"]
    after = kinds[kinds.index(("message", None)) + 1 :]
    assert ("typing", True) not in after, kinds
    await expect(reply).to_have_value("")
    await expect(her.locator("#typing")).to_have_text("")


async def test_the_queue_says_not_sure_and_priority_in_words(pages: Pages) -> None:
    unsure = await pages.visitor()
    await start_chat(unsure, safe="unsure")
    silent = await pages.visitor()
    await start_chat(silent, topic="alcohol")  # she opens the questions but leaves this one
    adviser = await pages.adviser("Kit")
    rows = adviser.locator("#queue-rows tr")
    await expect(rows).to_have_count(2)
    # Oldest first: the one who said "Not sure", then the one who did not answer.
    await expect(rows.nth(0).locator("td").nth(3)).to_have_text("Not sure")
    await expect(rows.nth(1).locator("td").nth(3)).to_have_text("Not answered")
    await expect(rows.nth(0).locator("td").nth(5)).to_have_text("Normal")


async def test_take_next_is_disabled_with_a_reason_at_capacity(pages: Pages) -> None:
    waiting = [await visitor(pages.server) for _ in range(4)]
    for client, _ in waiting:
        await client.send({"type": "request_chat"})
        await client.receive("queue")
    adviser = await pages.adviser("Lee")
    await take_chat(adviser)
    take = adviser.get_by_role("button", name="Take next chat")
    for count in (2, 3):
        await take.click()
        await expect(adviser.get_by_role("tab")).to_have_count(count)
    await expect(adviser.locator("#queue-rows tr")).to_have_count(1)
    await expect(take).to_be_disabled()
    await expect(adviser.locator("#take-hint")).to_have_text(
        "You have 3 chats open, as many as you can take. End one to take the next."
    )
    # Ending one frees a place: the button is back.
    panel = adviser.get_by_role("tabpanel")
    await panel.get_by_role("button", name="End chat").click()
    await panel.get_by_role("button", name="Yes, end it").click()
    await expect(take).to_be_enabled()
    for client, _ in waiting:
        await client.close()


async def test_the_directory_shows_words_not_codes(pages: Pages) -> None:
    adviser = await pages.adviser("Max")
    await adviser.locator("#directory-panel summary").click()
    await adviser.locator("#directory-category").fill("overdose_medical")
    await adviser.locator("#directory-form").get_by_role("button", name="Search").click()
    results = adviser.locator("#directory-results")
    await expect(results.locator("li.directory-entry").first).to_be_visible()
    text = await results.inner_text()
    assert "overdose_medical" not in text and "_" not in text, text
    assert "Nations: uk" not in text and "uk," not in text, text
    await expect(results).to_contain_text("Overdose or medical emergency")


async def flagged_supervisor(pages: Pages, width: int) -> tuple[Page, Page]:
    """A supervisor (who also takes chats) with one chat open that her words flagged."""
    her = await pages.visitor()
    await start_chat(her)
    supervisor = await staff_page(pages, "supervisor", f"Rae{width}")
    await supervisor.set_viewport_size({"width": width, "height": 720 if width > 400 else 640})
    await take_chat(supervisor)
    for words in ("hello", "are you there", "I don't know what to do"):
        await say_as_her(her, words)
    await say_as_her(her, IMMINENT)
    await expect(supervisor.locator("#alerts-list .alert-item").first).to_be_visible()
    await expect(supervisor.get_by_role("tabpanel").locator(".safety-guidance")).to_be_visible()
    # Someone else waiting, so the queue's table has a row.
    await start_chat(await pages.visitor(), topic="children", safe="no")
    await expect(supervisor.locator("#queue-rows tr")).to_have_count(1)
    return supervisor, her


async def test_at_1280_the_alerts_sit_beside_the_chat_and_the_reply_box_stays_in_view(
    pages: Pages,
) -> None:
    supervisor, _ = await flagged_supervisor(pages, 1280)
    SCREENS.mkdir(exist_ok=True)
    await supervisor.screenshot(path=str(SCREENS / "staff-1280-flagged.png"))
    chats = await box(supervisor, "#chats-panel")
    # Nothing in the alerts and queue column reaches into the chats column.
    spill = await supervisor.evaluate(
        """(left) => [...document.querySelectorAll('.side-column *')]
          .filter((e) => e.getBoundingClientRect().right > left)
          .map((e) => e.tagName + '#' + e.id + '.' + e.className)""",
        chats["x"],
    )
    assert spill == [], spill
    await supervisor.evaluate("window.scrollTo(0, 0)")
    reply = await supervisor.get_by_role("tabpanel").get_by_label("Your reply").bounding_box()
    assert reply is not None
    assert reply["y"] + reply["height"] <= 720, f"the reply box is below the fold: {reply}"
    assert await problems(supervisor) == []


async def test_at_320_the_console_does_not_scroll_sideways(pages: Pages) -> None:
    supervisor, _ = await flagged_supervisor(pages, 320)
    await supervisor.screenshot(path=str(SCREENS / "staff-320-flagged.png"), full_page=True)
    wide = await supervisor.evaluate("document.documentElement.scrollWidth")
    assert wide <= 320, f"the page is {wide} px wide on a 320 px screen"
    assert await problems(supervisor) == []
