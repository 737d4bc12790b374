"""The reports page in a real browser: charts drawn by the server, figures under 5 hidden, the
CSV download, and "you said, we did" from the admin's form to the visitor's first screen."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from chat.core.tally import Happening
from chat.reporting.counting import count
from tests.chat.test_reporting import month_of, months_ago
from tests.e2e.browser import Pages, screenshot
from tests.e2e.test_accessibility import problems
from tests.e2e.test_safeguarding_browser import staff_page

pytestmark = pytest.mark.e2e


async def test_a_supervisor_reads_last_month_with_small_numbers_hidden(pages: Pages) -> None:
    services = pages.server.services
    assert services is not None
    last_month = months_ago(1)
    for language, how_many in (("en", 11), ("pl", 3), ("ar", 8)):
        for _ in range(how_many):
            await count(services, Happening("contact", {"language": language}, at=last_month))
    for code, how_many in (("specialist_referral", 6), ("contact_lost", 2), ("safety_plan", 5)):
        for _ in range(how_many):
            facts = {"level": "emergency", "code": code}
            await count(services, Happening("escalation_closed", facts, at=last_month))
    supervisor = await staff_page(pages, "supervisor", "Morgan")
    await supervisor.goto(pages.origin + "/reports")
    await expect(supervisor.locator("#month")).to_have_value(month_of(last_month))
    table = supervisor.get_by_role("table", name="Contacts: by language")
    await expect(table.get_by_role("row", name="English 11")).to_be_visible()
    await expect(table.get_by_role("row", name="Polish fewer than 5")).to_be_visible()
    await expect(table.get_by_role("row", name="Arabic not shown")).to_be_visible()
    closed = supervisor.get_by_role(
        "table", name="Escalations closed with an outcome: emergency escalations, by outcome"
    )
    await expect(
        closed.get_by_role("row", name="Referred to a specialist service 6")
    ).to_be_visible()
    await expect(closed.get_by_role("row", name="Contact lost fewer than 5")).to_be_visible()
    await expect(closed.get_by_role("row", name="Safety plan agreed not shown")).to_be_visible()
    chart = supervisor.locator('img[src*="/charts/contacts/language.svg"]')
    await expect(chart).to_be_visible()
    assert await chart.evaluate("img => img.naturalWidth > 0")
    async with supervisor.expect_download() as download_info:
        await supervisor.get_by_role("link", name="Download CSV").click()
    download = await download_info.value
    assert download.suggested_filename == f"willow-report-{month_of(last_month)}.csv"
    await expect(supervisor.locator("#yousaid-admin-only")).to_be_visible()
    assert await problems(supervisor) == []
    await screenshot(supervisor, "reports-month")


async def test_an_admin_adds_you_said_we_did_and_she_sees_it_first(pages: Pages) -> None:
    her = await pages.visitor()
    await expect(her.locator("#start")).to_be_visible()
    await expect(her.locator("#you-said")).to_be_hidden()

    admin = await staff_page(pages, "admin", "Ali")
    await admin.goto(pages.origin + "/reports")
    await admin.get_by_label("You said", exact=True).fill("It was hard to find you in the evening")
    await admin.get_by_label("We did", exact=True).fill("Advisers now answer until 10pm")
    await admin.get_by_role("button", name="Add").click()
    await expect(admin.locator("#yousaid-list li")).to_have_count(1)
    assert await problems(admin) == [], "the admin's editor"

    her = await pages.visitor()
    box = her.locator("#you-said")
    await expect(box).to_be_visible()
    await expect(box.get_by_role("heading")).to_have_text("You said, we did")
    await expect(box).to_contain_text("Advisers now answer until 10pm")
    assert await problems(her) == [], "the visitor page with the list shown"
    await screenshot(her, "visitor-you-said-we-did")
