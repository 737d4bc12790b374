"""A mentor in rooms (issue 14 "Fixes"): participants see her display name, never her
username; her danger alerts carry the step-by-step guidance advisers get."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.e2e.browser import Pages, screenshot
from tests.e2e.test_accessibility import problems
from tests.e2e.test_rooms_browser import join_room, mentor_page, open_rooms
from tests.peers.roomkit import say, woman_in

pytestmark = pytest.mark.e2e

RISKY = "I am going to kill myself tonight"


async def test_she_sees_the_mentors_name_and_the_mentor_gets_guidance_with_an_alert(
    pages: Pages,
) -> None:
    console = await mentor_page(pages, "Amina")
    await console.get_by_role("button", name="Open this room: First time here").click()
    await expect(console.locator("#room-name")).to_have_text("First time here")

    her = await open_rooms(pages)
    await join_room(her, "First time here")
    await console.get_by_label("Your message to the room").fill("Welcome, I'm here tonight")
    await console.get_by_label("Your message to the room").press("Enter")
    mentor_line = her.locator("#log .msg-mentor")
    await expect(mentor_line).to_contain_text("Amina (mentor)")
    # Her username (amina-xxxx) is never on the page.
    assert "amina-" not in (await her.content()).lower()

    other = await woman_in(pages.server)
    await say(other.client, "r1", RISKY)
    alert = console.locator("#alerts .queue-item").first
    await expect(alert).to_be_visible()
    await expect(alert.locator(".guidance-title").first).to_contain_text("What to do:")
    await expect(alert.locator(".guidance-steps li").first).to_be_visible()
    assert await alert.locator(".guidance-steps li").count() >= 2
    assert await problems(console) == []
    await screenshot(console, "mentor-console-alert-guidance")
    await other.client.close()


async def test_a_mention_of_danger_shows_the_mentor_a_note_not_an_alert(pages: Pages) -> None:
    """A woman speaks of danger that is over ("years ago … now I am well"): the mentor's
    console shows a note saying how it was read, and her level in the people list stays."""
    console = await mentor_page(pages, "Amina")
    await console.get_by_role("button", name="Open this room: First time here").click()
    await expect(console.locator("#room-name")).to_have_text("First time here")

    other = await woman_in(pages.server)
    await say(other.client, "m1", "years ago I tried to kill myself, now I am well")
    note = console.locator("#alerts .queue-note").first
    await expect(note).to_be_visible()
    await expect(note).to_contain_text("mentioned a risk (a note, no alert)")
    await expect(note).to_contain_text("in the past and over")
    assert await console.locator("#alerts .queue-alert").count() == 0
    await expect(console.locator("#people")).not_to_contain_text("Some risk")
    assert await problems(console) == []
    await screenshot(console, "mentor-console-mention-note")
    await other.client.close()
