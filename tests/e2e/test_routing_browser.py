"""Waiting honestly in a real browser: the estimate, the any-adviser question, closed hours."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from chat.core.settings import Settings
from chat.helpline.staff import set_training
from tests.conftest import running_server
from tests.e2e.browser import Pages, screenshot
from tests.peers.roomkit import mentor_in
from tests.wsclient import staff

pytestmark = pytest.mark.e2e


async def test_closed_hours_say_when_advisers_are_back_and_leave_her_in_no_queue(
    browser: Browser, settings: Settings, tmp_path: Path
) -> None:
    hours = tmp_path / "hours.yaml"
    # Open only in the first minute of Mondays: closed now (unless run in that very minute).
    hours.write_text("timezone: Europe/London\nweekly:\n  monday: ['00:00-00:01']\n")
    closed = Settings(**{**settings.model_dump(), "hours_file": hours})
    async with running_server(closed) as server:
        pages = Pages(browser, server)
        # A peer room is open tonight: the closed screen offers it.
        mentor, room = await mentor_in(server)
        try:
            her = await pages.visitor()
            await her.get_by_role("button", name="Start a chat").click()
            status = her.locator("#chat-status")
            await expect(status).to_have_text("Our advisers are not answering right now")
            rooms = her.locator("#wait-rooms")
            await expect(rooms.get_by_role("link")).to_have_count(1)
            await expect(rooms).to_contain_text(room["name"])
            await expect(her.locator("#wait-rooms-none")).to_be_hidden()
            await expect(her.locator("#wait-opens")).to_contain_text(
                "They will be here again on Monday"
            )
            await expect(her.locator("#wait-closed")).to_contain_text("Other help")
            await expect(her.locator("#wait-closed")).to_contain_text("call 999")
            await expect(her.locator("#log")).not_to_contain_text("went wrong")
            await screenshot(her, "visitor-helpline-closed")
            assert server.services is not None
            from sqlalchemy import func, select

            from chat.core.models import Conversation

            async with server.services.db.read() as session:
                count = await session.scalar(select(func.count()).select_from(Conversation))
            assert count == 0
        finally:
            await mentor.close()
            await pages.close()
        assert pages.foreign_requests() == [] and pages.page_errors == []


async def test_she_sees_an_honest_wait_and_is_asked_before_any_adviser_answers(
    browser: Browser, settings: Settings
) -> None:
    changes = {"assignment": "auto", "chats_need_training": True, "match_wait_seconds": 1}
    async with running_server(Settings(**{**settings.model_dump(), **changes})) as server:
        pages = Pages(browser, server)
        try:
            her = await pages.visitor()
            await her.locator("#language").select_option("pl")
            await her.locator("#start").click()
            # Nobody who reads Polish is online: the page says so instead of a queue number
            # or a made-up wait.
            await expect(her.locator("#chat-status")).to_contain_text(
                "Żadna doradczyni nie jest teraz dostępna"
            )
            login = await server.staff_session("adviser")
            assert server.services is not None
            await set_training(server.services, login.username, True, "test")
            adviser = await staff(server, login)
            await adviser.send({"type": "set_available", "available": True})
            offer = her.locator("#wait-offer")
            await expect(offer).to_be_visible(timeout=10_000)
            await screenshot(her, "visitor-any-adviser-offer")
            assert adviser.of_type("assigned") == []
            await her.locator("#wait-any").click()
            triage = await adviser.receive("triage", timeout=10)
            assert triage["language"] == "pl" and triage["any_adviser"] is True
            await expect(her.locator("#wait-news")).to_be_hidden()
        finally:
            await pages.close()
        assert pages.foreign_requests() == [] and pages.page_errors == []
