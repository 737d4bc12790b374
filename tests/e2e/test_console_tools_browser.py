"""The adviser's console tools in a real browser: a canned reply from the keyboard, edited and
checked before sending; a private note she never sees; wrap-up before the chat can be closed;
her feedback form; a warm transfer in which she is told and the receiver sees the whole chat."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.e2e.browser import Pages, screenshot, start_chat, take_chat
from tests.e2e.test_accessibility import problems
from tests.e2e.test_safeguarding_browser import staff_page
from tests.wsclient import visitor

pytestmark = pytest.mark.e2e


async def test_canned_reply_note_wrap_up_and_her_feedback(pages: Pages) -> None:
    her = await pages.visitor()
    await start_chat(her)
    adviser = await pages.adviser("Vic")
    await take_chat(adviser)
    panel = adviser.get_by_role("tabpanel")
    reply = panel.get_by_label("Your reply")

    # Ctrl+/ in the reply box opens the library; words narrow it; Enter puts it in the box.
    await reply.press("Control+/")
    search = panel.get_by_role("combobox", name="Search canned replies")
    await expect(search).to_be_focused()
    await expect(panel.locator(".canned-group").first).to_have_text("Opening")
    await search.fill("fault")
    options = panel.get_by_role("option")
    await expect(options).to_have_count(1)
    await expect(options.first).to_have_attribute("aria-selected", "true")
    assert await problems(adviser) == []
    await screenshot(adviser, "staff-canned-replies")
    await search.press("Enter")
    await expect(reply).to_be_focused()
    await expect(reply).to_have_value(
        "What is happening to you is not your fault. Thank you for trusting me with it."
    )
    # Editable before sending, and read by the kinder-wording check like any draft.
    await reply.press("End")
    await reply.press_sequentially(" You must leave him.")
    await expect(panel.locator(".wording")).to_contain_text("Kinder wording for your draft")
    await reply.fill(
        "What is happening to you is not your fault. Thank you for trusting me with it. "
        "Take your time."
    )
    await reply.press("Enter")
    await expect(her.locator("#log .msg-other .msg-body")).to_have_text(
        [
            "What is happening to you is not your fault. Thank you for trusting me with it. "
            "Take your time."
        ]
    )

    # A private note stays with the chat on the staff side.
    await panel.get_by_label("Add a private note (she never sees it)").fill("Two children at home")
    await panel.get_by_role("button", name="Add note").click()
    await expect(panel.locator(".note-list")).to_contain_text("Vic wrote:")
    await expect(panel.locator(".note-list")).to_contain_text("Two children at home")
    await expect(her.locator("body")).not_to_contain_text("Two children")
    await adviser.reload()
    panel = adviser.get_by_role("tabpanel")
    await expect(panel.locator(".note-list")).to_contain_text("Two children at home")

    # Ended: the wrap-up comes first; "Close this chat" waits for it.
    await panel.get_by_role("button", name="End chat").click()
    await panel.get_by_role("button", name="Yes, end it").click()
    wrapup = panel.locator(".wrapup")
    await expect(wrapup).to_be_visible()
    await expect(panel.get_by_role("button", name="Close this chat")).to_be_hidden()
    await wrapup.get_by_role("button", name="Save wrap-up").click()
    await expect(wrapup.get_by_role("status")).to_have_text("Write a short summary first.")
    await wrapup.get_by_label("Short summary").fill("Talked it through; she will call Refuge.")
    await wrapup.get_by_role("button", name="Save wrap-up").click()
    await expect(wrapup.get_by_role("status")).to_have_text("Choose at least one outcome.")
    await wrapup.get_by_label("Signposted to a helpline or service").check()
    await wrapup.get_by_label("Domestic abuse").check()
    assert await problems(adviser) == []
    await screenshot(adviser, "staff-wrap-up")
    await wrapup.get_by_role("button", name="Save wrap-up").click()
    await expect(wrapup.get_by_role("status")).to_have_text(
        "Wrap-up saved. You can close this chat."
    )
    await panel.get_by_role("button", name="Close this chat").click()
    await expect(adviser.get_by_role("tab")).to_have_count(0)

    # Her feedback: a few taps, then a quiet thank-you.
    form = her.locator("#feedback")
    await expect(form).to_be_visible()
    await expect(form).to_contain_text("not linked to you or to this chat")
    assert await problems(her) == []
    await form.get_by_role("group", name="Did this chat help?").get_by_label("A little").check()
    await (
        form.get_by_role("group", name="Would you use this chat again?").get_by_label("Yes").check()
    )
    await screenshot(her, "visitor-feedback")
    await form.get_by_role("button", name="Send").click()
    await expect(her.locator("#feedback-status")).to_have_text(
        "Thank you. Your answers help us make this service better."
    )
    await expect(form).to_be_hidden()


async def test_warm_transfer_she_is_told_and_the_receiver_sees_everything(pages: Pages) -> None:
    her = await pages.visitor(locale="pl-PL")
    await her.locator("#language").select_option("pl")
    await her.locator("#start").click()
    await expect(her.locator("#chat-status")).to_be_visible()
    giver = await pages.adviser("Vic")
    await take_chat(giver)
    await her.locator("#message").fill("Boję się wracać do domu")
    await her.locator("#message").press("Enter")
    panel = giver.get_by_role("tabpanel")
    await expect(panel.locator(".log")).to_contain_text("Boję się")

    taker = await pages.adviser("Bea")
    await taker.locator("#availability").click()
    await expect(taker.locator("#availability")).to_have_attribute("aria-pressed", "true")

    await panel.get_by_role("button", name="Transfer…").click()
    to = panel.get_by_label("Hand it to")
    await expect(to.locator("option", has_text="Bea")).to_have_count(1)
    await to.select_option(label=await to.locator("option", has_text="Bea").inner_text())
    await panel.get_by_label("Note for them (she does not see it)").fill(
        "Speaks Polish; scared to go home"
    )
    assert await problems(giver) == []
    await screenshot(giver, "staff-transfer")
    await panel.get_by_role("button", name="Transfer", exact=True).click()
    await expect(panel.locator(".log")).to_contain_text("You handed this chat to Bea.")
    await expect(panel.locator(".chat-observer")).to_have_text(
        "You handed this chat on. You can read it but not write in it."
    )
    await expect(panel.locator(".composer")).to_be_hidden()

    # She is told, in her language, that someone else is joining.
    await expect(her.locator("#log")).to_contain_text(
        "Do czatu dołącza ktoś inny, żeby ci pomóc: Bea."
    )
    await expect(her.locator("body")).not_to_contain_text("scared to go home")

    # The receiver has the whole chat, her first message and the note included.
    received = taker.get_by_role("tabpanel")
    await expect(taker.get_by_role("tab")).to_have_count(1)
    await expect(received.locator(".log")).to_contain_text("Boję się wracać do domu")
    await expect(received.locator(".log")).to_contain_text(
        "Vic handed this chat to Bea: “Speaks Polish; scared to go home”"
    )
    assert await problems(taker) == []
    await screenshot(taker, "staff-transfer-received")
    await received.get_by_label("Your reply").fill("Dzień dobry, tu Bea.")
    await received.get_by_label("Your reply").press("Enter")
    await expect(her.locator("#log .msg-other .msg-body").last).to_have_text("Dzień dobry, tu Bea.")


async def test_an_admin_edits_a_canned_reply_and_a_bad_edit_changes_nothing(
    pages: Pages,
) -> None:
    admin = await staff_page(pages, "admin", "Ada")
    section = admin.locator("#canned-admin")
    await section.get_by_role("button", name="Edit canned replies").click()
    await section.get_by_label("Reply", exact=True).select_option(label="Come back any time")
    await section.get_by_label("Language", exact=True).select_option("en")
    text = section.get_by_label("Text in this language (empty: none yet)")
    await expect(text).to_have_value(
        "You can come back here whenever you like. "
        "Nothing you have told me has to be decided today."
    )
    # English cannot be emptied: the server refuses and says why.
    await text.fill("")
    await section.get_by_role("button", name="Save").click()
    await expect(section.get_by_role("status")).to_contain_text("Not saved:")
    await expect(section.get_by_role("status")).to_contain_text("English")
    await text.fill("Come back whenever you like. You must call us.")
    await section.get_by_role("button", name="Save").click()
    await expect(section.get_by_role("status")).to_contain_text(
        "Saved. The kinder-wording check has suggestions for: come_back (en): must"
    )
    # A new reply joins a group; another one is removed.
    await section.get_by_label("Group").select_option(label="Closing")
    await section.get_by_label("Title (staff see it)").last.fill("Check in later")
    await section.get_by_label("Text in English (add other languages after saving)").fill(
        "Would it help to check in again later this week?"
    )
    await section.get_by_role("button", name="Add reply").click()
    await expect(section.get_by_role("status")).to_have_text(
        "Saved. The kinder-wording check has suggestions for: come_back (en): must"
    )
    reply_choice = section.get_by_label("Reply", exact=True)
    await expect(reply_choice).to_have_value("check_in_later")
    await reply_choice.select_option(label="Ending the chat")
    await section.get_by_role("button", name="Remove this reply").click()
    await expect(reply_choice.locator("option", has_text="Ending the chat")).to_have_count(0)
    assert await problems(admin) == []
    await screenshot(admin, "admin-canned-replies")

    # An adviser's library now has the new wording.
    adviser = await pages.adviser("Vic")
    her = await pages.visitor()
    await start_chat(her)
    await take_chat(adviser)
    panel = adviser.get_by_role("tabpanel")
    await panel.get_by_role("button", name="Canned reply (Ctrl+/)").click()
    await panel.get_by_role("combobox").fill("come back")
    await expect(panel.get_by_role("option")).to_have_text(
        ["Come back any time Come back whenever you like. You must call us."]
    )
    await panel.get_by_role("combobox").fill("check in")
    await expect(panel.get_by_role("option")).to_have_text(
        ["Check in later Would it help to check in again later this week?"]
    )
    await panel.get_by_role("combobox").fill("end our chat")
    await expect(panel.get_by_role("option")).to_have_count(0)


async def test_handing_a_chat_on_at_capacity_frees_take_next_at_once(pages: Pages) -> None:
    waiting = [await visitor(pages.server) for _ in range(4)]
    for client, _ in waiting:
        await client.send({"type": "request_chat"})
        await client.receive("queue")
    giver = await pages.adviser("Vic")
    await take_chat(giver)
    take = giver.get_by_role("button", name="Take next chat")
    for count in (2, 3):
        await take.click()
        await expect(giver.get_by_role("tab")).to_have_count(count)
    await expect(take).to_be_disabled()
    taker = await pages.adviser("Bea")
    await taker.locator("#availability").click()
    await expect(taker.locator("#availability")).to_have_attribute("aria-pressed", "true")

    panel = giver.get_by_role("tabpanel")
    await panel.get_by_role("button", name="Transfer…").click()
    to = panel.get_by_label("Hand it to")
    await to.select_option(label=await to.locator("option", has_text="Bea").inner_text())
    await panel.get_by_role("button", name="Transfer", exact=True).click()
    await expect(panel.locator(".composer")).to_be_hidden()
    # Nothing else happens in the queue, yet the place the chat held is free again.
    await expect(giver.locator("#take-hint")).to_have_text("")
    await expect(take).to_be_enabled()
    await take.click()
    await expect(giver.get_by_role("tab")).to_have_count(4)
    await expect(take).to_be_disabled()
    await expect(taker.get_by_role("tab")).to_have_count(1)
    for client, _ in waiting:
        await client.close()
