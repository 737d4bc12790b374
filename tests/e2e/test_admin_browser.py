"""The admin's staff accounts page and the staff member's own account page, in a browser
(issue 14 "Admin pages" for staff, issue 13 "change and reset a password")."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.e2e.browser import Pages, screenshot
from tests.e2e.test_accessibility import problems
from tests.e2e.test_safeguarding_browser import staff_page

pytestmark = pytest.mark.e2e

HER_PASSWORD = "lantern-orchard-quiet-58"


async def open_admin(pages: Pages) -> Page:
    admin = await staff_page(pages, "admin", "Ade")
    await admin.goto(pages.origin + "/admin")
    await expect(admin.get_by_role("heading", name="Everyone with an account")).to_be_visible()
    return admin


def row_of(page: Page, name: str):  # type: ignore[no-untyped-def]
    return page.locator("#staff-rows tr").filter(has=page.get_by_role("rowheader", name=name))


async def test_an_admin_adds_a_mentor_who_sets_her_own_password_then_manages_her(
    pages: Pages,
) -> None:
    admin = await open_admin(pages)
    assert await problems(admin) == []

    # A mentor whose display name is her username is refused; what was typed stays.
    add = admin.locator("#add-form")
    await add.get_by_label("Username").fill("amina")
    await add.get_by_label("Display name").fill("Amina")
    await add.get_by_label("Role").select_option("mentor")
    await add.get_by_role("button", name="Add and make a code").click()
    await expect(admin.locator("#add-error")).to_contain_text("may not be her username")
    await expect(add.get_by_label("Username")).to_have_value("amina")
    assert await problems(admin) == []

    await add.get_by_label("Display name").fill("Mina")
    await add.get_by_role("button", name="Add and make a code").click()
    panel = admin.locator("#code-panel")
    await expect(panel).to_be_visible()
    await expect(panel).to_contain_text("Mina can now set a password")
    await expect(panel).to_contain_text("with their username amina")
    code = (await admin.locator("#code-value").text_content() or "").strip()
    assert len(code) >= 32
    row = row_of(admin, "Mina")
    await expect(row).to_contain_text("Peer mentor")
    await expect(row).to_contain_text("Active")
    assert await problems(admin) == []
    await screenshot(admin, "admin-staff-new-code")
    await panel.get_by_role("button", name="I have passed it on").click()
    await expect(panel).to_be_hidden()
    await expect(admin.locator("#code-value")).to_have_text("")

    # She sets her own password with the code, logged out, on the account page.
    context = await pages.context(viewport={"width": 390, "height": 844})
    her = await context.new_page()
    await her.goto(pages.origin + "/account")
    form = her.locator("#reset-form")
    await form.get_by_label("Username").fill("amina")
    await form.get_by_label("Code from the admin").fill("not-the-code")
    await form.get_by_label("New password").fill(HER_PASSWORD)
    await form.get_by_role("button", name="Set my password").click()
    await expect(her.locator("#reset-error")).to_contain_text("not right or has expired")
    await form.get_by_label("Code from the admin").fill(code)
    await form.get_by_role("button", name="Set my password").click()
    await expect(her.locator("#status")).to_have_text(
        "Your password is set. Log in at the staff console with it."
    )
    assert await problems(her) == []
    await screenshot(her, "account-reset-done-phone")
    assert (await pages.server.login("amina", HER_PASSWORD)).display_name == "Mina"

    # The admin renames her and makes her an adviser.
    await row.get_by_role("button", name="Manage Mina").click()
    manage = admin.locator("#manage")
    await expect(manage.get_by_role("heading")).to_have_text("Manage Mina (amina)")
    await manage.get_by_label("Display name").fill("Supervisor")
    await manage.get_by_role("button", name="Save changes").click()
    await expect(admin.locator("#manage-error")).to_contain_text("role word")
    assert await problems(admin) == []
    await screenshot(admin, "admin-staff-manage")
    await manage.get_by_label("Display name").fill("Mina Kaur")
    # Her training, recorded here as with `willow staff train`.
    await manage.get_by_label("Training is complete").check()
    await manage.get_by_label("Which training").fill("peer group course, March")
    await manage.get_by_role("button", name="Save changes").click()
    await expect(row_of(admin, "Mina Kaur")).to_contain_text("Recorded")
    await row_of(admin, "Mina Kaur").get_by_role("button", name="Manage Mina Kaur").click()
    await expect(manage.get_by_label("Training is complete")).to_be_checked()
    await manage.get_by_label("Role").select_option("adviser")
    await manage.get_by_role("button", name="Save changes").click()
    await expect(admin.locator("#status")).to_contain_text("Saved the changes for Mina Kaur")
    await expect(row_of(admin, "Mina Kaur")).to_contain_text("Adviser")

    # A new reset code, then disabling (asked once more first).
    await row_of(admin, "Mina Kaur").get_by_role("button", name="Manage Mina Kaur").click()
    await manage.get_by_role("button", name="Make a password reset code").click()
    await expect(panel).to_contain_text("A new password reset code for Mina Kaur")
    await panel.get_by_role("button", name="I have passed it on").click()
    await row_of(admin, "Mina Kaur").get_by_role("button", name="Manage Mina Kaur").click()
    await manage.get_by_role("button", name="Disable this account").click()
    await expect(admin.locator("#disable-question")).to_contain_text("Disable Mina Kaur?")
    await admin.get_by_role("button", name="Yes, disable it now").click()
    await expect(row_of(admin, "Mina Kaur")).to_contain_text("Disabled")
    await expect(row_of(admin, "Mina Kaur").get_by_role("button")).to_have_count(0)
    assert await problems(admin) == []
    await screenshot(admin, "admin-staff-list")

    # Every change is in the audit log.
    assert pages.server.services is not None
    from sqlalchemy import select

    from chat.core.models import AuditEntry

    async with pages.server.services.db.read() as session:
        actions = set(await session.scalars(select(AuditEntry.action)))
    assert {
        "staff.created",
        "staff.password_reset_issued",
        "staff.password_reset",
        "staff.display_name_changed",
        "staff.role_changed",
        "staff.disabled",
        "staff.training",
    } <= actions


async def test_staff_change_their_own_password_and_only_admins_reach_the_admin_page(
    pages: Pages,
) -> None:
    username, password = await pages.server.add_staff("adviser", "sam")
    adviser = await staff_page_as(pages, username, password)
    await adviser.goto(pages.origin + "/admin")
    await expect(adviser.locator("#status")).to_have_text("Only admins can run staff accounts.")
    await expect(adviser.locator("#people")).to_be_hidden()

    await adviser.goto(pages.origin + "/account")
    form = adviser.locator("#change-form")
    await expect(adviser.locator("#change-who")).to_contain_text(f"({username})")
    await form.get_by_label("Your password now").fill("not-my-password-1")
    await form.get_by_label("New password").fill(HER_PASSWORD)
    await form.get_by_role("button", name="Change password").click()
    await expect(adviser.locator("#change-error")).to_contain_text("not your password now")
    await form.get_by_label("Your password now").fill(password)
    await form.get_by_label("New password").fill("aaaaaaaaaaaa")
    await form.get_by_role("button", name="Change password").click()
    await expect(adviser.locator("#change-error")).not_to_contain_text("not your password now")
    await form.get_by_label("New password").fill(HER_PASSWORD)
    await form.get_by_role("button", name="Change password").click()
    await expect(adviser.locator("#status")).to_contain_text("Your password is changed")
    assert await problems(adviser) == []
    await screenshot(adviser, "account-change-password")
    await pages.server.login(username, HER_PASSWORD)


async def staff_page_as(pages: Pages, username: str, password: str) -> Page:
    context = await pages.context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.goto(pages.origin + "/staff")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator("#me-name")).to_be_visible()
    return page
