"""One evening on the helpline in real browsers (issue 14): two advisers, one supervisor, six
women. A canned reply from the keyboard, edited before sending; a private note; a warm transfer
between the advisers; danger before any supervisor is in, kept for the one who logs in late;
the supervisor joining that chat; wrap-up before a chat leaves the list; her feedback. Each
person's page is checked for what she or he would see, and for what they must not."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.e2e.browser import Pages, screenshot, start_chat
from tests.e2e.test_accessibility import problems
from tests.e2e.test_safeguarding_browser import IMMINENT, say_as_her
from tests.e2e.test_shift_browser import console, go_available

pytestmark = pytest.mark.e2e

CANNED = "What is happening to you is not your fault. Thank you for trusting me with it."
EDITED = CANNED + " I'm glad you wrote tonight."
NOTE = "Two children at home; wants to call Refuge tomorrow"
TRANSFER_NOTE = "She asked for someone who knows housing law"
FIRST_WORDS = re.compile(r"Evening visitor (\d)")


async def take_next(adviser: Page) -> tuple[int, int]:
    """Takes the next chat: (conversation id, which of the six women it is, from her words)."""
    tabs = adviser.get_by_role("tab")
    ids = "(tabs) => tabs.map((tab) => tab.id)"
    before = await tabs.evaluate_all(ids)
    await adviser.get_by_role("button", name="Take next chat").click()
    await expect(tabs).to_have_count(len(before) + 1)
    [new] = set(await tabs.evaluate_all(ids)) - set(before)
    chat = int(new.removeprefix("tab-"))
    await show(adviser, chat)
    log = adviser.locator(f"#chat-{chat} .log")
    await expect(log).to_contain_text("Evening visitor")
    found = FIRST_WORDS.search(await log.inner_text())
    assert found is not None
    return chat, int(found.group(1))


async def show(adviser: Page, chat: int) -> Page:
    """Brings one chat to the front of the console; returns the console."""
    await adviser.get_by_role("tab", name=re.compile(rf"Chat {chat}\b")).click()
    await expect(adviser.locator(f"#chat-{chat}")).to_be_visible()
    return adviser


async def test_an_evening_shift_from_first_chat_to_her_feedback(pages: Pages) -> None:
    # Six women start, one after another; each writes while she waits.
    women: dict[int, Page] = {}
    for n in range(1, 7):
        her = await pages.visitor()
        await start_chat(her)
        await say_as_her(her, f"Evening visitor {n} here")
        women[n] = her

    vic = await console(pages, "adviser", "Vic")
    bea = await console(pages, "adviser", "Bea")
    await go_available(vic)
    await go_available(bea)

    # Vic takes three, as many as she can; Bea two. The sixth waits.
    vic_chats = dict([await take_next(vic) for _ in range(3)])
    await expect(vic.get_by_role("button", name="Take next chat")).to_be_disabled()
    await expect(vic.locator("#take-hint")).to_have_text(
        "You have 3 chats open, as many as you can take. End one to take the next."
    )
    bea_chats = dict([await take_next(bea) for _ in range(2)])
    assert len(set(vic_chats.values()) | set(bea_chats.values())) == 5
    await expect(vic.locator("#queue-rows tr")).to_have_count(1)
    who = {chat: n for chats in (vic_chats, bea_chats) for chat, n in chats.items()}
    first, second, third = vic_chats
    for chat in who:
        await expect(women[who[chat]].locator("#chat-status")).to_contain_text("You are talking")

    # A canned reply, from the keyboard, edited before it goes.
    await show(vic, first)
    panel = vic.locator(f"#chat-{first}")
    reply = panel.get_by_label("Your reply")
    await reply.focus()
    await reply.press("Control+/")
    search = panel.get_by_role("combobox", name="Search canned replies")
    await expect(search).to_be_focused()
    await search.press_sequentially("not your fault")
    await expect(panel.get_by_role("option").first).to_have_attribute("aria-selected", "true")
    await search.press("Enter")
    await expect(reply).to_be_focused()
    await expect(reply).to_have_value(CANNED)
    await reply.press("End")
    await reply.press_sequentially(" I'm glad you wrote tonight.")
    await reply.press("Enter")
    her_first = women[who[first]]
    await expect(her_first.locator("#log .msg-other .msg-body")).to_have_text([EDITED])
    await expect(her_first.locator("#typing")).to_have_text("")
    for n, other in women.items():
        if n != who[first]:
            await expect(other.locator("#log")).not_to_contain_text("glad you wrote")

    # A private note: on Vic's console, never on her page.
    await reply.press("Alt+p")
    note_box = panel.get_by_label("Add a private note (she never sees it)")
    await expect(note_box).to_be_focused()
    await note_box.fill(NOTE)
    await panel.get_by_role("button", name="Add note").click()
    await expect(panel.locator(".note-list")).to_contain_text("Vic wrote:")
    await expect(panel.locator(".note-list")).to_contain_text(NOTE)

    # A warm transfer of her second chat to Bea, who has room for one more.
    await show(vic, second)
    her_second = women[who[second]]
    panel = vic.locator(f"#chat-{second}")
    await panel.get_by_label("Your reply").fill("Thank you for telling me about the flat.")
    await panel.get_by_label("Your reply").press("Enter")
    await expect(her_second.locator("#log .msg-other .msg-body")).to_have_text(
        ["Thank you for telling me about the flat."]
    )
    await panel.get_by_role("button", name="Transfer…").click()
    to = panel.get_by_label("Hand it to")
    bea_option = to.locator("option", has_text="Bea")
    await expect(bea_option).to_contain_text("2 of 3")
    await to.select_option(label=await bea_option.inner_text())
    await panel.get_by_label("Note for them (she does not see it)").fill(TRANSFER_NOTE)
    await panel.get_by_role("button", name="Transfer", exact=True).click()
    await expect(panel.locator(".log")).to_contain_text("You handed this chat to Bea.")
    await expect(panel.locator(".composer")).to_be_hidden()
    await expect(her_second.locator("#log")).to_contain_text(
        "Someone else is joining the chat to help you: Bea."
    )
    # Bea has the whole chat: her first words, Vic's reply and the note, in order.
    received = bea.locator(f"#chat-{second}")
    await expect(bea.get_by_role("tab")).to_have_count(3)
    await show(bea, second)
    log = received.locator(".log")
    await expect(log).to_contain_text(f"Evening visitor {who[second]} here")
    await expect(log).to_contain_text("Thank you for telling me about the flat.")
    await expect(log).to_contain_text(f"Vic handed this chat to Bea: “{TRANSFER_NOTE}”")
    text = await log.inner_text()
    assert text.index("Evening visitor") < text.index("about the flat") < text.index("handed")
    await received.get_by_label("Your reply").fill("Hello, I'm Bea. I know housing law.")
    await received.get_by_label("Your reply").press("Enter")
    await expect(her_second.locator("#log .msg-other .msg-body").last).to_have_text(
        "Hello, I'm Bea. I know housing law."
    )
    await expect(bea.get_by_role("button", name="Take next chat")).to_be_disabled()
    # The handed-on chat leaves Vic's count: she can take the sixth woman.
    await expect(vic.get_by_role("button", name="Take next chat")).to_be_enabled()
    sixth_chat, sixth = await take_next(vic)
    assert sixth not in who.values()
    await expect(vic.locator("#queue-rows tr")).to_have_count(0)

    # Danger in her third chat while no supervisor is logged in.
    her_third = women[who[third]]
    await say_as_her(her_third, IMMINENT)
    await show(vic, third)
    await expect(vic.locator(f"#chat-{third} .log .msg.is-flagged")).to_have_count(1)

    # The supervisor logs in late: the alert was kept for her; she joins the chat from it.
    sol = await console(pages, "supervisor", "Sol")
    alert = sol.locator("#alerts-list .alert-item", has_text=f"Danger in chat {third}")
    await expect(alert).to_have_count(1)
    await expect(alert.locator(".level-badge")).to_have_text("Immediate danger")
    await expect(sol.locator("#alerts-list .alert-item")).to_have_count(1)
    await alert.get_by_role("button", name=f"Open chat {third}").click()
    reading = sol.locator(f"#chat-{third}")
    await expect(reading.locator(".log")).to_contain_text("taken all my pills")
    await expect(reading.locator(".composer")).to_be_hidden()
    await reading.get_by_role("button", name="Join this chat").click()
    await expect(reading.locator(".composer")).to_be_visible()
    await expect(vic.locator(f"#chat-{third} .log")).to_contain_text(
        "Supervisor Sol joined the chat. She was told a supervisor joined."
    )
    await expect(her_third.locator("#log")).to_contain_text("A supervisor has joined the chat.")
    await reading.get_by_label("Your reply").fill("I'm Sol, I'm here with Vic.")
    await reading.get_by_label("Your reply").press("Enter")
    await expect(her_third.locator("#log .msg-other .msg-body").last).to_have_text(
        "I'm Sol, I'm here with Vic."
    )
    await expect(vic.locator(f"#chat-{third} .log .msg-other", has_text="I'm Sol")).to_contain_text(
        "Sol"
    )
    await alert.get_by_role("button", name="Acknowledge").click()
    await expect(sol.locator("#alerts-list .alert-item")).to_have_count(0)
    assert await problems(sol) == []
    await screenshot(sol, "evening-supervisor-joined")

    # Vic ends her first chat: it stays in the list until the wrap-up is saved.
    await show(vic, first)
    panel = vic.locator(f"#chat-{first}")
    await panel.get_by_role("button", name="End chat").click()
    await panel.get_by_role("button", name="Yes, end it").click()
    await expect(her_first.locator("#chat-status")).to_contain_text("ended")
    wrapup = panel.locator(".wrapup")
    await expect(wrapup).to_be_visible()
    await expect(panel.get_by_role("button", name="Close this chat")).to_be_hidden()
    tabs = vic.get_by_role("tab")
    await expect(tabs).to_have_count(4)  # hers, the handed-on one, the third and the sixth
    await wrapup.get_by_label("Short summary").fill("Listened; she will call Refuge tomorrow.")
    await wrapup.get_by_label("Signposted to a helpline or service").check()
    await wrapup.get_by_label("Domestic abuse").check()
    await wrapup.get_by_role("button", name="Save wrap-up").click()
    await expect(wrapup.get_by_role("status")).to_have_text(
        "Wrap-up saved. You can close this chat."
    )
    await panel.get_by_role("button", name="Close this chat").click()
    await expect(tabs).to_have_count(3)
    await expect(vic.get_by_role("tab", name=re.compile(rf"Chat {first}\b"))).to_have_count(0)

    # Her feedback, after the end, in a few taps.
    form = her_first.locator("#feedback")
    await expect(form).to_be_visible()
    await form.get_by_role("group", name="Did this chat help?").get_by_label("Yes").check()
    await form.get_by_role("button", name="Send").click()
    await expect(her_first.locator("#feedback-status")).to_have_text(
        "Thank you. Your answers help us make this service better."
    )

    # What stayed on the staff side: no woman's page shows the note, the transfer note or the
    # supervisor's alert; each sees only her own chat.
    for n, her in women.items():
        body = her.locator("body")
        for private in (NOTE, TRANSFER_NOTE, "Danger in chat", "Vic wrote"):
            await expect(body).not_to_contain_text(private)
        for other in range(1, 7):
            if other != n:
                await expect(body).not_to_contain_text(f"Evening visitor {other} here")
    assert sixth_chat in (
        await vic.locator("[role=tabpanel]").evaluate_all(
            "(panels) => panels.map((p) => Number(p.id.replace('chat-', '')))"
        )
    )
    assert await problems(vic) == []
    await screenshot(vic, "evening-adviser-after-wrap-up")
