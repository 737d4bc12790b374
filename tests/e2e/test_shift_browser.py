"""The adviser's shift in a real browser (issue 14): keyboard shortcuts listed on a `?`
overlay, and notifications that reveal nothing (a count in the tab's title, an optional sound,
an optional desktop notification; never any words of hers)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.e2e.browser import Pages, screenshot, start_chat
from tests.e2e.test_accessibility import problems
from tests.e2e.test_safeguarding_browser import IMMINENT, say_as_her

pytestmark = pytest.mark.e2e

# Watches what the page shows the desktop and plays, then lets the browser do it as usual.
RECORD_NOTIFICATIONS = """
window.__shown = [];
window.__tones = 0;
if (window.Notification) {
  const Real = window.Notification;
  window.Notification = class extends Real {
    constructor(title, options) {
      window.__shown.push({ title: String(title), body: String(options?.body ?? "") });
      super(title, options);
    }
  };
}
const realOscillator = AudioContext.prototype.createOscillator;
AudioContext.prototype.createOscillator = function () {
  window.__tones += 1;
  return realOscillator.call(this);
};
"""


async def console(
    pages: Pages, role: str, name: str, languages: list[str] | None = None, **options: Any
) -> Page:
    """A logged-in console in its own browser context (options: e.g. permissions)."""
    username, password = await pages.server.add_staff(role, name.lower())
    if languages:
        await pages.server.set_profile(username, languages=languages)
    context = await pages.context(viewport={"width": 1280, "height": 900}, **options)
    await context.add_init_script(RECORD_NOTIFICATIONS)
    page = await context.new_page()
    await page.goto(pages.origin + "/staff")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator("#me-name")).to_contain_text(name.title())
    return page


async def go_available(page: Page) -> None:
    await page.locator("#availability").click()
    await expect(page.locator("#availability")).to_have_attribute("aria-pressed", "true")


async def test_every_common_action_from_the_keyboard_and_the_list_of_keys(pages: Pages) -> None:
    first = await pages.visitor()
    await start_chat(first)
    adviser = await console(pages, "adviser", "Vic")
    await go_available(adviser)
    tabs = adviser.get_by_role("tab")

    # Next chat: Alt+N takes it, as "Take next chat" would.
    await adviser.locator("body").press("Alt+n")
    await expect(tabs).to_have_count(1)
    second = await pages.visitor()
    await start_chat(second)
    await expect(adviser.get_by_role("button", name="Take next chat")).to_be_enabled()
    await adviser.locator("body").press("Alt+n")
    await expect(tabs).to_have_count(2)
    await expect(tabs.nth(1)).to_have_attribute("aria-selected", "true")

    # Switch chat, from inside the reply box: the other chat, its reply box ready.
    reply = adviser.get_by_role("tabpanel").get_by_label("Your reply")
    await reply.focus()
    await reply.press("Alt+ArrowDown")
    await expect(tabs.nth(0)).to_have_attribute("aria-selected", "true")
    panel = adviser.get_by_role("tabpanel")
    reply = panel.get_by_label("Your reply")
    await expect(reply).to_be_focused()
    await reply.press("Alt+ArrowUp")
    await expect(tabs.nth(1)).to_have_attribute("aria-selected", "true")
    await adviser.get_by_role("tabpanel").get_by_label("Your reply").press("Alt+ArrowUp")
    await expect(tabs.nth(0)).to_have_attribute("aria-selected", "true")

    # Typing "?" (or any letter) in a text box is just typing.
    await reply.press_sequentially("are you safe?")
    await expect(reply).to_have_value("are you safe?")
    await expect(adviser.get_by_role("dialog")).to_have_count(0)

    # Canned reply from the chat's tab, not only the reply box.
    await tabs.nth(0).focus()
    await tabs.nth(0).press("Control+/")
    search = panel.get_by_role("combobox", name="Search canned replies")
    await expect(search).to_be_focused()
    await search.press("Escape")
    await expect(reply).to_be_focused()

    # A private note, a transfer, an escalation, ending: each while writing.
    await reply.press("Alt+p")
    await expect(panel.get_by_label("Add a private note (she never sees it)")).to_be_focused()
    await reply.focus()
    await reply.press("Alt+t")
    await expect(panel.get_by_label("Hand it to")).to_be_visible()
    await panel.get_by_role("button", name="Cancel").first.click()
    await reply.focus()
    await reply.press("Alt+s")
    await expect(adviser.locator("#escalate-dialog")).to_be_visible()
    # Shortcuts rest while a dialog is open: Alt+N here takes no chat.
    await adviser.keyboard.press("Alt+n")
    await adviser.keyboard.press("Escape")
    await expect(adviser.locator("#escalate-dialog")).to_be_hidden()
    await reply.focus()
    await reply.press("Alt+x")
    await expect(panel.get_by_role("button", name="Yes, end it")).to_be_visible()
    cancel = panel.locator(".end-no")
    await expect(cancel).to_be_focused()
    await cancel.click()
    await expect(first.locator("#chat-status")).not_to_contain_text("ended")

    # "?" outside a text box: the list, as a dialog with the focus inside; Escape closes it
    # and the focus goes back where it was.
    await tabs.nth(0).focus()
    await tabs.nth(0).press("?")
    overlay = adviser.get_by_role("dialog", name="Keyboard shortcuts")
    await expect(overlay).to_be_visible()
    await expect(overlay.get_by_role("button", name="Close")).to_be_focused()
    rows = overlay.locator("tbody tr")
    await expect(rows).to_have_count(9)
    for keys, words in [
        ("Alt+N", "Take the next chat from the queue"),
        ("Alt+↓", "Go to your next chat"),
        ("Ctrl+/", "Search canned replies"),
        ("Alt+P", "Write a private note on this chat"),
        ("Alt+T", "Transfer this chat"),
        ("Alt+S", "Escalate this chat"),
        ("Alt+X", "End this chat (asks first)"),
    ]:
        await expect(rows.filter(has_text=words)).to_contain_text(keys)
    assert await problems(adviser) == []
    await screenshot(adviser, "staff-keyboard-shortcuts")
    await adviser.keyboard.press("Escape")
    await expect(overlay).to_be_hidden()
    await expect(tabs.nth(0)).to_be_focused()
    # The header's button opens the same list, for a mouse.
    await adviser.get_by_role("button", name="Keyboard shortcuts (?)").click()
    await expect(overlay).to_be_visible()
    await overlay.get_by_role("button", name="Close").click()
    await expect(adviser.get_by_role("button", name="Keyboard shortcuts (?)")).to_be_focused()
    assert pages.page_errors == []


async def test_the_title_counts_and_notifications_never_show_her_words(pages: Pages) -> None:
    adviser = await console(pages, "adviser", "Vic", permissions=["notifications"])
    await expect(adviser).to_have_title("Willow staff")
    await go_available(adviser)

    # Off by default: a new chat counts in the title, with no sound and no notification.
    first = await pages.visitor()
    await start_chat(first)
    await expect(adviser).to_have_title("(1) Willow staff")
    assert await adviser.evaluate("window.__tones") == 0
    assert await adviser.evaluate("window.__shown") == []

    # She turns both on; the browser grants notifications (asked only now).
    await adviser.get_by_role("button", name="Notifications").click()
    settings = adviser.get_by_role("dialog", name="Notifications")
    await expect(settings).to_be_visible()
    await settings.get_by_label("Play a sound").check()
    await settings.get_by_label("Show desktop notifications").check()
    await expect(settings.get_by_role("status")).to_have_text(
        "Desktop notifications are on. They never show what she writes."
    )
    assert await problems(adviser) == []
    await screenshot(adviser, "staff-notification-settings")
    await settings.get_by_role("button", name="Close").click()
    await expect(settings).to_be_hidden()
    tones = await adviser.evaluate("window.__tones")

    await adviser.get_by_role("button", name="Take next chat").click()
    await expect(adviser.get_by_role("tab")).to_have_count(1)
    await expect(adviser).to_have_title("Willow staff")

    second = await pages.visitor()
    await start_chat(second)
    await expect(adviser).to_have_title("(1) Willow staff")
    assert await adviser.evaluate("window.__tones") > tones
    await adviser.get_by_role("button", name="Take next chat").click()
    await expect(adviser.get_by_role("tab")).to_have_count(2)
    await expect(adviser).to_have_title("Willow staff")

    # The first chat is in the background now; what she writes there counts, unread.
    secret = "He took my phone at nine"
    await say_as_her(first, secret)
    await say_as_her(first, "I am at my sister's flat")
    await expect(adviser).to_have_title("(2) Willow staff")
    first_tab = adviser.get_by_role("tab").nth(0)
    first_id = (await first_tab.get_attribute("id") or "").removeprefix("tab-")
    shown = await adviser.evaluate("window.__shown")
    bodies = [n["body"] for n in shown]
    assert bodies.count("A new chat is waiting in the queue.") == 1
    assert bodies.count(f"New message in chat {first_id}.") == 2
    assert {n["title"] for n in shown} == {"Willow staff"}
    for words in ("phone", "nine", "sister", "flat"):
        assert all(words not in n["title"] + n["body"] for n in shown)
        assert words not in await adviser.title()
    # What the browser keeps for her is only the two choices.
    assert await adviser.evaluate("JSON.stringify(localStorage)") == (
        '{"willow.staff.notifications":"{\\"sound\\":true,\\"desktop\\":true}"}'
    )

    # Looking at the chat reads it.
    await first_tab.click()
    await expect(adviser).to_have_title("Willow staff")
    # A message in the chat on screen is not news.
    await say_as_her(first, "Still here")
    await expect(adviser.get_by_role("tabpanel").locator(".log")).to_contain_text("Still here")
    await expect(adviser).to_have_title("Willow staff")

    # The choices stay in this browser: after a reload both are still on, and old messages
    # replayed into the console are not news.
    await adviser.reload()
    await expect(adviser.get_by_role("tab")).to_have_count(2)
    await adviser.get_by_role("button", name="Notifications").click()
    await expect(settings.get_by_label("Play a sound")).to_be_checked()
    await expect(settings.get_by_label("Show desktop notifications")).to_be_checked()
    await settings.get_by_role("button", name="Close").click()
    await expect(adviser).to_have_title("Willow staff")
    # Logged out, nothing counted stays in the title.
    await adviser.get_by_role("tab", name=re.compile(f"Chat {first_id}")).click()
    await say_as_her(second, "one more")
    await expect(adviser).to_have_title(re.compile(r"^\(\d\) Willow staff$"))
    await adviser.get_by_role("button", name="Log out").click()
    await expect(adviser.get_by_label("Username")).to_be_visible()
    await expect(adviser).to_have_title("Willow staff")
    assert pages.page_errors == []


async def test_an_open_alert_counts_for_the_supervisor_without_her_words(pages: Pages) -> None:
    supervisor = await console(pages, "supervisor", "Sol", permissions=["notifications"])
    await supervisor.get_by_role("button", name="Notifications").click()
    settings = supervisor.get_by_role("dialog", name="Notifications")
    await settings.get_by_label("Show desktop notifications").check()
    await expect(settings.get_by_label("Show desktop notifications")).to_be_checked()
    await settings.get_by_role("button", name="Close").click()

    her = await pages.visitor()
    await start_chat(her)
    adviser = await console(pages, "adviser", "Asha")
    await go_available(adviser)
    await adviser.get_by_role("button", name="Take next chat").click()
    await say_as_her(her, IMMINENT)

    await expect(supervisor.locator("#alerts-list .alert-item")).to_have_count(1)
    await expect(supervisor).to_have_title("(1) Willow staff")
    shown = await supervisor.evaluate("window.__shown")
    assert {"title": "Willow staff", "body": "New alert for supervisors."} in shown
    for word in IMMINENT.split():
        if len(word) > 3:
            assert all(word not in n["body"] for n in shown)

    await supervisor.locator("#alerts-list").get_by_role("button", name="Acknowledge").click()
    await expect(supervisor.locator("#alerts-list .alert-item")).to_have_count(0)
    await expect(supervisor).to_have_title("Willow staff")


async def test_a_supervisor_joins_visibly_and_writes_beside_the_adviser(pages: Pages) -> None:
    supervisor = await console(pages, "supervisor", "Wyn")
    her = await pages.visitor(locale="pl-PL")
    await her.locator("#language").select_option("pl")
    await her.locator("#start").click()
    await expect(her.locator("#chat-status")).to_be_visible()
    adviser = await console(pages, "adviser", "Tess", languages=["en", "pl"])
    await go_available(adviser)
    await adviser.get_by_role("button", name="Take next chat").click()
    await expect(adviser.get_by_role("tab")).to_have_count(1)
    panel = adviser.get_by_role("tabpanel")
    await say_as_her(her, "Boję się wracać do domu", "pl")
    await expect(panel.locator(".log")).to_contain_text("Boję się")
    chat = int((await panel.get_attribute("id") or "chat-0").split("-")[1])

    # The adviser asks for a supervisor; the supervisor opens the chat from the alert.
    await panel.get_by_role("button", name="Escalate…").click()
    dialog = adviser.get_by_role("dialog")
    await dialog.get_by_role("radio", name=re.compile("^Supervisor")).check()
    await dialog.get_by_label("Reason (required)").fill("She is scared to go home")
    await dialog.get_by_label("Given").check()
    await dialog.get_by_role("button", name="Send escalation").click()
    await expect(dialog).to_be_hidden()
    alert = supervisor.locator("#alerts-list .alert-item", has_text="Escalation in chat")
    await alert.get_by_role("button", name=f"Open chat {chat}").click()
    reading = supervisor.get_by_role("tabpanel")
    await expect(reading.locator(".log")).to_contain_text("Boję się")
    await expect(reading.locator(".composer")).to_be_hidden()

    # She joins: everyone sees it, she in Polish; then the supervisor writes.
    await reading.get_by_role("button", name="Join this chat").click()
    await expect(reading.locator(".composer")).to_be_visible()
    await expect(reading.locator(".log")).to_contain_text(
        "Supervisor Wyn joined the chat. She was told a supervisor joined."
    )
    await expect(panel.locator(".log")).to_contain_text("Supervisor Wyn joined the chat.")
    await expect(her.locator("#log")).to_contain_text("Do czatu dołączyła także osoba nadzorująca.")
    reply = reading.get_by_label("Your reply")
    await reply.fill("Jestem tu z Tess. I'm the supervisor.")
    await reply.press("Enter")
    await expect(her.locator("#log .msg-other .msg-body").last).to_have_text(
        "Jestem tu z Tess. I'm the supervisor."
    )
    # Each console shows the other's messages as someone else's, with their name.
    theirs = panel.locator(".log .msg-other", has_text="I'm the supervisor.")
    await expect(theirs).to_contain_text("Wyn")
    await panel.get_by_label("Your reply").fill("Thank you, Wyn")
    await panel.get_by_label("Your reply").press("Enter")
    await expect(reading.locator(".log .msg-other", has_text="Thank you, Wyn")).to_contain_text(
        "Tess"
    )
    assert await problems(supervisor) == []
    assert await problems(her) == []
    await screenshot(supervisor, "staff-supervisor-joined")
    await screenshot(her, "visitor-supervisor-joined")

    # After a reload the supervisor can still write in it; the join shows once.
    await supervisor.reload()
    reading = supervisor.get_by_role("tabpanel")
    await expect(reading.locator(".composer")).to_be_visible()
    await expect(reading.locator(".log")).to_contain_text("Supervisor Wyn joined the chat.")
    await expect(her.locator("#log").get_by_text("osoba nadzorująca")).to_have_count(1)
    assert pages.page_errors == []
