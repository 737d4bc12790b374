"""Closed or full on a real server: she is in no queue, anything that needs a queue is refused
with the same clear error and never stored, and her socket hears when advisers answer again."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from chat.core.models import Conversation, Event
from chat.core.settings import Settings
from chat.helpline import opening
from chat.helpline.hours import ServiceHours
from tests.chat.test_routing_server import adviser, routed, waiting_woman
from tests.wsclient import Server, visitor

# Open only on 1 January 2000: closed now, and nothing opens within four weeks.
NEVER = "timezone: Europe/London\nweekly: {}\nspecial:\n  2000-01-01: ['10:00-12:00']\n"


@pytest.fixture
def quick_watch(monkeypatch: pytest.MonkeyPatch) -> None:
    """A node asks whether advisers answer again every 0.2 s instead of every 10 s."""
    monkeypatch.setattr(opening, "WATCH_SECONDS", 0.2)


async def _rows(server: Server) -> tuple[int, int]:
    """How many conversations, and how many stored events, the database holds."""
    assert server.services is not None
    async with server.services.db.read() as session:
        conversations = await session.scalar(select(func.count()).select_from(Conversation))
        events = await session.scalar(select(func.count()).select_from(Event))
    return conversations or 0, events or 0


async def test_while_closed_a_message_or_danger_now_is_refused_clearly_and_not_stored(
    settings: Settings, tmp_path: Path
) -> None:
    hours = tmp_path / "hours.yaml"
    hours.write_text(NEVER)
    async with routed(settings, hours_file=hours) as server:
        her, _ = await visitor(server)
        await her.send({"type": "request_chat"})
        refused = await her.receive("error", ref="request_chat")
        assert refused["code"] == "helpline_closed"
        # An old page still showing its message box, or a hand-written client, writes anyway.
        await her.send(
            {"type": "message", "conversation_id": 1, "client_id": "c-1", "body": "Are you there?"}
        )
        answer = await her.receive("error", ref="message")
        assert answer["code"] == "helpline_closed"
        assert answer["client_id"] == "c-1" and "opens_at" in answer
        await her.send({"type": "danger_now", "conversation_id": 1})
        danger = await her.receive("error", ref="danger_now")
        assert danger["code"] == "helpline_closed"
        await her.drain(0.3)
        assert her.of_type("ack") == [] and her.of_type("danger_noted") == []
        assert await _rows(server) == (0, 0), "nothing stored in no queue"
        await her.close()


async def test_while_full_her_message_is_refused_and_never_lands_in_anothers_chat(
    settings: Settings,
) -> None:
    async with routed(settings, surge_queue_limit=1) as server:
        first, first_chat = await waiting_woman(server)
        second, _ = await visitor(server)
        await second.send({"type": "request_chat"})
        assert (await second.receive("error", ref="request_chat"))["code"] == "helpline_full"
        before = await _rows(server)
        # Even naming a real conversation (the first woman's) stores nothing.
        await second.send(
            {"type": "message", "conversation_id": first_chat, "client_id": "x", "body": "hello"}
        )
        refused = await second.receive("error", ref="message")
        assert refused["code"] == "helpline_full" and refused["client_id"] == "x"
        assert refused["opens_at"] is None
        await first.drain(0.3)
        assert first.of_type("message") == []
        assert await _rows(server) == before
        for client in (first, second):
            await client.close()


async def test_once_it_is_open_a_stray_message_is_still_not_found(settings: Settings) -> None:
    async with routed(settings) as server:
        her, _ = await visitor(server)
        await her.send({"type": "message", "conversation_id": 99, "client_id": "c", "body": "hi"})
        assert (await her.receive("error", ref="message"))["code"] == "not_found"
        await her.close()


async def test_she_hears_when_the_surge_is_over_and_starts_only_when_she_asks(
    settings: Settings, quick_watch: None
) -> None:
    async with routed(settings, surge_queue_limit=1) as server:
        first, first_chat = await waiting_woman(server)
        second, _ = await visitor(server)
        await second.send({"type": "request_chat"})
        assert (await second.receive("error"))["code"] == "helpline_full"
        await second.drain(0.6)
        assert second.of_type("helpline_status") == [], "still full: nothing to say"

        # The first woman leaves the queue: there is room again.
        await first.send({"type": "end", "conversation_id": first_chat})
        told = await second.receive("helpline_status", timeout=5)
        assert told == {"type": "helpline_status", "open": True, "code": None, "opens_at": None}
        # Told, not queued: nothing starts until she asks.
        conversations, _ = await _rows(server)
        assert conversations == 1
        await second.drain(0.6)
        assert len(second.of_type("helpline_status")) == 1, "told once"
        await second.send({"type": "request_chat"})
        await second.receive("queue")
        for client in (first, second):
            await client.close()


async def test_a_page_reconnected_on_the_closed_screen_asks_and_is_told_when_it_opens(
    settings: Settings, tmp_path: Path, quick_watch: None
) -> None:
    hours = tmp_path / "hours.yaml"
    hours.write_text(NEVER)
    async with routed(settings, hours_file=hours) as server:
        her, _ = await visitor(server)
        await her.send({"type": "watch_helpline"})
        status = await her.receive("helpline_status")
        assert status == {
            "type": "helpline_status",
            "open": False,
            "code": "helpline_closed",
            "opens_at": None,
        }
        # An admin sets the hours to "always open".
        assert server.services is not None
        server.services.features.replace(ServiceHours())
        assert (await her.receive("helpline_status", timeout=5))["open"] is True
        assert await _rows(server) == (0, 0)
        await her.close()


async def test_coming_back_with_a_code_while_closed_is_turned_away_and_the_code_kept(
    settings: Settings, tmp_path: Path
) -> None:
    hours = tmp_path / "hours.yaml"
    hours.write_text(NEVER)
    async with routed(settings, hours_file=hours) as server:
        her, _ = await visitor(server)
        await her.send({"type": "come_back", "code": "apple river ocean table"})
        refused = await her.receive("error", ref="come_back")
        assert refused["code"] == "helpline_closed"
        assert await _rows(server) == (0, 0)
        await her.close()


async def test_staff_are_never_watched(settings: Settings, tmp_path: Path) -> None:
    hours = tmp_path / "hours.yaml"
    hours.write_text(NEVER)
    async with routed(settings, hours_file=hours) as server:
        ada, _ = await adviser(server)
        await ada.send({"type": "watch_helpline"})
        assert (await ada.receive("error", ref="watch_helpline"))["code"] == "forbidden"
        await ada.close()
