"""A supervisor who logs in after an imminent-risk message sees the alert, acknowledges it,
and it leaves every supervisor's panel (issue 14, "alerts stored until acknowledged")."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.e2e.browser import Pages, screenshot, start_chat, take_chat
from tests.e2e.test_accessibility import problems
from tests.e2e.test_safeguarding_browser import IMMINENT, say_as_her, staff_page

pytestmark = pytest.mark.e2e


async def test_a_late_supervisor_sees_the_open_alert_and_acknowledges_it_for_everyone(
    pages: Pages,
) -> None:
    her = await pages.visitor()
    await start_chat(her)
    adviser = await pages.adviser("Asha")
    await take_chat(adviser)
    await say_as_her(her, IMMINENT)
    await expect(adviser.get_by_role("tabpanel").locator(".log .msg.is-flagged")).to_have_count(1)

    # Nobody was watching when she wrote; two supervisors log in afterwards.
    sol = await staff_page(pages, "supervisor", "Sol")
    rae = await staff_page(pages, "supervisor", "Rae")
    for supervisor in (sol, rae):
        alert = supervisor.locator("#alerts-list .alert-item")
        await expect(alert).to_have_count(1)
        await expect(alert).to_contain_text("Danger in chat")
        await expect(alert.locator(".level-badge")).to_have_text("Immediate danger")
        await expect(alert).to_contain_text("taken all my pills")
        await expect(supervisor.locator("#alerts-empty")).to_be_hidden()
    assert await problems(sol) == []
    await screenshot(sol, "staff-supervisor-late-login-alert")

    await sol.locator("#alerts-list").get_by_role("button", name="Acknowledge").click()
    for supervisor in (sol, rae):
        await expect(supervisor.locator("#alerts-list .alert-item")).to_have_count(0)
        await expect(supervisor.locator("#alerts-empty")).to_be_visible()
    await expect(rae.locator("#alerts-status")).to_contain_text("acknowledged by Sol")
    assert await problems(rae) == []

    # It stays acknowledged: a fresh load of the console lists nothing.
    await rae.reload()
    await expect(rae.locator("#me-name")).to_contain_text("Rae")
    await expect(rae.locator("#alerts-empty")).to_be_visible()
    await expect(rae.locator("#alerts-list .alert-item")).to_have_count(0)
