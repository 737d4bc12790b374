"""Closed or full, in a real browser: she is in no queue, so no message box and no "I am in
danger now"; instead when advisers are back (in her language), the emergency routes, the
group chats open now and the helplines for her topic and nation; when advisers answer again
the page says so and she starts when she chooses. Screens at 1280 and 320 px in docs/screens/."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import func, select

from chat.core.models import Conversation
from chat.core.settings import Settings
from chat.helpline import opening
from chat.helpline.hours import DAYS, ServiceHours
from tests.conftest import running_server
from tests.e2e.browser import Pages
from tests.e2e.test_screens_browser import look_at
from tests.peers.roomkit import mentor_in
from tests.wsclient import Server, visitor

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def quick_watch(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server asks whether advisers answer again every 0.2 s instead of every 10 s."""
    monkeypatch.setattr(opening, "WATCH_SECONDS", 0.2)


async def _conversations(server: Server) -> int:
    assert server.services is not None
    async with server.services.db.read() as session:
        return await session.scalar(select(func.count()).select_from(Conversation)) or 0


async def _start(her: Page, topic: str, nation: str) -> None:
    await her.locator("#optional summary").click()
    await her.locator("#topic").select_option(topic)
    await her.locator("#nation").select_option(nation)
    await her.get_by_role("button", name="Start a chat").click()


async def _nothing_to_write_in(her: Page) -> None:
    """In no queue: no message box, no "I am in danger now", nothing to end; leaving stays."""
    await expect(her.locator("#message")).to_be_hidden()
    await expect(her.get_by_role("button", name="I am in danger now")).to_have_count(0)
    await expect(her.get_by_role("button", name="Stop waiting")).to_have_count(0)
    await expect(her.get_by_role("link", name="Leave this page", exact=True)).to_be_visible()


async def _urgent_help(her: Page) -> None:
    urgent = her.locator("#closed-urgent")
    await expect(urgent.get_by_role("link", name="999").first).to_be_visible()
    await expect(urgent.get_by_role("link", name="112")).to_be_visible()
    await expect(urgent).to_contain_text("Silent Solution")
    await expect(her.locator("#closed")).to_contain_text("press 55 when asked")


async def test_closed_hours_say_when_with_rooms_helplines_and_emergency_routes(
    browser: Browser, settings: Settings, tmp_path: Path
) -> None:
    # Open only from 10:00 on the day three days from now: a day named in words.
    london = ZoneInfo("Europe/London")
    day = dt.datetime.now(london).date() + dt.timedelta(days=3)
    hours = tmp_path / "hours.yaml"
    hours.write_text(
        f"timezone: Europe/London\nweekly:\n  {DAYS[day.weekday()]}: ['10:00-12:00']\n"
    )
    closed = Settings(**{**settings.model_dump(), "hours_file": hours})
    async with running_server(closed) as server:
        pages = Pages(browser, server)
        mentor, room = await mentor_in(server)
        try:
            her = await pages.visitor(timezone_id="Europe/London")
            await _start(her, "abuse", "wales")
            await expect(her.locator("#chat-status")).to_have_text(
                "Our advisers are not answering right now"
            )
            await expect(her.locator("#closed-opens")).to_have_text(
                f"They will be here again on {day.strftime('%A')} {day.day}"
                f" {day.strftime('%B')} from 10:00."
            )
            await expect(her.locator("#closed-watch")).to_contain_text("Keep this page open")
            await _nothing_to_write_in(her)
            await _urgent_help(her)
            rooms = her.locator("#closed-rooms")
            await expect(rooms.get_by_role("link")).to_have_count(1)
            await expect(rooms).to_contain_text(room["name"])
            await expect(her.locator("#closed-rooms-none")).to_be_hidden()
            # Her topic (someone is hurting her) and her nation (Wales).
            await expect(her.locator("#closed-helplines")).to_contain_text("Live Fear Free")
            await expect(her.locator("#closed-start")).to_be_hidden()
            await look_at(her, "visitor-closed")
            assert await _conversations(server) == 0

            # The admin opens the helpline: the page says so, and she starts when she chooses.
            assert server.services is not None
            server.services.features.replace(ServiceHours())
            await expect(her.locator("#chat-status")).to_have_text(
                "Our advisers are answering again"
            )
            assert await _conversations(server) == 0, "told, not put in a queue"
            await her.locator("#closed-start").click()
            await expect(her.locator("#chat-status")).to_contain_text("No one can answer")
            await expect(her.locator("#message")).to_be_visible()
            assert await _conversations(server) == 1
        finally:
            await mentor.close()
            await pages.close()
        assert pages.foreign_requests() == [] and pages.page_errors == []


async def test_a_surge_says_so_and_she_may_start_once_there_is_room(
    browser: Browser, settings: Settings
) -> None:
    full = Settings(**{**settings.model_dump(), "surge_queue_limit": 1})
    async with running_server(full) as server:
        pages = Pages(browser, server)
        first, _ = await visitor(server)
        try:
            await first.send({"type": "request_chat"})
            waiting = (await first.receive("queue"))["conversation_id"]
            her = await pages.visitor()
            await _start(her, "drugs", "scotland")
            await expect(her.locator("#chat-status")).to_have_text(
                "Our advisers are very busy right now"
            )
            await expect(her.locator("#closed-opens")).to_have_text(
                "Too many people are waiting to join the queue right now."
            )
            await _nothing_to_write_in(her)
            await _urgent_help(her)
            await expect(her.locator("#closed-rooms-none")).to_be_visible()
            await expect(
                her.locator("#closed-helplines").get_by_role("listitem")
            ).not_to_have_count(0)
            await look_at(her, "visitor-full")
            assert await _conversations(server) == 1

            # The first woman leaves the queue: room again.
            await first.send({"type": "end", "conversation_id": waiting})
            await expect(her.locator("#chat-status")).to_have_text(
                "Our advisers are answering again"
            )
            await expect(her.locator("#closed-open")).to_contain_text("You can start a chat now")
            await her.get_by_role("button", name="Start a chat").click()
            # In the queue (nobody online to answer her yet, and the page says so).
            await expect(her.locator("#chat-status")).to_contain_text("No one can answer")
            await expect(her.locator("#message")).to_be_focused()
            await expect(her.locator("#closed")).to_be_hidden()
            assert await _conversations(server) == 2
        finally:
            await first.close()
            await pages.close()
        assert pages.foreign_requests() == [] and pages.page_errors == []


async def test_the_closed_screen_is_in_her_language(
    browser: Browser, settings: Settings, tmp_path: Path
) -> None:
    hours = tmp_path / "hours.yaml"
    hours.write_text("weekly: {}\n")
    closed = Settings(**{**settings.model_dump(), "hours_file": hours})
    async with running_server(closed) as server:
        pages = Pages(browser, server)
        try:
            her = await pages.visitor()
            await her.locator("#language").select_option("pl")
            await her.locator("#start").click()
            await expect(her.locator("#chat-status")).to_have_text(
                "Nasze doradczynie teraz nie odpowiadają"
            )
            await expect(her.locator("#closed-opens")).to_have_text(
                "Nie wiemy jeszcze, kiedy wrócą."
            )
            await expect(her.locator("#closed")).to_contain_text(
                "Jeśli potrzebujesz pomocy od razu"
            )
            await expect(her.locator("#message")).to_be_hidden()
        finally:
            await pages.close()
        assert pages.foreign_requests() == [] and pages.page_errors == []
