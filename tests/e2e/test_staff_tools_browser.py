"""Staff tools in a real browser: directory search, kinder wording, reports from both sides,
and the audit log for supervisors and admins."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.e2e.browser import Pages, screenshot, start_chat, take_chat
from tests.e2e.test_safeguarding_browser import say_as_her, staff_page, text

pytestmark = pytest.mark.e2e


async def test_directory_search_and_kinder_wording_while_typing(pages: Pages) -> None:
    her = await pages.visitor()
    await start_chat(her)
    adviser = await pages.adviser("Vic")
    await take_chat(adviser)

    await adviser.get_by_text("Helpline directory", exact=True).click()
    await adviser.get_by_label("Search words").fill("drink")
    await adviser.get_by_role("button", name="Search", exact=True).click()
    results = adviser.locator("#directory-results > li")
    await expect(adviser.locator("#directory-status")).to_have_text("1 found")
    await expect(results).to_have_count(1)
    await expect(results.first.locator("h4")).to_have_text("Drinkline")
    await expect(results.first.locator('a[href="tel:03001231110"]')).to_have_text("0300 123 1110")
    await expect(results.first).to_contain_text("Nations: England")

    # A category narrows it; eligibility is shown where a service has one.
    await adviser.get_by_label("Search words").fill("")
    await adviser.get_by_label("Category").fill("lgbt")
    await adviser.get_by_role("button", name="Search", exact=True).click()
    await expect(results.first.locator("h4")).to_have_text("Galop")
    await expect(results.first).to_contain_text(
        "Who it is for: LGBT+ people experiencing domestic abuse."
    )
    await screenshot(adviser, "staff-directory-panel")

    # A category the server does not know: its own message says which ones it knows.
    await adviser.get_by_label("Category").fill("nonsense")
    await adviser.get_by_role("button", name="Search", exact=True).click()
    await expect(adviser.locator("#directory-status")).to_contain_text(
        "Search not possible: unknown category 'nonsense'; known: suicide_self_harm"
    )
    await expect(results).to_have_count(0)

    # Kinder wording appears under the reply while typing; sending is never held up.
    panel = adviser.get_by_role("tabpanel")
    reply = panel.get_by_label("Your reply")
    await reply.press_sequentially("she is an addict")
    wording = panel.locator(".wording")
    await expect(wording).to_contain_text("Kinder wording for your draft")
    await expect(wording.locator("q")).to_have_text(["addict"])
    await expect(wording).to_contain_text("a woman who uses drugs")
    await expect(wording).to_contain_text("A label makes her the problem")
    await screenshot(adviser, "staff-wording-suggestion")
    await reply.press("Enter")
    await expect(her.locator("#log .msg-other .msg-body")).to_have_text(["she is an addict"])
    await expect(wording).to_contain_text("Kinder wording for the message you just sent")
    await reply.fill("How are you feeling right now?")
    await expect(wording).to_be_hidden()


async def test_reports_from_her_and_from_the_adviser_reach_the_supervisor(pages: Pages) -> None:
    supervisor = await staff_page(pages, "supervisor", "Wyn")
    her = await pages.visitor()
    await start_chat(her)
    adviser = await pages.adviser("Vee")
    await take_chat(adviser)
    panel = adviser.get_by_role("tabpanel")
    conversation = (await panel.get_attribute("id") or "chat-0").split("-")[1]

    # She reports the adviser's message: small action, optional reason, quiet thanks.
    await panel.get_by_label("Your reply").fill("You should just stop drinking.")
    await panel.get_by_label("Your reply").press("Enter")
    message = her.locator("#log .msg-other")
    await expect(message).to_have_count(1)
    # On her page "Report" waits behind a small menu on the message.
    await message.locator("summary", has_text="⋯").click()
    await message.get_by_role("button", name=text("en", "report.button")).click()
    await message.get_by_label(text("en", "report.reason")).fill("felt judged")
    await message.get_by_role("button", name=text("en", "report.send")).click()
    await expect(message.get_by_role("status")).to_have_text(text("en", "report.done"))
    await expect(message.get_by_role("button", name=text("en", "report.button"))).to_be_hidden()
    await expect(her.locator("#log .msg-own .msg-report")).to_have_count(0)

    alert = supervisor.locator("#alerts-list .alert-item", has_text="Report in chat")
    await expect(alert).to_have_count(1)
    await expect(alert).to_contain_text("Reason: felt judged")

    # The adviser reports one of hers the same way.
    await say_as_her(her, "this is pointless, you are useless")
    hers = panel.locator(".log .msg-other")
    await expect(hers).to_have_count(1)
    await hers.get_by_role("button", name="Report").click()
    await hers.get_by_label("Why (optional)").fill("hostile")
    await hers.get_by_role("button", name="Send report").click()
    await expect(hers.get_by_role("status")).to_have_text("Reported. A supervisor has been told.")
    await expect(alert).to_have_count(2)

    # The supervisor closes her report; after a reload the other one is still listed.
    first = supervisor.locator("#alerts-list .alert-item", has_text="felt judged")
    await first.get_by_label("Outcome of this report").fill("Talked it through with Vee")
    await first.get_by_role("button", name="Close report").click()
    await expect(first).to_contain_text("Report closed: Talked it through with Vee")
    await supervisor.reload()
    await expect(supervisor.locator("#me-name")).to_have_text("Signed in as Wyn")
    listed = supervisor.locator("#alerts-list .alert-item")
    await expect(listed).to_have_count(1)
    await expect(listed).to_contain_text("Reason: hostile")

    # Opening that chat is a transcript view: the admin's audit log says who and which.
    await listed.get_by_role("button", name=f"Open chat {conversation}").click()
    await expect(supervisor.get_by_role("tabpanel").locator(".log")).to_contain_text("useless")
    admin = await staff_page(pages, "admin", "Ada")
    await expect(admin.locator("#queue-panel")).to_be_hidden()
    await expect(admin.locator("#alerts-panel")).to_be_hidden()
    await admin.get_by_text("Audit log", exact=True).click()
    await admin.get_by_label("Subject (e.g. conversation:12)").fill(f"conversation:{conversation}")
    await admin.get_by_role("button", name="Show entries").click()
    rows = admin.locator("#audit-rows tr")
    await expect(rows.first.locator("td").nth(2)).to_have_text("transcript.view")
    await expect(admin.locator("#audit-rows")).to_contain_text("report")
