"""Safeguarding in real browsers: danger reaches a supervisor within a second, the adviser sees
why and what to do, she sees helplines (and nothing meant for staff), refusals lose nothing,
escalations reach supervisors and are closed with an outcome."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.e2e.browser import (
    PHONE,
    Pages,
    adviser_client,
    say,
    screenshot,
    start_chat,
    take_chat,
)
from tests.e2e.test_accessibility import problems
from tests.e2e.test_catalogues import CATALOGUES
from tests.e2e.test_reconnect import Link, connected

pytestmark = pytest.mark.e2e

IMMINENT = "I've taken all my pills and I want to die tonight"
IMMINENT_AR = "أريد أن أموت الليلة، تناولت كل الحبوب"
GUIDANCE_TITLES = ("Suicidal thoughts or self-harm", "Overdose or medical emergency")

# Marks the moment the first alert is drawn on the supervisor's page, by the page's clock.
WATCH_ALERTS = """() => {
  window.firstAlertAt = 0;
  new MutationObserver(() => {
    if (!window.firstAlertAt && document.querySelector('#alerts-list .alert-item')) {
      window.firstAlertAt = Date.now();
    }
  }).observe(document.getElementById('alerts-list'), { childList: true });
}"""
# Marks the moment she presses Enter to send, by her page's clock (same machine, same clock).
WATCH_SEND = """() => {
  window.sentAt = 0;
  document.getElementById('message').addEventListener('keydown', (event) => {
    if (event.key === 'Enter') window.sentAt = Date.now();
  }, { capture: true });
}"""


def text(lang: str, key: str) -> str:
    value: str = json.loads((CATALOGUES / f"{lang}.json").read_text(encoding="utf-8"))[key]
    return value


async def staff_page(pages: Pages, role: str, name: str) -> Page:
    """A logged-in console for any role, via the login form, in its own browser context."""
    username, password = await pages.server.add_staff(role, name.lower())
    context = await pages.context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.goto(pages.origin + "/staff")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator("#me-name")).to_contain_text(name.title())
    return page


def frames_received(page: Page) -> list[str]:
    """Every WebSocket frame the page receives from now on."""
    frames: list[str] = []

    def watch(ws: Any) -> None:
        ws.on("framereceived", lambda payload: frames.append(str(payload)))

    page.on("websocket", watch)
    return frames


async def say_as_her(page: Page, body: str, lang: str = "en") -> None:
    box = page.get_by_label(text(lang, "chat.message"))
    await box.fill(body)
    await box.press("Enter")


async def test_danger_reaches_the_supervisor_within_a_second_and_only_staff_see_why(
    pages: Pages,
) -> None:
    supervisor = await staff_page(pages, "supervisor", "Sol")
    her = await pages.visitor()
    frames = frames_received(her)
    await start_chat(her)
    adviser = await pages.adviser("Asha")
    await take_chat(adviser)
    await expect(her.locator("#chat-status")).to_have_text("You are talking with Asha")

    await supervisor.evaluate(WATCH_ALERTS)
    await her.evaluate(WATCH_SEND)
    await say_as_her(her, IMMINENT)
    # `.last`: the oldest alert is the one drawn first (newest are listed first).
    alert = supervisor.locator("#alerts-list .alert-item").last
    await expect(alert).to_be_visible()
    sent_at = await her.evaluate("window.sentAt")
    shown_at = await supervisor.evaluate("window.firstAlertAt")
    assert sent_at > 0 and shown_at > 0
    assert shown_at - sent_at < 1000, f"the alert took {shown_at - sent_at} ms"
    await expect(alert).to_contain_text("Danger in chat")
    await expect(alert.locator(".level-badge")).to_have_text("Immediate danger")
    await expect(alert).to_contain_text("taken all my pills")
    await expect(supervisor.locator("#alerts-panel")).to_have_class("alerts-panel has-new")
    await expect(supervisor.locator("#alerts-count")).to_have_text(re.compile(r"^\d+ new$"))
    await screenshot(supervisor, "staff-supervisor-alerts")

    # The adviser: a worded badge on the message, the words, the guidance, the level on the tab.
    panel = adviser.get_by_role("tabpanel")
    flagged = panel.locator(".log .msg.is-flagged")
    await expect(flagged).to_have_count(1)
    await expect(flagged).to_contain_text(IMMINENT)
    await expect(flagged.locator(".level-badge")).to_have_text("Flag: Immediate danger")
    safety = panel.locator(".safety")
    await expect(safety.locator(".flag-phrase")).to_have_text(["taken all my pills", "want to die"])
    await expect(safety.locator(".guidance-title")).to_have_text(list(GUIDANCE_TITLES))
    await expect(safety.locator(".guidance-steps li").first).to_contain_text("Thank her")
    await expect(adviser.get_by_role("tab")).to_contain_text("Immediate danger")
    await expect(panel.locator(".chat-risk")).to_have_text("Highest risk: Immediate danger")
    await expect(panel.locator(".log")).to_contain_text("She was shown helplines: Emergency")
    await screenshot(adviser, "staff-console-flag-and-guidance")

    # Her page: the card beside the chat, emergency routes first; her focus stays put.
    card = her.locator("#helplines")
    await expect(card).to_be_visible()
    await expect(card.locator("h2")).to_have_text(text("en", "helplines.title"))
    entries = card.locator("#helplines-list > li")
    await expect(entries.nth(0).locator("h3")).to_have_text("Emergency Emergency services")
    await expect(entries.nth(1).locator("h3")).to_contain_text("Silent Solution")
    await expect(entries.nth(0)).to_have_class("helpline is-emergency")
    await expect(entries.nth(1)).to_contain_text(text("en", "helplines.silent_solution"))
    await expect(entries.nth(0).get_by_role("link", name="Call 999")).to_have_attribute(
        "href", "tel:999"
    )
    await expect(card).to_contain_text("Samaritans")
    await expect(card.locator('a[href="tel:116123"]')).to_contain_text("Call")
    await expect(card.get_by_role("link", name="Text")).to_have_attribute(
        "href", "sms:85258?body=SHOUT"
    )
    await expect(her.locator("#message")).to_be_focused()
    await expect(her.locator("#log .helplines-notice")).to_contain_text(
        text("en", "helplines.notice")
    )

    # Nothing meant for staff reaches her: not in her page, not on her socket.
    content = await her.content()
    for staff_only in (*GUIDANCE_TITLES, "Flag:", "Highest risk", "Thank her for telling you"):
        assert staff_only not in content
    assert await her.locator(".flag-phrase, .level-badge, .safety").count() == 0
    assert frames, "her socket was watched"
    kinds = {json.loads(frame).get("type") for frame in frames}
    assert "helplines" in kinds and "flag" not in kinds and "alert" not in kinds
    assert not any('"guidance"' in frame or '"phrases"' in frame for frame in frames)
    await screenshot(her, "visitor-helplines-card")


async def test_a_mention_is_a_note_for_the_adviser_and_alerts_no_one(pages: Pages) -> None:
    supervisor = await staff_page(pages, "supervisor", "Sol")
    her = await pages.visitor()
    frames = frames_received(her)
    await start_chat(her)
    adviser = await pages.adviser("Asha")
    await take_chat(adviser)
    await expect(her.locator("#chat-status")).to_have_text("You are talking with Asha")

    mention = "years ago i tried to kill myself but im in a much better place now"
    await say_as_her(her, mention)
    panel = adviser.get_by_role("tabpanel")
    noted = panel.locator(".log .msg.is-flagged")
    await expect(noted).to_have_count(1)
    await expect(noted).to_contain_text(mention)
    await expect(noted.locator(".level-badge")).to_contain_text("Flag:")
    await expect(panel.locator(".safety .flag-stance")).to_have_text(
        "Read as a mention: in the past and over. No alert was raised."
    )
    # Then something ordinary, so everything the mention caused has had time to arrive.
    await say_as_her(her, "thank you for listening")
    await expect(panel.locator(".log")).to_contain_text("thank you for listening")
    assert await supervisor.locator("#alerts-list .alert-item").count() == 0
    await expect(her.locator("#helplines")).to_be_hidden()
    kinds = {json.loads(frame).get("type") for frame in frames}
    assert "helplines" not in kinds
    await screenshot(adviser, "staff-console-mention-note")

    # Current danger in the same chat still alerts at once.
    await say_as_her(her, IMMINENT)
    await expect(supervisor.locator("#alerts-list .alert-item")).to_have_count(1)
    await expect(her.locator("#helplines")).to_be_visible()


async def test_the_card_survives_a_reconnect_and_a_reload_and_goes_with_the_quick_exit(
    pages: Pages,
) -> None:
    link = Link()
    her, adviser, conversation = await connected(pages, link)
    await say_as_her(her, IMMINENT)
    card = her.locator("#helplines")
    entries = card.locator("#helplines-list > li")
    await expect(card).to_be_visible()
    count = await entries.count()
    assert count >= 3

    await link.cut()
    await expect(her.locator("#connection")).to_have_text("Connection lost. Trying to reconnect…")
    await expect(card).to_be_visible()
    await say(adviser, conversation, "b1", "I'm still here with you.")
    link.up = True
    await expect(her.locator("#connection")).to_have_text("")
    await expect(her.locator("#log .msg-other .msg-body")).to_have_text(
        ["I'm still here with you."]
    )
    await expect(entries).to_have_count(count)
    await expect(her.locator("#log .helplines-notice")).to_have_count(1)

    # A reload replays the stored card.
    await her.reload()
    await expect(her.locator("#chat-status")).to_have_text("You are talking with Dana")
    await expect(card).to_be_visible()
    await expect(entries).to_have_count(count)
    await expect(entries.first).to_contain_text("Emergency services")

    await her.get_by_role("link", name="Leave this page", exact=True).click()
    await her.wait_for_url("https://www.bbc.co.uk/**")
    await her.goto(pages.origin + "/")
    await expect(her.locator("#start")).to_be_enabled()
    await expect(card).to_be_hidden()
    await expect(entries).to_have_count(0)
    await adviser.close()


@pytest.mark.parametrize("lang", ["en", "ar"])
async def test_a_refused_message_stays_in_her_box_with_the_reason_in_her_language(
    pages: Pages, lang: str
) -> None:
    her = await pages.visitor(locale=lang)
    await expect(her.locator("html")).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")
    # Her language is chosen from the browser's once the page has loaded it.
    await expect(her.locator("#language")).to_have_value(lang)
    await her.locator("#start").click()
    adviser, conversation = await adviser_client(pages.server, "nour")
    await expect(her.locator("#composer")).to_be_visible()

    draft = ("This is everything that happened. " * 200)[:4999] + "x"
    assert len(draft) == 5000
    await say_as_her(her, draft, lang)
    failed = her.locator("#log .msg-own.is-failed")
    await expect(failed).to_have_count(1)
    await expect(failed.locator(".msg-state")).to_have_text(text(lang, "chat.failed"))
    await expect(failed.locator(".msg-reason")).to_have_text(text(lang, "refused.too_long"))
    await expect(her.locator("#message")).to_have_value(draft)
    await expect(her.locator("#composer-note")).to_contain_text(text(lang, "refused.kept"))
    await screenshot(her, f"visitor-refused-{lang}")

    # Shorter parts go through, and the note clears.
    part = draft[:999] + "."
    await say_as_her(her, part, lang)
    await expect(her.locator("#log .msg-own:not(.is-failed)")).to_have_count(1)
    await expect(her.locator("#composer-note")).to_have_text("")
    got = await adviser.receive("message", conversation_id=conversation)
    assert got["body"] == part
    await adviser.drain(0.3)
    assert [m["body"] for m in adviser.of_type("message")] == [part]
    await adviser.close()


async def test_danger_in_a_refused_message_still_reaches_the_adviser_and_her_card(
    pages: Pages,
) -> None:
    her = await pages.visitor()
    await start_chat(her)
    adviser = await pages.adviser("Lin")
    await take_chat(adviser)
    too_long = (IMMINENT + ". ") + "I can't keep going like this. " * 170
    await say_as_her(her, too_long.strip())
    await expect(her.locator("#log .msg-own.is-failed")).to_have_count(1)
    await expect(her.locator("#helplines")).to_contain_text("Emergency services")

    panel = adviser.get_by_role("tabpanel")
    await expect(panel.locator(".log .msg-notice-alert").first).to_have_text(
        "She tried to send a message that was not delivered. It was flagged: Immediate danger."
        " See the safety panel."
    )
    await expect(panel.locator(".safety .flag").first).to_contain_text("Message not sent")
    await expect(panel.locator(".safety .flag-phrases").first).to_contain_text("want to die")
    await expect(panel.locator(".log .msg")).to_have_count(0)


async def test_escalation_reaches_supervisors_is_closed_and_a_signpost_shows_her_the_service(
    pages: Pages,
) -> None:
    supervisor = await staff_page(pages, "supervisor", "Rhea")
    her = await pages.visitor()
    await start_chat(her)
    adviser = await pages.adviser("Tess")
    await take_chat(adviser)
    await say_as_her(her, "can we talk about what my family are planning")
    panel = adviser.get_by_role("tabpanel")
    await expect(panel.locator(".log")).to_contain_text("what my family are planning")
    conversation = int((await panel.get_attribute("id") or "chat-0").split("-")[1])

    await panel.get_by_role("button", name="Escalate…").click()
    dialog = adviser.get_by_role("dialog")
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_role("heading")).to_have_text(f"Escalate chat {conversation}")
    # Nothing is sent without a reason.
    await dialog.get_by_role("radio", name=re.compile("^Supervisor")).check()
    await dialog.get_by_role("button", name="Send escalation").click()
    await expect(dialog.get_by_role("alert")).to_have_text("Write the reason for escalating.")
    await dialog.get_by_label("Reason (required)").fill("Risk of being taken abroad")
    await dialog.get_by_label("Given").check()
    await dialog.get_by_label("Hand-off note (optional)").fill("She can talk after 2pm.")
    await screenshot(adviser, "staff-escalate-dialog")
    await dialog.get_by_role("button", name="Send escalation").click()
    await expect(dialog).to_be_hidden()
    await expect(panel.get_by_role("button", name="Escalate…")).to_be_focused()

    escalation = panel.locator(".escalation")
    await expect(escalation).to_contain_text("Supervisor · Open")
    await expect(escalation).to_contain_text("Her consent: Given")
    await expect(escalation).to_contain_text("Hand-off note: She can talk after 2pm.")
    alert = supervisor.locator("#alerts-list .alert-item", has_text="Escalation in chat")
    await expect(alert).to_contain_text("Reason: Risk of being taken abroad")
    await expect(alert.locator(".level-badge")).to_have_text("Supervisor")

    # The supervisor opens the chat from the alert: she reads it, she cannot write in it.
    await alert.get_by_role("button", name=f"Open chat {conversation}").click()
    reading = supervisor.get_by_role("tabpanel")
    await expect(supervisor.get_by_role("tab")).to_contain_text(f"Chat {conversation} (reading)")
    await expect(reading.locator(".log")).to_contain_text("what my family are planning")
    await expect(reading.locator(".composer")).to_be_hidden()
    await expect(reading.locator(".escalation")).to_contain_text("Supervisor · Open")

    await escalation.get_by_role("button", name="Record outcome").click()
    how = escalation.get_by_label("How it ended")
    await expect(how.locator("option")).to_have_text(
        [
            "Choose an outcome",
            "Emergency services called",
            "Referred to a specialist service",
            "Safety plan agreed",
            "She declined help",
            "Contact lost",
            "Other",
        ]
    )
    await escalation.get_by_label("What happened").fill("Supervisor called Karma Nirvana with her")
    # Without a code nothing is sent and the form says what is missing.
    await escalation.get_by_role("button", name="Save outcome").click()
    await expect(escalation).to_contain_text("Choose how it ended first.")
    await expect(escalation).to_contain_text("Supervisor · Open")
    await how.select_option(label="Referred to a specialist service")
    await screenshot(adviser, "staff-escalation-outcome-form")
    await escalation.get_by_role("button", name="Save outcome").click()
    await expect(escalation).to_contain_text("Supervisor · Closed")
    await expect(escalation).to_contain_text("Outcome: Referred to a specialist service")
    await expect(escalation).to_contain_text("Note: Supervisor called Karma Nirvana with her")
    await expect(reading.locator(".escalation")).to_contain_text("Supervisor · Closed")

    # A signpost for forced marriage shows her that service's card.
    await panel.get_by_role("button", name="Escalate…").click()
    await dialog.get_by_role("radio", name=re.compile("^Signpost")).check()
    await dialog.get_by_label("Forced marriage or honour-based abuse").check()
    await dialog.get_by_label("Reason (required)").fill("She asked who else can help")
    await dialog.get_by_label("Not asked").check()
    await dialog.get_by_role("button", name="Send escalation").click()
    await expect(dialog).to_be_hidden()
    card = her.locator("#helplines")
    await expect(card).to_contain_text("Karma Nirvana")
    await expect(card.locator('a[href="tel:08005999247"]')).to_contain_text("0800 5999 247")
    await expect(card).not_to_contain_text("Risk of being taken abroad")
    assert "Supervisor called" not in await her.content()

    # The audit log shows who escalated, and the outcome.
    await supervisor.get_by_text("Audit log", exact=True).click()
    await supervisor.get_by_label("Action starts with").fill("escalation.")
    await supervisor.get_by_role("button", name="Show entries").click()
    actions = supervisor.locator("#audit-rows tr td:nth-child(3)")
    await expect(actions).to_have_text(
        ["escalation.signpost", "escalation.outcome", "escalation.supervisor"]
    )
    await expect(supervisor.locator("#audit-rows")).to_contain_text(f"conversation:{conversation}")
    await screenshot(supervisor, "staff-audit-log")


async def test_the_card_on_a_phone_and_in_arabic(pages: Pages) -> None:
    phone = await pages.visitor(viewport=PHONE, is_mobile=True, has_touch=True)
    await start_chat(phone, nation="england")
    adviser, _ = await adviser_client(pages.server, "ola")
    await say_as_her(phone, IMMINENT)
    card = phone.locator("#helplines")
    await expect(card).to_be_visible()
    # On a phone the card is a panel just above the message box; the line in the chat brings
    # it into view, its heading below the Leave button, never under it.
    card_box = await card.bounding_box()
    box = await phone.locator("#message").bounding_box()
    assert card_box is not None and box is not None
    assert card_box["y"] + card_box["height"] <= box["y"], "the card sits above the box"
    await phone.get_by_role("button", name=text("en", "helplines.show")).click()
    await expect(card.locator("h2")).to_be_in_viewport()
    await expect(card.locator("h2")).to_be_focused()
    exit_button = await phone.get_by_role("link", name="Leave this page", exact=True).bounding_box()
    heading = await card.locator("h2").bounding_box()
    assert exit_button is not None and 0 <= exit_button["y"] < 40
    assert heading is not None and heading["y"] >= exit_button["y"] + exit_button["height"]
    # Leaving works from the card too.
    assert await problems(phone) == [], "phone with the helplines panel"
    await screenshot(phone, "visitor-helplines-card-phone")
    await phone.get_by_role("link", name="Leave this page", exact=True).click()
    await phone.wait_for_url("https://www.bbc.co.uk/**")
    await adviser.close()

    arabic = await pages.visitor(locale="ar")
    await expect(arabic.locator("#language")).to_have_value("ar")
    await arabic.locator("#start").click()
    adviser, _ = await adviser_client(pages.server, "huda")
    await say_as_her(arabic, IMMINENT_AR, "ar")
    card = arabic.locator("#helplines")
    await expect(card.locator("h2")).to_have_text(text("ar", "helplines.title"))
    await expect(card).to_contain_text(text("ar", "helplines.silent_solution"))
    # She gave no nation: the card lists UK-wide services and asks where she lives.
    await expect(card.locator("#helplines-intro")).to_have_text(
        text("ar", "helplines.intro_danger") + " " + text("ar", "helplines.ask_nation")
    )
    await expect(card.locator(".helpline-badge").first).to_have_text(
        text("ar", "helplines.emergency")
    )
    # Service names in her language, marked as such for a screen reader.
    first_name = card.locator(".helpline-name bdi").first
    await expect(first_name).to_have_text("خدمات الطوارئ")
    await expect(card).not_to_contain_text("Scotland")
    await screenshot(arabic, "visitor-helplines-card-arabic")
    await adviser.close()


async def test_accessibility_with_the_card_the_flag_panel_and_the_escalate_dialog(
    pages: Pages,
) -> None:
    supervisor = await staff_page(pages, "supervisor", "Ivy")
    her = await pages.visitor()
    await start_chat(her)
    adviser = await pages.adviser("Uma")
    await take_chat(adviser)
    await say_as_her(her, IMMINENT)
    await expect(her.locator("#helplines")).to_be_visible()
    assert await problems(her) == [], "visitor page with the helplines card"

    panel = adviser.get_by_role("tabpanel")
    await expect(panel.locator(".guidance-title").first).to_be_visible()
    assert await problems(adviser) == [], "console with the flag panel"
    await expect(supervisor.locator("#alerts-list .alert-item").first).to_be_visible()
    assert await problems(supervisor) == [], "supervisor's console with an alert"
    await panel.get_by_role("button", name="Escalate…").click()
    await adviser.get_by_role("dialog").get_by_role("radio", name=re.compile("^Signpost")).check()
    await expect(adviser.get_by_role("dialog").get_by_label("Sexual violence")).to_be_visible()
    assert await problems(adviser) == [], "console with the escalate dialog open"
