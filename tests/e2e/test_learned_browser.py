"""The learned risk layer in the staff console, in a real browser: danger the rules missed
reaches the adviser as a flag marked as the model's, and the supervisor as an alert."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from chat.core.settings import Settings
from tests.e2e.browser import Pages, screenshot, start_chat, take_chat
from tests.e2e.test_safeguarding_browser import say_as_her, staff_page
from tests.moderation.test_learned_server import MISSED, MODEL_WAIT

pytestmark = pytest.mark.e2e


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """This module's servers run the learned layer (the suite's default leaves it off)."""
    # Never skipped for load: the browser shares this process's CPU with the server.
    return settings.model_copy(update={"learned_risk": "on", "learned_risk_busy_share": 1.0})


async def test_the_model_flags_what_the_rules_missed_and_the_supervisor_is_alerted(
    pages: Pages,
) -> None:
    supervisor = await staff_page(pages, "supervisor", "Sol")
    her = await pages.visitor()
    await start_chat(her)
    adviser = await pages.adviser("Asha")
    await take_chat(adviser)
    await expect(her.locator("#chat-status")).to_have_text("You are talking with Asha")

    await say_as_her(her, MISSED)
    panel = adviser.get_by_role("tabpanel")
    # Delivered at once on the rules' verdict; the model's flag follows.
    await expect(panel.locator(".log")).to_contain_text(MISSED)
    learned = panel.locator(".safety .flag-learned")
    await expect(learned).to_have_count(1, timeout=MODEL_WAIT * 1000)
    await expect(learned).to_contain_text("Raised by the learned risk model after the rules")
    await expect(panel.locator(".safety .flag").first).to_contain_text("Domestic abuse")
    await expect(supervisor.locator("#alerts-list .alert-item")).to_have_count(1)
    await expect(her.locator("#helplines")).to_be_visible()
    await screenshot(adviser, "staff-console-learned-flag")
