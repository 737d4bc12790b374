"""Routing on a real server: auto-assignment by language and training, the any-adviser offer,
honest estimates, closed hours and a surge, and staff hearing queue changes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from chat.core.models import Conversation
from chat.core.settings import Settings
from chat.helpline.staff import set_training
from tests.conftest import running_server
from tests.wsclient import Client, Server, StaffLogin, staff, visitor


@asynccontextmanager
async def routed(settings: Settings, **changes: Any) -> AsyncIterator[Server]:
    merged = {
        **settings.model_dump(),
        "assignment": "auto",
        "chats_need_training": True,
        **changes,
    }
    async with running_server(Settings(**merged)) as server:
        yield server


async def adviser(
    server: Server, languages: list[str] | None = None, trained: bool = True, **profile: Any
) -> tuple[Client, StaffLogin]:
    login = await server.staff_session("adviser")
    assert server.services is not None
    if languages is not None:
        profile["languages"] = languages
    if profile:
        await server.set_profile(login.username, **profile)
    if trained:
        await set_training(server.services, login.username, True, "test", "helpline course")
    client = await staff(server, login)
    await client.receive("queue_snapshot")
    await client.send({"type": "set_available", "available": True})
    await client.receive("status")
    return client, login


async def waiting_woman(server: Server, **choices: Any) -> tuple[Client, int]:
    her, _ = await visitor(server, await server.visitor_token(**choices))
    await her.send({"type": "request_chat"})
    queued = await her.receive("queue")
    return her, int(queued["conversation_id"])


async def test_auto_assignment_gives_her_to_the_adviser_who_reads_her_language(
    settings: Settings,
) -> None:
    async with routed(settings) as server:
        english, _ = await adviser(server)
        her, conversation = await waiting_woman(server, language="ur")
        await asyncio.sleep(0.5)
        assert english.of_type("assigned") == []
        urdu, _ = await adviser(server, languages=["ur", "en"])
        # No "take next": the chat is given to her and her socket joins it.
        assigned = await urdu.receive("assigned", conversation_id=conversation)
        triage = await urdu.receive("triage", conversation_id=conversation)
        assert triage["language"] == "ur" and triage["any_adviser"] is False
        await her.receive("assigned", conversation_id=conversation)
        assert assigned["adviser_name"]
        await urdu.send(
            {
                "type": "message",
                "conversation_id": conversation,
                "client_id": "r1",
                "body": "salaam",
            }
        )
        assert (await her.receive("message", client_id="r1"))["body"] == "salaam"
        assert english.of_type("assigned") == []


async def test_an_adviser_without_recorded_training_takes_no_chats(settings: Settings) -> None:
    async with routed(settings) as server:
        untrained, _ = await adviser(server, trained=False)
        _her, conversation = await waiting_woman(server)
        await untrained.send({"type": "take_next"})
        assert (await untrained.receive("error"))["code"] == "not_trained"
        await asyncio.sleep(0.5)
        assert untrained.of_type("assigned") == []
        trained, _ = await adviser(server)
        await trained.receive("assigned", conversation_id=conversation)


async def test_risk_goes_first_and_capacity_holds(settings: Settings) -> None:
    async with routed(settings) as server:
        calm, calm_id = await waiting_woman(server)
        urgent, urgent_id = await waiting_woman(server)
        await urgent.send(
            {
                "type": "message",
                "conversation_id": urgent_id,
                "client_id": "u1",
                "body": "he has a knife and he's outside the door right now",
            }
        )
        await urgent.receive("ack", client_id="u1")
        one, _ = await adviser(server, capacity=1)
        first = await one.receive("assigned")
        assert first["conversation_id"] == urgent_id
        await asyncio.sleep(0.5)
        assert len(one.of_type("assigned")) == 1
        # Her chat ends: the place is free and the calm chat is given at once.
        await one.send({"type": "end", "conversation_id": urgent_id})
        await one.receive("assigned", conversation_id=calm_id)
        await calm.receive("assigned", conversation_id=calm_id)


async def test_she_is_asked_before_any_adviser_answers_her_and_her_yes_is_kept(
    settings: Settings,
) -> None:
    async with routed(settings, match_wait_seconds=0.5) as server:
        english, _ = await adviser(server)
        her, conversation = await waiting_woman(server, language="so")
        offer = await her.receive("routing_offer", conversation_id=conversation, timeout=8)
        assert offer["seq"] >= 1
        assert english.of_type("assigned") == []  # never moved silently
        await her.send({"type": "any_adviser", "conversation_id": conversation, "accept": True})
        await her.receive("routing_choice", conversation_id=conversation)
        triage = await english.receive("triage", conversation_id=conversation)
        assert triage["language"] == "so" and triage["any_adviser"] is True
        await her.send({"type": "any_adviser", "conversation_id": conversation, "accept": True})
        assert (await her.receive("error"))["code"] == "not_found"  # no longer waiting
        await her.send({"type": "any_adviser", "conversation_id": 424242, "accept": True})
        assert (await her.receive("error"))["code"] == "not_found"
        await her.send({"type": "any_adviser", "conversation_id": conversation, "accept": "yes"})
        assert (await her.receive("error"))["code"] == "invalid"


async def test_her_estimate_is_honest_about_who_is_online(settings: Settings) -> None:
    async with routed(settings, assignment="pick") as server:
        her, conversation = await waiting_woman(server, language="ur")
        first = her.of_type("taken:queue")[-1]
        assert first["estimate"] is None  # no one who reads Urdu is online: no made-up wait
        busy, _ = await adviser(server, languages=["ur"], capacity=1)
        _other, other_id = await waiting_woman(server, language="ur")
        news = await her.receive("queue", conversation_id=conversation, timeout=6)
        assert news["estimate"] == {"low_minutes": 0, "high_minutes": 0}
        await busy.send({"type": "take_next"})
        await busy.receive("assigned", conversation_id=conversation)
        other_news = [e for e in _other.events if e.get("conversation_id") == other_id]
        assert other_news and other_news[-1]["position"] == 2


async def test_closed_hours_refuse_honestly_and_leave_no_queue(
    settings: Settings, tmp_path: Path
) -> None:
    hours = tmp_path / "hours.yaml"
    # Open only on 1 January 2000: closed now, and nothing opens within four weeks.
    hours.write_text(
        "timezone: Europe/London\nweekly: {}\nspecial:\n  2000-01-01: ['10:00-12:00']\n"
    )
    async with routed(settings, hours_file=hours) as server:
        her, _ = await visitor(server)
        await her.send({"type": "request_chat"})
        refused = await her.receive("error")
        assert refused["code"] == "helpline_closed" and refused["opens_at"] is None
        assert refused["ref"] == "request_chat"
        assert server.services is not None
        async with server.services.db.read() as session:
            assert await session.scalar(select(func.count()).select_from(Conversation)) == 0
    weekly = tmp_path / "weekly.yaml"
    weekly.write_text(
        "weekly:\n" + "".join(f"  {d}: ['00:00-00:01']\n" for d in ("monday", "tuesday"))
    )
    async with routed(settings, hours_file=weekly) as server:
        her, _ = await visitor(server)
        await her.send({"type": "request_chat"})
        refused = await her.receive("error")
        # Closed but for the first minute of Mondays and Tuesdays: told when it next opens.
        assert refused["code"] == "helpline_closed" and "T00:00:00+" in refused["opens_at"]


async def test_a_surge_limit_turns_new_chats_away_with_the_truth(settings: Settings) -> None:
    async with routed(settings, surge_queue_limit=1) as server:
        _first, _ = await waiting_woman(server)
        second, _ = await visitor(server)
        await second.send({"type": "request_chat"})
        refused = await second.receive("error")
        assert refused["code"] == "helpline_full" and refused["opens_at"] is None


async def test_staff_hear_changes_not_the_whole_queue(settings: Settings) -> None:
    async with routed(settings, assignment="pick") as server:
        for _ in range(5):
            await waiting_woman(server)
        watcher, _ = await adviser(server)
        await watcher.drain(0.3)
        _her, conversation = await waiting_woman(server)
        news = await watcher.receive("queue_changes")
        while not news["added"]:
            news = await watcher.receive("queue_changes")
        assert [e["conversation_id"] for e in news["added"]] == [conversation]
        assert news["removed"] == [] and news["changed"] == []
        taker, _ = await adviser(server)
        await taker.send({"type": "take_next"})
        taken = (await taker.receive("assigned"))["conversation_id"]
        gone = await watcher.receive("queue_changes")
        while taken not in gone["removed"]:
            gone = await watcher.receive("queue_changes")
        assert gone["added"] == []
