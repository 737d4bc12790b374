"""Peer rooms in a real browser: joining, talking, the mentor console's controls, moving to an
adviser, right-to-left rooms, a phone screen and the quick exit."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.e2e.browser import PHONE, Pages, screenshot
from tests.peers.roomkit import mentor_in, record_training, said, say, woman_in

pytestmark = pytest.mark.e2e


async def open_rooms(pages: Pages, locale: str = "en-GB", **options: object) -> Page:
    context = await pages.context(locale=locale, **options)
    page = await context.new_page()
    await page.goto(pages.origin + "/rooms")
    await expect(page.locator("#room-list li").first).to_be_visible()
    return page


async def join_room(page: Page, name: str, join: str = "Join the room") -> None:
    """From the list: choose the room, accept its rules, join; waits until she is in."""
    await page.locator(".room-card", has_text=name).get_by_role("button").click()
    await page.locator("#accept").check()
    await page.locator("#join").click()
    await expect(page.locator("#room")).to_be_visible()
    await expect(page.locator("#me")).not_to_be_empty()


async def test_she_joins_a_room_and_talks(pages: Pages) -> None:
    mentor, _ = await mentor_in(pages.server)
    page = await open_rooms(pages, viewport={"width": 1100, "height": 900})
    card = page.locator(".room-card", has_text="First time here")
    await expect(card.locator(".room-status")).to_contain_text("Open now")
    closed = page.locator(".room-card", has_text="Recovery circle")
    await expect(closed.locator(".room-status")).to_contain_text("opens")
    await screenshot(page, "rooms-list")

    await card.get_by_role("button").click()
    await expect(page.locator("#rules-list li").first).to_be_visible()
    await page.locator("#join").click()
    await expect(page.locator("#rules-error")).to_contain_text("tick the box")
    await page.locator("#accept").check()
    await page.locator("#join").click()
    await expect(page.locator("#me")).to_contain_text("You are")
    await screenshot(page, "rooms-joined")

    joined = await mentor.receive("room_joined")
    other = await woman_in(pages.server)
    await page.get_by_label("Your message").fill("hello everyone")
    await page.get_by_label("Your message").press("Enter")
    got = await mentor.receive("room_message")
    assert got["body"] == "hello everyone" and got["name"] == joined["name"]
    await expect(page.locator("#log .msg-own")).to_have_count(1)
    await expect(page.locator("#log .is-sending")).to_have_count(0)

    await said(other.client, "o1", "مرحبا <b>hi</b>")
    message = page.locator("#log .msg-other .msg-body")
    await expect(message).to_have_text("مرحبا <b>hi</b>")
    assert await message.get_attribute("dir") == "auto"
    await say(mentor, "m1", "Welcome, both of you")
    await expect(page.locator("#log .msg-mentor")).to_contain_text("(mentor)")
    await screenshot(page, "rooms-chatting")
    for client in (mentor, other.client):
        await client.close()


async def mentor_page(pages: Pages, name: str = "Maya") -> Page:
    """A trained mentor's console, logged in through its form."""
    username, password = await pages.server.add_staff("mentor", name.lower())
    await record_training(pages.server, username)
    context = await pages.context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    await page.goto(pages.origin + "/mentor")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator("#me-name")).to_contain_text(name)
    return page


async def test_mentor_mutes_her_and_moves_her_to_an_adviser(pages: Pages) -> None:
    console = await mentor_page(pages)
    await console.get_by_role("button", name="Open this room: First time here").click()
    await expect(console.locator("#room-name")).to_have_text("First time here")

    her = await open_rooms(pages)
    await join_room(her, "First time here")
    name = (await her.locator("#me bdi").text_content()) or ""
    person = console.locator(".person", has_text=name)
    await expect(person).to_be_visible()

    other = await woman_in(pages.server)
    await said(other.client, "hi", "hello, I'm new")
    await say(other.client, "rude", "you're a slut")
    await other.client.receive("held", client_id="rude")
    await expect(console.locator("#held .queue-item")).to_have_count(1)
    await expect(console.locator("#log")).to_contain_text("hello, I'm new")

    # Mute her for 15 minutes, with a reason.
    await person.get_by_role("button", name=f"Mute: {name}").click()
    form = person.locator(".action-form")
    await form.locator("select").select_option("15")
    await form.get_by_label("Why (kept in the audit log)").fill("too many messages at once")
    await screenshot(console, "mentor-console-controls")
    await form.get_by_role("button", name="Mute").click()
    await expect(person.locator(".badge")).to_contain_text("Muted until")
    await expect(her.locator("#composer-note")).to_contain_text("paused your messages")
    await her.get_by_label("Your message").fill("can I speak?")
    await her.get_by_label("Your message").press("Enter")
    await expect(her.locator("#log .is-failed")).to_contain_text("paused your messages")

    # Move her to a one-to-one chat with an adviser; her page follows, same session.
    await person.get_by_role("button", name=f"Move to an adviser: {name}").click()
    form = person.locator(".action-form")
    await form.get_by_label("A note for the adviser (only staff see it)").fill("Wants help tonight")
    await form.get_by_label("Urgent: put her first in the queue").check()
    await form.get_by_role("button", name="Move to an adviser").click()
    await expect(her).to_have_url(pages.origin + "/")
    await expect(her.locator("#chat-status")).to_contain_text("in the queue")
    left = await other.client.receive("room_left")
    assert left["name"] == name
    await expect(console.locator(".person", has_text=name)).to_have_count(0)
    await screenshot(console, "mentor-console-after-move")

    adviser = await pages.adviser("Asha")
    await expect(adviser.locator("#queue-rows tr")).to_have_count(1)
    await other.client.close()


async def test_an_arabic_room_reads_right_to_left(pages: Pages) -> None:
    mentor, _ = await mentor_in(pages.server, "arabic-women")
    page = await open_rooms(pages, locale="ar", viewport={"width": 1100, "height": 900})
    await expect(page.locator("html")).to_have_attribute("dir", "rtl")
    await join_room(page, "غرفة النساء الناطقات بالعربية")
    await expect(page.locator("#room")).to_have_attribute("dir", "rtl")
    other = await woman_in(pages.server, "arabic-women")
    await said(other.client, "a1", "مرحبا بكن جميعا")
    await said(other.client, "a2", "Hello in English too")
    bodies = page.locator("#log .msg-other .msg-body")
    await expect(bodies).to_have_count(2)
    for index in range(2):
        assert await bodies.nth(index).get_attribute("dir") == "auto"
    await say(mentor, "m", "أهلا وسهلا")
    await expect(page.locator("#log .msg-mentor")).to_have_count(1)
    await screenshot(page, "rooms-arabic")
    for client in (mentor, other.client):
        await client.close()


async def test_on_a_phone(pages: Pages) -> None:
    mentor, _ = await mentor_in(pages.server)
    page = await open_rooms(pages, viewport=PHONE, is_mobile=True, has_touch=True)
    await screenshot(page, "rooms-phone-list")
    await join_room(page, "First time here")
    other = await woman_in(pages.server)
    await said(other.client, "p1", "Welcome! It's quiet tonight.")
    await say(mentor, "m", "Hello both. Take your time.")
    await expect(page.locator("#log .msg-mentor")).to_have_count(1)
    box = await page.locator(".quick-exit").bounding_box()
    assert box is not None and box["x"] + box["width"] <= PHONE["width"]
    await screenshot(page, "rooms-phone")
    for client in (mentor, other.client):
        await client.close()


async def test_personal_details_are_asked_about_and_sent_without_them(pages: Pages) -> None:
    mentor, _ = await mentor_in(pages.server)
    page = await open_rooms(pages)
    await join_room(page, "First time here")
    await page.get_by_label("Your message").fill("call me on 07700 900123 later")
    await page.get_by_label("Your message").press("Enter")
    await expect(page.locator("#held")).to_be_visible()
    await expect(page.locator("#held-text")).to_contain_text("a phone number")
    await page.get_by_role("button", name="Send without these details").click()
    got = await mentor.receive("room_message")
    assert "07700" not in got["body"] and "[removed]" in got["body"]
    await expect(page.locator("#log .msg-own .msg-body")).to_have_text("call me on [removed] later")
    # Nothing of hers is kept in cookies or local storage.
    assert await page.evaluate("document.cookie") == ""
    assert await page.evaluate("localStorage.length") == 0
    await mentor.close()


async def test_i_know_someone_here_then_an_adviser_at_once(pages: Pages) -> None:
    mentor, _ = await mentor_in(pages.server)
    page = await open_rooms(pages)
    await join_room(page, "First time here")
    await page.get_by_role("button", name="I think I know someone here").click()
    await expect(page.locator("#know")).to_be_visible()
    flag = await mentor.receive("room_known")
    assert flag["name"]
    await page.get_by_role("button", name="Talk to an adviser now").click()
    await expect(page).to_have_url(pages.origin + "/")
    await expect(page.locator("#chat-status")).to_contain_text("in the queue")
    await mentor.close()


async def test_she_changes_her_name(pages: Pages) -> None:
    mentor, _ = await mentor_in(pages.server)
    page = await open_rooms(pages)
    await join_room(page, "First time here")
    await page.get_by_role("button", name="Change").click()
    await page.get_by_label("Your room name").fill("Mentor Jo")
    await page.get_by_role("button", name="Save").click()
    await expect(page.locator("#rename-error")).to_contain_text("staff")
    await page.get_by_label("Your room name").fill("Rose")
    await page.get_by_role("button", name="Save").click()
    await expect(page.locator("#me")).to_contain_text("You are Rose")
    renamed = await mentor.receive("room_renamed")
    assert renamed["name"] == "Rose"
    await mentor.close()


async def test_her_helplines_card_is_there_again_after_a_reload(pages: Pages) -> None:
    mentor, _ = await mentor_in(pages.server)
    page = await open_rooms(pages, viewport={"width": 1100, "height": 900})
    await join_room(page, "First time here")
    other = await woman_in(pages.server)
    await page.get_by_label("Your message").fill("I am going to kill myself tonight")
    await page.get_by_label("Your message").press("Enter")
    card = page.locator("#helplines")
    await expect(card).to_be_visible()
    await expect(card.locator("#helplines-list > li").first).to_be_visible()
    notice = page.locator("#log .msg-notice", has_text="numbers you can call")
    await expect(notice).to_have_count(1)
    await mentor.receive("room_alert")

    await page.reload()
    await expect(page.locator("#room")).to_be_visible()
    await expect(card).to_be_visible()
    await expect(card.locator("#helplines-list > li").first).to_be_visible()
    await expect(notice).to_have_count(1)
    await screenshot(page, "rooms-helplines-after-reload")
    # Nobody else in the room is shown her card.
    await other.client.drain(0.5)
    assert other.client.of_type("helplines") == []
    for client in (mentor, other.client):
        await client.close()


async def test_quick_exit_leaves_the_room_at_once(pages: Pages) -> None:
    mentor, _ = await mentor_in(pages.server)
    page = await open_rooms(pages)
    await join_room(page, "First time here")
    joined = await mentor.receive("room_joined")
    await page.keyboard.press("Escape")
    await expect(page).to_have_url("https://www.bbc.co.uk/weather")
    left = await mentor.receive("room_left", timeout=10)
    assert left["name"] == joined["name"]
    await mentor.close()


async def test_a_closed_room_says_when_it_opens(pages: Pages) -> None:
    page = await open_rooms(pages)
    card = page.locator(".room-card", has_text="First time here")
    await expect(card.locator(".room-status")).to_contain_text("Closed · opens")
    await expect(card.get_by_role("button")).to_have_count(0)
