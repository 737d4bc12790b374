"""Names, capacity, a second tab, the quick exit, forgetting old sessions, and bad data files."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from chat.app import create_app
from chat.core.clock import now
from chat.core.models import Event
from chat.core.settings import Settings
from chat.helpline.retention import purge_unused_visitor_sessions
from peers.install import RoomsSetupError
from peers.models import RoomParticipant, RoomSession
from peers.naming import is_taken, looks_like_staff, name_key
from peers.rooms import expire_abandoned, purge_closed_sessions
from peers.routes import busy_band
from tests.peers.roomkit import ROOM, RoomServer, close_all, mentor_in, said, woman_in
from tests.wsclient import visitor

# --- pure parts ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["Mentor", "mentor rose", "M3nt0r", "WILLOW", "Admin 2", "ad min", "The Moderator", "مرشدة"],
)
def test_names_that_pass_for_staff_are_refused(name: str) -> None:
    assert looks_like_staff(name)


@pytest.mark.parametrize("name", ["Quiet Heron 27", "Rose", "Admiral", "Monique", "Calm River"])
def test_ordinary_names_are_fine(name: str) -> None:
    assert not looks_like_staff(name, ["Sam Jones"])


def test_a_staff_members_own_name_is_refused() -> None:
    assert looks_like_staff("sam  jones", ["Sam Jones"])


def test_names_are_the_same_whatever_the_case_or_spacing() -> None:
    assert name_key(" Quiet   HERON 27 ") == name_key("quiet heron 27")
    assert is_taken("quiet heron 27", ["Quiet Heron 27"]) and not is_taken("Rose", ["Rosa"])


@pytest.mark.parametrize(
    ("present", "capacity", "band"),
    [
        (0, 30, "quiet"),
        (4, 30, "quiet"),
        (5, 30, "some"),
        (14, 30, "some"),
        (15, 30, "busy"),
        (29, 30, "busy"),
        (30, 30, "full"),
        (3, 3, "full"),
    ],
)
def test_busy_is_a_band_not_a_head_count(present: int, capacity: int, band: str) -> None:
    assert busy_band(present, capacity) == band


# --- renaming ----------------------------------------------------------------------------------


async def test_she_may_change_her_name_within_the_rules(rooms: RoomServer) -> None:
    mentor, _ = await mentor_in(rooms.server)
    her = await woman_in(rooms.server)
    other = await woman_in(rooms.server)
    cases = [
        ("Mentor", "staff_name"),
        ("Willow Team", "staff_name"),
        (other.name.upper(), "taken"),
        ("x", "too_short"),
        ("call me 07700900123", "looks_like_contact"),
        ("<b>Rose</b>", "bad_characters"),
    ]
    for wanted, reason in cases:
        await her.client.send({"type": "room_rename", "pseudonym": wanted})
        refused = await her.client.receive("error", code="name_refused")
        assert refused["reason"] == reason, wanted
    await her.client.send({"type": "room_rename", "pseudonym": "  Rose  "})
    renamed = await other.client.receive("room_renamed")
    assert (renamed["old"], renamed["name"]) == (her.name, "Rose")
    await said(her.client, "r", "it's me")
    assert (await other.client.receive("room_message", client_id="r"))["name"] == "Rose"
    for client in (her.client, other.client, mentor):
        await client.close()


# --- capacity, a second connection, the quick exit ----------------------------------------------


async def test_a_full_room_says_so(rooms: RoomServer) -> None:
    room = rooms.runtime.catalogue["older-women"]
    # A small room keeps the test quick; the check is the same at any size.
    object.__setattr__(room, "capacity", 3)
    mentor, _ = await mentor_in(rooms.server, "older-women")
    women = [await woman_in(rooms.server, "older-women") for _ in range(3)]
    late, _ = await visitor(rooms.server)
    await late.send({"type": "room_join", "room": "older-women", "accept_rules": True})
    await late.receive("error", code="room_full")
    async with rooms.server.http() as client:
        listed = {r["id"]: r for r in (await client.get("/api/rooms")).json()["rooms"]}
    assert listed["older-women"]["busy"] == "full"
    # When someone leaves, there is room again.
    await women[0].client.send({"type": "room_leave"})
    await women[0].client.receive("room_exit")
    await late.send({"type": "room_join", "room": "older-women", "accept_rules": True})
    await late.receive("room_welcome")
    for client in [late, mentor, *(w.client for w in women)]:
        await client.close()


async def test_a_second_connection_takes_her_place_from_the_first(rooms: RoomServer) -> None:
    mentor, _ = await mentor_in(rooms.server)
    her = await woman_in(rooms.server)
    second, _ = await visitor(rooms.server, her.token)
    await second.send({"type": "room_join", "room": ROOM, "accept_rules": True})
    welcome = await second.receive("room_welcome")
    assert welcome["participant"] == her.participant and welcome["returning"] is True
    assert (await her.client.receive("room_exit"))["reason"] == "replaced"
    await said(mentor, "m", "hello")
    await second.receive("room_message", client_id="m")
    await her.client.drain(0.3)
    assert her.client.of_type("room_message") == []
    for client in (her.client, second, mentor):
        await client.close()


async def test_after_the_quick_exit_she_is_gone_at_once(rooms: RoomServer) -> None:
    rooms.runtime.tuning.participant_grace_seconds = 60
    mentor, _ = await mentor_in(rooms.server)
    her = await woman_in(rooms.server)
    async with rooms.server.http() as client:
        response = await client.post(
            "/api/visitor/exit",
            content=f'{{"token": "{her.token}"}}',
            headers={"content-type": "text/plain"},
        )
        assert response.status_code == 204
    await her.client.close()
    assert (await mentor.receive("room_left", timeout=3))["name"] == her.name
    await mentor.close()


# --- forgetting ----------------------------------------------------------------------------------


async def test_closed_sessions_are_forgotten_after_the_retention_period(rooms: RoomServer) -> None:
    server = rooms.server
    assert server.services is not None
    mentor, state = await mentor_in(server)
    her = await woman_in(server)
    await said(her.client, "a", "something personal")
    await mentor.send({"type": "room_close"})
    await her.client.receive("room_closed")
    session_id = state["stream_id"]
    days = server.services.settings.transcript_retention_days
    assert await purge_closed_sessions(server.services) == 0
    async with server.services.db.write() as db:
        await db.execute(
            update(RoomSession)
            .where(RoomSession.id == session_id)
            .values(closed_at=now() - timedelta(days=days, minutes=1))
        )
    assert await purge_closed_sessions(server.services) == 1
    async with server.services.db.read() as db:
        assert await db.get(RoomSession, session_id) is None
        left = await db.scalar(
            select(func.count()).select_from(Event).where(Event.stream_id == session_id)
        )
        people = await db.scalar(
            select(func.count())
            .select_from(RoomParticipant)
            .where(RoomParticipant.session_id == session_id)
        )
    assert (left, people) == (0, 0)
    for client in (her.client, mentor):
        await client.close()


# --- bad data files stop the start ----------------------------------------------------------------


def _settings(tmp_path: Path, **files: Path) -> Settings:
    return Settings(
        env="test",
        secret_key=secrets.token_urlsafe(48),
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'w.db'}",
        **files,
    )


def test_a_missing_rooms_file_stops_the_start_with_its_name(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"
    with pytest.raises(RoomsSetupError) as caught:
        create_app(_settings(tmp_path, rooms_file=missing))
    assert "WILLOW_ROOMS_FILE" in str(caught.value) and str(missing) in str(caught.value)


def test_a_bad_rooms_file_names_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "rooms.yaml"
    bad.write_text("- id: Bad Id\n  name: x\n", encoding="utf-8")
    with pytest.raises(RoomsSetupError) as caught:
        create_app(_settings(tmp_path, rooms_file=bad))
    message = str(caught.value)
    assert "not a valid room id" in message and "description: this field is missing" in message


def test_a_schedule_naming_an_unknown_room_stops_the_start(tmp_path: Path) -> None:
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text("weekly:\n  - room: nosuch\n    days: [monday]\n", encoding="utf-8")
    with pytest.raises(RoomsSetupError) as caught:
        create_app(_settings(tmp_path, schedule_file=schedule))
    assert "WILLOW_SCHEDULE_FILE" in str(caught.value) and "nosuch" in str(caught.value)


def test_the_settings_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rooms_file = tmp_path / "r.yaml"
    monkeypatch.setenv("WILLOW_ROOMS_FILE", str(rooms_file))
    monkeypatch.setenv("WILLOW_SCHEDULE_FILE", str(tmp_path / "s.yaml"))
    settings = Settings()
    assert settings.rooms_file == rooms_file and settings.schedule_file == tmp_path / "s.yaml"


async def test_a_seat_in_a_room_keeps_her_session_from_the_unused_session_purge(
    rooms: RoomServer,
) -> None:
    server = rooms.server
    assert server.services is not None
    mentor, _ = await mentor_in(server)
    her = await woman_in(server)
    later = now() + timedelta(hours=server.services.settings.visitor_session_hours, minutes=1)
    assert await purge_unused_visitor_sessions(server.services, later) == 0
    await said(her.client, "still", "still here")
    await close_all(mentor, her.client)


async def test_housekeeping_does_what_grace_timers_lost_with_a_node_would_have_done(
    rooms: RoomServer,
) -> None:
    """A node died holding the timers: one for a woman whose connection had dropped, one for
    a room whose last mentor had gone. Housekeeping lets her out and closes the room."""
    server = rooms.server
    assert server.services is not None
    mentor, state = await mentor_in(server)
    her = await woman_in(server)
    other = await woman_in(server)
    long_ago = now() - timedelta(minutes=10)
    assert await expire_abandoned(rooms.runtime) == 0
    async with server.services.db.write() as db:
        await db.execute(
            update(RoomParticipant)
            .where(RoomParticipant.id == her.participant)
            .values(disconnected_at=long_ago)
        )
    assert await expire_abandoned(rooms.runtime) == 1
    assert (await other.client.receive("room_left"))["name"] == her.name

    async with server.services.db.write() as db:
        await db.execute(
            update(RoomSession)
            .where(RoomSession.id == state["stream_id"])
            .values(mentors_present=0, mentor_left_at=long_ago)
        )
    assert await expire_abandoned(rooms.runtime) == 1
    await other.client.receive("room_closed")
    assert (await other.client.receive("room_exit"))["reason"] == "closed"
    await close_all(mentor, her.client, other.client)
