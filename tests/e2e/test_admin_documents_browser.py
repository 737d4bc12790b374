"""The admin pages for what a service configures, in a browser (issue 14 "admin pages"):
service hours, a room, a directory entry and the branding, each refused with the server's
field-named error first, then saved and used at once; axe finds nothing serious."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.e2e.browser import ARTIFACTS, Pages, screenshot
from tests.e2e.test_accessibility import problems
from tests.e2e.test_safeguarding_browser import staff_page
from tests.wsclient import visitor

pytestmark = pytest.mark.e2e

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


async def open_kind(pages: Pages, kind: str, heading: str) -> Page:
    admin = await staff_page(pages, "admin", "Ade")
    await admin.goto(pages.origin + f"/admin/{kind}")
    await expect(admin.get_by_role("heading", level=1, name=heading)).to_be_visible()
    await expect(admin.locator("#doc-source")).to_have_text("The shipped defaults are in use.")
    return admin


async def view(page: Page, name: str) -> None:
    """What the admin sees on screen (a long list's full page is too tall to read)."""
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


async def data_keys_shown(page: Page) -> list[str]:
    """Fields of the list editors labelled with their bare data key (no words in en.json)."""
    labels = page.locator("#doc-fields label[data-field]")
    await expect(labels.first).to_be_attached()
    shown: list[str] = await labels.evaluate_all(
        "(all) => all.filter((l) => l.textContent === l.dataset.field).map((l) => l.dataset.field)"
    )
    return shown


async def save(page: Page) -> None:
    await page.get_by_role("button", name="Save and use now").click()


async def test_service_hours_closed_for_a_holiday_reach_her_at_once(pages: Pages) -> None:
    admin = await open_kind(pages, "hours", "Service hours")
    await expect(admin.get_by_text("the helpline is always open")).to_be_visible()
    assert await problems(admin) == []
    await admin.get_by_label("Time zone").fill("Europe/Londn")
    for day in DAYS:
        await admin.get_by_label(day, exact=True).fill("10:00-22:00")
    await save(admin)
    error = admin.locator("#doc-error")
    await expect(error).to_contain_text("Not saved, nothing changed")
    await expect(error).to_contain_text("unknown time zone 'Europe/Londn'")
    # What she typed stays to be corrected.
    await expect(admin.get_by_label("Monday", exact=True)).to_have_value("10:00-22:00")
    assert await problems(admin) == []

    await admin.get_by_label("Time zone").fill("Europe/London")
    for day in DAYS:
        await admin.get_by_label(day, exact=True).fill("")
    await admin.get_by_label("Days closed (holidays)").fill("2026-12-25\n2026-12-26")
    await save(admin)
    await expect(admin.locator("#status")).to_have_text("Saved. Every server uses it now.")
    await expect(admin.locator("#doc-source")).to_contain_text("Changed by an admin")
    await expect(admin.get_by_label("Days closed (holidays)")).to_have_value(
        "2026-12-25\n2026-12-26"
    )
    assert await problems(admin) == []
    await screenshot(admin, "admin-hours")

    her, _ = await visitor(pages.server)
    await her.send({"type": "request_chat"})
    refused = await her.receive("error")
    assert refused["code"] == "helpline_closed"
    await her.close()

    await admin.get_by_role("button", name="Back to the shipped defaults").click()
    await admin.get_by_role("button", name="Yes, use the defaults").click()
    await expect(admin.locator("#status")).to_contain_text("shipped defaults are in use again")
    await expect(admin.get_by_text("the helpline is always open")).to_be_visible()


async def test_a_room_renamed_with_new_rules_shows_on_the_rooms_page(pages: Pages) -> None:
    admin = await open_kind(pages, "rooms", "Rooms and schedules")
    assert await problems(admin) == []
    first = admin.locator("details.entry").first
    await expect(first.locator("summary")).to_have_text("newcomers")
    assert await data_keys_shown(admin) == []
    await expect(admin.get_by_label("Sessions usually start")).to_have_value("19:00")
    # Entries are closed until opened, so the long list reads as a list.
    await expect(first.get_by_label("Name", exact=True)).to_be_hidden()
    await first.locator("summary").click()
    await first.get_by_label("Name", exact=True).fill("")
    await save(admin)
    await expect(admin.locator("#doc-error")).to_contain_text("room 'newcomers'")
    await expect(admin.locator("#doc-error")).to_contain_text("name")
    assert await problems(admin) == []

    await first.get_by_label("Name", exact=True).fill("Evening welcome")
    await first.get_by_label("Ground rules").fill("Be gentle.\nNo real names.")
    await save(admin)
    await expect(admin.locator("#status")).to_have_text("Saved. Every server uses it now.")
    await admin.locator("details.entry").first.locator("summary").click()
    await expect(first.get_by_label("Name", exact=True)).to_have_value("Evening welcome")
    assert await problems(admin) == []
    await admin.evaluate("window.scrollTo(0, 0)")
    await view(admin, "admin-rooms")

    her = await pages.visitor()
    await her.goto(pages.origin + "/rooms")
    await expect(her.get_by_text("Evening welcome")).to_be_visible()


async def test_a_directory_entry_added_is_found_by_staff(pages: Pages) -> None:
    admin = await open_kind(pages, "directory", "Helpline directory")
    await admin.get_by_role("button", name="Add to Helplines").click()
    entry = admin.locator("details.entry").last
    await expect(entry.locator("summary")).to_have_text("New entry 21")
    await expect(entry.get_by_label("Short code", exact=True)).to_be_focused()
    assert await data_keys_shown(admin) == []
    await entry.get_by_label("Short code", exact=True).fill("harbour-line")
    await entry.get_by_label("Name", exact=True).fill("Harbour Line")
    await entry.get_by_label("Ways to reach it").fill('[{"kind": "phone", "value": "call us"}]')
    await entry.get_by_label("Categories", exact=True).fill("emotional_support")
    await save(admin)
    error = admin.locator("#doc-error")
    await expect(error).to_contain_text("(id 'harbour-line'): contacts.0")
    await expect(error).to_contain_text("must be a number")
    assert await problems(admin) == []

    await entry.get_by_label("Ways to reach it").fill(
        '[{"kind": "phone", "value": "0800 123 456"}]'
    )
    await save(admin)
    await expect(admin.locator("#status")).to_have_text("Saved. Every server uses it now.")
    await expect(admin.locator("details.entry").last.locator("summary")).to_have_text(
        "harbour-line"
    )
    await admin.locator("details.entry").last.locator("summary").click()
    await admin.locator("details.entry").last.scroll_into_view_if_needed()
    await view(admin, "admin-directory")
    found = await admin.evaluate(
        "fetch('/api/directory?q=harbour').then((r) => r.json()).then((l) => l.map((h) => h.name))"
    )
    assert found == ["Harbour Line"]


async def test_branding_changes_the_visitor_page(pages: Pages) -> None:
    admin = await open_kind(pages, "branding", "Visitor page branding")
    assert await problems(admin) == []
    await admin.get_by_label("Service name").fill("Harbour")
    await admin.get_by_label("Accent").fill("teal")
    await save(admin)
    await expect(admin.locator("#doc-error")).to_contain_text("colours.accent")
    await expect(admin.locator("#doc-error")).to_contain_text("#rrggbb")
    await admin.get_by_label("Accent").fill("#2f5d62")
    await admin.get_by_label("Quick exit address").fill("https://example.org/weather")
    await save(admin)
    await expect(admin.locator("#status")).to_have_text("Saved. Every server uses it now.")
    assert await problems(admin) == []
    await screenshot(admin, "admin-branding")

    her = await pages.visitor()
    await expect(her.get_by_role("heading", level=1, name="Harbour")).to_be_visible()
    await expect(her.get_by_role("link", name="Leave this page", exact=True)).to_have_attribute(
        "href", "https://example.org/weather"
    )


async def test_only_admins_get_the_pages(pages: Pages) -> None:
    adviser = await staff_page(pages, "adviser", "Asha")
    await adviser.goto(pages.origin + "/admin/hours")
    await expect(adviser.locator("#status")).to_have_text(
        "Only admins can change what the service configures."
    )
    await expect(adviser.locator("#editor")).to_be_hidden()
    answer = await adviser.evaluate("fetch('/api/admin/documents/hours').then((r) => r.status)")
    assert answer == 403


async def test_the_other_pages_open_with_their_entries_and_pass_axe(pages: Pages) -> None:
    admin = await staff_page(pages, "admin", "Ade")
    for kind, heading, shown in (
        ("retention", "Retention", "Days a transcript is kept after the chat ends"),
        ("outcomes", "Outcome codes", "Add to Outcomes"),
        ("canned", "Canned replies", "Add to Groups of replies"),
    ):
        await admin.goto(pages.origin + f"/admin/{kind}")
        await expect(admin.get_by_role("heading", level=1, name=heading)).to_be_visible()
        await expect(admin.get_by_text(shown).first).to_be_visible()
        if kind != "retention":
            assert await data_keys_shown(admin) == [], kind
        assert await problems(admin) == [], kind
    # Retention: a period of 0 days is refused by the setting's own limit.
    await admin.goto(pages.origin + "/admin/retention")
    days = admin.get_by_label("Days a transcript is kept after the chat ends")
    await days.fill("0")
    await save(admin)
    await expect(admin.locator("#doc-error")).to_contain_text(
        "transcript_retention_days: Input should be greater than or equal to 1"
    )
    await days.fill("14")
    await save(admin)
    await expect(admin.locator("#status")).to_have_text("Saved. Every server uses it now.")
    config = await admin.evaluate("fetch('/api/config').then((r) => r.json())")
    assert config["retention_days"] == 14
