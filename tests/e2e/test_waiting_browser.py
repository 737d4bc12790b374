"""While she waits and when she comes back, in a real browser: writing while waiting, "I am in
danger now", a return code, and an adviser seeing a mentor's note."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from chat.core.settings import Settings
from tests.conftest import running_server
from tests.e2e.browser import Pages, screenshot, start_chat, take_chat
from tests.peers.roomkit import mentor_in, said, woman_in
from tests.wsclient import Client, staff, visitor

pytestmark = pytest.mark.e2e


async def _adviser_online(pages: Pages) -> Client:
    """An adviser who is online and available, so the queue is a real one with numbers (with
    nobody online the page says no one can answer right now instead)."""
    online = await staff(pages.server, await pages.server.staff_session("adviser", "Bea"))
    await online.send({"type": "set_available", "available": True})
    await online.receive("status")
    return online


async def test_she_writes_while_waiting_and_the_adviser_reads_it_before_and_after_taking(
    pages: Pages,
) -> None:
    her = await pages.visitor()
    await start_chat(her, topic="abuse", nation="wales")
    box = her.get_by_label("Your message")
    await expect(box).to_be_visible()
    await expect(her.locator("#waiting-panel")).to_contain_text(
        "You can write to us while you wait"
    )
    await box.fill("He took my phone last night. I am using a friend's.")
    await her.keyboard.press("Enter")
    await expect(her.locator("#log")).to_contain_text("He took my phone last night.")
    await expect(her.locator(".msg-state").last).to_have_text("Sent")
    # Helplines for her topic while she waits, in a list she can call from.
    await expect(her.locator("#wait-helplines")).to_be_visible()
    await expect(her.locator("#wait-helplines-list a[href^='tel:']").first).to_be_visible()
    await screenshot(her, "visitor-writing-while-waiting")

    adviser = await pages.adviser("Asha")
    row = adviser.locator("#queue-rows tr").first
    await row.get_by_role("button", name="Read what she wrote").click()
    await expect(adviser.locator("#waiting-read")).to_contain_text("He took my phone last night.")
    await screenshot(adviser, "staff-read-while-waiting")
    await take_chat(adviser)
    panel = adviser.get_by_role("tabpanel")
    await expect(panel.locator(".log")).to_contain_text("He took my phone last night.")
    await expect(her.locator("#chat-status")).to_contain_text("You are talking with")
    await expect(her.locator("#waiting-panel")).to_be_hidden()


async def test_i_am_in_danger_now_from_the_first_screen_puts_her_first_with_the_routes(
    pages: Pages,
) -> None:
    assert pages.server.services is not None
    supervisor = await staff(pages.server, await pages.server.staff_session("supervisor"))
    online = await _adviser_online(pages)
    earlier = await pages.visitor()
    await start_chat(earlier)

    her = await pages.visitor()
    # On the first screen the words alarm no onlooker; once waiting, they say it plainly.
    await her.get_by_role("button", name="I need help right now").click()
    notice = her.locator("#danger-noted")
    await expect(notice).to_contain_text("you are next in line")
    await expect(her.locator("#chat-status")).to_have_text("You are number 1 in the queue")
    card = her.locator("#helplines")
    await expect(card).to_be_visible()
    await expect(card).to_contain_text("999")
    await expect(card).to_contain_text("112")
    await expect(card).to_contain_text("55")
    await expect(her.locator("#helplines-title")).to_be_focused()
    # Already said: the button is gone, the message box stays.
    await expect(her.locator("#danger")).to_be_hidden()
    await expect(her.get_by_label("Your message")).to_be_visible()
    await expect(earlier.locator("#chat-status")).to_have_text("You are number 2 in the queue")
    alert = await supervisor.receive("alert", kind="danger_now")
    assert alert["level"] == "imminent"
    await screenshot(her, "visitor-danger-now")
    await supervisor.close()
    await online.close()


async def test_i_am_in_danger_now_while_waiting_in_her_language(pages: Pages) -> None:
    her = await pages.visitor(locale="pl-PL")
    await expect(her.locator("#start")).to_have_text("Rozpocznij czat")
    await her.locator("#start").click()
    # No adviser who reads Polish is online: her page says so, and the button is there.
    await expect(her.locator("#chat-status")).to_contain_text("Żadna doradczyni")
    await her.locator("#danger").click()
    await expect(her.locator("#danger-noted")).to_contain_text("Nasz zespół już wie")
    await expect(her.locator("#helplines")).to_contain_text("Służby ratunkowe")
    await screenshot(her, "visitor-danger-now-pl")


async def test_a_return_code_at_the_end_brings_her_back_to_her_adviser(pages: Pages) -> None:
    her = await pages.visitor()
    await start_chat(her)
    adviser = await pages.adviser("Asha")
    await take_chat(adviser)
    panel = adviser.get_by_role("tabpanel")
    await panel.locator(".handover-form summary").click()
    await panel.get_by_label("Summary", exact=True).fill(
        "Worried about the weekend; we made a plan to stay safe."
    )
    await panel.get_by_role("button", name="Save summary").click()
    await expect(panel.locator(".handover-status")).to_contain_text("Saved")
    await her.get_by_role("button", name="End chat").click()
    await her.get_by_role("button", name="Yes, end the chat").click()

    area = her.locator("#return-area")
    await expect(area).to_be_visible()
    await expect(her.locator("#return-summary")).to_have_text(
        "Worried about the weekend; we made a plan to stay safe."
    )
    await her.get_by_label("Keep this summary for the adviser I talk to next time").check()
    await her.get_by_role("button", name="Get a return code").click()
    words = her.locator("#return-words")
    await expect(words).to_be_visible()
    code = (await words.text_content() or "").strip()
    assert len(code.split()) == 4
    await screenshot(her, "visitor-return-code")

    again = await pages.visitor()
    await again.locator("#come-back summary").click()
    await again.get_by_role("textbox", name="The words you were given").fill(code)
    await again.get_by_role("button", name="Continue with my adviser").click()
    offer = again.locator("#returning")
    await expect(offer).to_contain_text("You talked with Asha before")
    await screenshot(again, "visitor-coming-back")
    await again.get_by_role("button", name="Wait for Asha").click()
    await expect(offer).to_contain_text("You are waiting for Asha")

    await adviser.get_by_role("button", name="Take next chat").click()
    await expect(adviser.get_by_role("tab")).to_have_count(2)
    await adviser.get_by_role("tab").nth(1).click()
    newest = adviser.get_by_role("tabpanel")
    await expect(newest.locator(".log")).to_contain_text(
        "The summary she kept: Worried about the weekend"
    )
    await screenshot(adviser, "staff-handover")


async def test_a_wrong_return_code_is_said_plainly_and_she_can_try_again(pages: Pages) -> None:
    online = await _adviser_online(pages)
    her = await pages.visitor()
    await her.locator("#come-back summary").click()
    await her.get_by_role("textbox", name="The words you were given").fill(
        "apple river ocean table"
    )
    await her.get_by_role("button", name="Continue with my adviser").click()
    await expect(her.locator("#return-unknown")).to_be_visible()
    await her.get_by_role("button", name="Start a new chat").click()
    await expect(her.locator("#chat-status")).to_have_text("You are number 1 in the queue")
    await online.close()


async def test_an_adviser_sees_the_mentors_note_after_a_move_from_a_room(pages: Pages) -> None:
    server = pages.server
    mentor, _ = await mentor_in(server)
    woman = await woman_in(server)
    await said(woman.client, "r", "I am scared he will hurt me tonight")
    await mentor.receive("room_alert")
    note = "Scared about tonight; please talk with her first."
    await mentor.send(
        {"type": "room_invite_adviser", "participant": woman.participant, "note": note}
    )
    await woman.client.receive("room_exit")

    adviser = await pages.adviser("Asha")
    row = adviser.locator("#queue-rows tr").first
    await expect(row).to_contain_text(f"Mentor's note: {note}")
    await take_chat(adviser)
    panel = adviser.get_by_role("tabpanel")
    await expect(panel.locator(".log")).to_contain_text(
        f"Note from the peer mentor who moved her here: {note}"
    )
    await expect(panel.locator(".log")).to_contain_text("A peer mentor moved her here")
    await screenshot(adviser, "staff-mentor-note")
    for client in (woman.client, mentor):
        await client.close()


async def test_moved_from_a_room_she_is_told_why_and_keeps_her_helplines_card(
    pages: Pages,
) -> None:
    from tests.e2e.test_rooms_browser import join_room, open_rooms

    mentor, _ = await mentor_in(pages.server)
    her = await open_rooms(pages)
    await join_room(her, "First time here")
    await her.get_by_label("Your message").fill("I am scared he will hurt me tonight")
    await her.get_by_label("Your message").press("Enter")
    await expect(her.locator("#helplines, .helplines").first).to_be_visible()
    flagged = await mentor.receive("room_alert")
    move = {
        "type": "room_invite_adviser",
        "participant": flagged["participant"],
        "note": "Scared about tonight.",
    }
    await mentor.send(move)
    await expect(her).to_have_url(pages.origin + "/")
    await expect(her.locator("#moved-note")).to_contain_text("Your group's mentor has asked")
    card = her.locator("#helplines")
    await expect(card).to_be_visible()
    await expect(card).to_contain_text("999")
    await screenshot(her, "visitor-moved-from-room")
    await mentor.close()


async def test_her_adviser_not_available_she_is_told_at_once_and_asked_again(
    browser: Browser, settings: Settings
) -> None:
    # Routing gives chats by itself (the default outside tests).
    auto = Settings(**{**settings.model_dump(), "assignment": "auto"})
    async with running_server(auto) as server:
        pages = Pages(browser, server)
        try:
            await _told_and_asked_again(pages)
        finally:
            await pages.close()
        assert pages.foreign_requests() == [] and pages.page_errors == []


async def _told_and_asked_again(pages: Pages) -> None:
    server = pages.server
    login = await server.staff_session("adviser", "asha")
    await server.set_profile(login.username, capacity=1)
    asha = await staff(server, login)
    # An earlier chat with Asha, ended with a return code.
    first, _ = await visitor(server)
    await first.send({"type": "request_chat"})
    earlier = (await first.receive("queue"))["conversation_id"]
    await asha.send({"type": "set_available", "available": True})
    await first.receive("assigned", conversation_id=earlier)
    await asha.send({"type": "end", "conversation_id": earlier})
    await first.receive("ended", conversation_id=earlier)
    await first.send({"type": "take_return_code", "conversation_id": earlier, "keep_summary": True})
    code = " ".join((await first.receive("return_code"))["words"])
    await first.close()
    await asha.send({"type": "set_available", "available": False})
    await asha.receive("status", available=False)
    other, _ = await visitor(server)
    await other.send({"type": "request_chat"})
    await other.receive("queue")

    again = await pages.visitor()
    await again.locator("#come-back summary").click()
    await again.get_by_role("textbox", name="The words you were given").fill(code)
    await again.get_by_role("button", name="Continue with my adviser").click()
    offer = again.locator("#returning")
    # Told at once, before she chooses.
    await expect(offer).to_contain_text("Asha is not available right now")
    await expect(again.get_by_role("button", name="Wait for Asha")).to_be_focused()
    await screenshot(again, "visitor-return-adviser-away")
    # She reloads before answering: the question is there again (it is stored).
    await again.reload()
    await expect(offer).to_contain_text("Asha is not available right now")
    await again.get_by_role("button", name="Wait for Asha").click()
    await expect(offer).to_contain_text("You are waiting for Asha")
    # Answered, a reload does not ask again.
    await again.reload()
    await expect(offer).to_contain_text("You are waiting for Asha")
    await expect(again.get_by_role("button", name="Wait for Asha")).to_be_hidden()

    # Asha comes back and takes the woman who waited longer; she is full.
    await asha.send({"type": "set_available", "available": True})
    await other.receive("assigned", timeout=10)
    # Then Asha goes: she is asked again at once, never moved.
    await asha.send({"type": "set_available", "available": False})
    await expect(offer).to_contain_text("Asha is not available right now", timeout=10_000)
    await expect(again.get_by_role("button", name="Keep waiting for Asha")).to_be_focused()
    await screenshot(again, "visitor-return-asked-again")
    await again.get_by_role("button", name="Talk to the next adviser free").click()
    await expect(offer).to_contain_text("The next adviser free will talk with you")
    bea = await _adviser_online(pages)
    await bea.receive("assigned", timeout=10)
    await expect(again.locator("#chat-status")).to_contain_text("Bea", timeout=10_000)
    for client in (asha, other, bea):
        await client.close()
