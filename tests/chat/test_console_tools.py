"""The adviser's console tools through a real server: notes, transfer, wrap-up, canned replies,
her feedback; and the data files' checks at start."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from chat.app import create_app
from chat.core.clock import now
from chat.core.models import Event, Staff
from chat.core.settings import Settings
from chat.helpline.canned import CANNED_FILE, load_library
from chat.helpline.choices import LANGUAGES
from chat.helpline.models import Feedback, WrapUp
from chat.helpline.retention import purge_expired
from chat.helpline.wrapup import load_outcomes
from chat.reporting.models import ReportCount
from moderation.datafiles import DataFileError
from moderation.wording import check_wording
from tests.wsclient import Client, Server, StaffLogin, connected_pair, staff, visitor


async def _pair(server: Server) -> tuple[Client, Client, int, str, StaffLogin]:
    """Her and an adviser talking, with the adviser's login for reconnecting."""
    login = await server.staff_session("adviser")
    adviser = await staff(server, login)
    her, token = await visitor(server)
    await her.send({"type": "request_chat"})
    queued = await her.receive("queue")
    await adviser.send({"type": "set_available", "available": True})
    await adviser.send({"type": "take_next"})
    await adviser.receive("assigned", conversation_id=queued["conversation_id"])
    await her.receive("assigned")
    return her, adviser, queued["conversation_id"], token, login


async def _staff_id(server: Server, login: StaffLogin) -> int:
    assert server.services is not None
    async with server.services.db.read() as session:
        found = await session.scalar(select(Staff.id).where(Staff.username == login.username))
    assert found is not None
    return int(found)


async def _count(server: Server, model: type) -> int:
    assert server.services is not None
    async with server.services.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_note_reaches_staff_and_never_her(server: Server) -> None:
    her, adviser, chat, token = await connected_pair(server)
    await adviser.send({"type": "note", "conversation_id": chat, "body": "She has two children"})
    note = await adviser.receive("note")
    assert note["body"] == "She has two children"
    await her.send({"type": "message", "conversation_id": chat, "client_id": "a", "body": "hi"})
    await her.receive("ack")
    assert "note" not in her.types()
    # A reload (her replay, the adviser's replay) keeps it on the staff side only.
    again, _ = await visitor(server, token, resume=[{"conversation_id": chat, "last_seq": 0}])
    await again.drain(0.3)
    assert "note" not in again.types()
    # Empty or too long is invalid; someone else's chat is not found.
    await adviser.send({"type": "note", "conversation_id": chat, "body": ""})
    assert (await adviser.receive("error"))["code"] == "invalid"
    other = await staff(server, await server.staff_session("adviser"))
    await other.send({"type": "note", "conversation_id": chat, "body": "x"})
    assert (await other.receive("error"))["code"] == "not_found"


async def test_wrap_up_is_needed_before_the_chat_leaves_the_list(server: Server) -> None:
    _her, adviser, chat, _, login = await _pair(server)
    wrap = {
        "type": "wrap_up",
        "conversation_id": chat,
        "summary": "Talked about a safety plan",
        "outcomes": ["safety_planning"],
        "categories": ["domestic_abuse"],
    }
    await adviser.send(wrap)
    assert (await adviser.receive("error"))["code"] == "not_ended"
    await adviser.send({"type": "end", "conversation_id": chat})
    await adviser.receive("ended")
    # Reconnecting, the chat is still on her list until it is wrapped up.
    back = await staff(server, login)
    assert (await back.receive("wrapup_pending"))["conversations"] == [chat]
    await back.send({**wrap, "outcomes": ["made_up"]})
    error = await back.receive("error")
    assert (error["code"], error["ref"]) == ("unknown_code", "wrap_up")
    assert "made_up" in error["message"]
    assert await _count(server, WrapUp) == 0
    await back.send(wrap)
    await back.receive("wrapped_up", conversation_id=chat)
    await back.send(wrap)
    assert (await back.receive("error"))["code"] == "already_wrapped_up"
    later = await staff(server, login)
    assert (await later.receive("wrapup_pending"))["conversations"] == []
    # The wrap-up goes with the transcript.
    assert server.services is not None
    days = server.services.settings.transcript_retention_days
    await purge_expired(server.services, now() + timedelta(days=days, minutes=1))
    assert await _count(server, WrapUp) == 0


async def test_warm_transfer_to_a_named_adviser(server: Server) -> None:
    her, giver, chat, _ = await connected_pair(server)
    await her.send({"type": "message", "conversation_id": chat, "client_id": "a", "body": "hi"})
    await giver.receive("message", client_id="a")
    taker_login = await server.staff_session("adviser", "rosa")
    taker = await staff(server, taker_login)
    taker_id = await _staff_id(server, taker_login)
    # Away advisers cannot be given a chat.
    await giver.send(
        {"type": "transfer", "conversation_id": chat, "to": "adviser", "staff_id": taker_id}
    )
    error = await giver.receive("error")
    assert (error["code"], error["reason"]) == ("transfer_refused", "away")
    await taker.send({"type": "set_available", "available": True})
    await taker.receive("status")
    await giver.send(
        {
            "type": "transfer",
            "conversation_id": chat,
            "to": "adviser",
            "staff_id": taker_id,
            "note": "Wants help with housing",
        }
    )
    await giver.receive("transfer_done", conversation_id=chat)
    await giver.receive("transferred_away", conversation_id=chat)
    told = await her.receive("transferred")
    assert told["adviser_name"] == "Rosa"
    # The receiver sees the whole chat, her first message and the note included.
    assert (await taker.receive("message", client_id="a"))["body"] == "hi"
    note = await taker.receive("transfer_note")
    assert (note["note"], note["to_staff_id"]) == ("Wants help with housing", taker_id)
    await her.drain(0.2)
    assert "transfer_note" not in her.types()
    await taker.send(
        {"type": "message", "conversation_id": chat, "client_id": "b", "body": "Hello, I'm Rosa"}
    )
    await her.receive("message", client_id="b")
    # The giver can no longer write in it.
    await giver.send({"type": "message", "conversation_id": chat, "client_id": "c", "body": "x"})
    assert (await giver.receive("error"))["code"] == "not_found"


async def test_transfer_to_a_supervisor_needs_one_available(server: Server) -> None:
    _her, giver, chat, _ = await connected_pair(server)
    await giver.send({"type": "transfer", "conversation_id": chat, "to": "supervisor"})
    error = await giver.receive("error")
    assert (error["code"], error["reason"]) == ("transfer_refused", "no_supervisor")
    boss = await staff(server, await server.staff_session("supervisor", "wyn"))
    await boss.send({"type": "set_available", "available": True})
    await boss.receive("status")
    await giver.send({"type": "transfer", "conversation_id": chat, "to": "supervisor"})
    assert (await giver.receive("transfer_done"))["to"] == "Wyn"
    await boss.receive("transfer_note", conversation_id=chat)


async def test_her_feedback_is_kept_apart_and_survives_the_purge(server: Server) -> None:
    her, adviser, chat, _ = await connected_pair(server)
    await her.send({"type": "feedback", "helped": "yes"})
    assert (await her.receive("error"))["code"] == "not_found"  # the chat has not ended
    await adviser.send({"type": "end", "conversation_id": chat})
    await her.receive("ended")
    await her.send({"type": "feedback"})
    assert (await her.receive("error"))["code"] == "invalid"
    await her.send({"type": "feedback", "helped": "a_little", "again": "yes"})
    await her.receive("feedback_thanks")
    await her.send({"type": "feedback", "helped": "no"})
    assert (await her.receive("error"))["code"] == "too_many"
    assert server.services is not None
    days = server.services.settings.transcript_retention_days
    await purge_expired(server.services, now() + timedelta(days=days, minutes=1))
    assert await _count(server, Event) == 0
    async with server.services.db.read() as session:
        rows = (await session.scalars(select(Feedback))).all()
    assert [(r.helped, r.listened, r.again, r.language) for r in rows] == [
        ("a_little", "not_given", "yes", "en")
    ]
    # Counted in the anonymised daily figures too, by answer.
    async with server.services.db.read() as session:
        cells = (
            await session.execute(
                select(ReportCount.dimension, ReportCount.value, ReportCount.count).where(
                    ReportCount.measure == "feedback"
                )
            )
        ).all()
    assert sorted(cells) == [
        ("again", "yes", 1),
        ("helped", "a_little", 1),
        ("listened", "not_given", 1),
        ("total", "all", 1),
    ]
    assert set(Feedback.__table__.columns.keys()) == {
        "id",
        "day",
        "language",
        "helped",
        "listened",
        "again",
    }


async def test_canned_library_read_by_staff_and_edited_by_admins(server: Server) -> None:
    adviser = await server.staff_session("adviser")
    admin = await server.staff_session("admin")
    async with server.http(cookies={"willow_staff": adviser.cookie}) as http:
        library = (await http.get("/api/staff/canned")).json()
    assert library["edited"] is False
    assert library["groups"][0]["id"] == "opening"
    changed = {"groups": [{**library["groups"][0], "replies": library["groups"][0]["replies"][:1]}]}
    async with server.http() as http:
        refused = await http.put(
            "/api/admin/canned",
            json=changed,
            headers=adviser.headers,
            cookies={"willow_staff": adviser.cookie},
        )
        assert refused.status_code == 403
        bad = {
            "groups": [
                {
                    "id": "x",
                    "title": "X",
                    "replies": [{"id": "a", "title": "A", "text": {"pl": "Cześć"}}],
                }
            ]
        }
        answer = await http.put(
            "/api/admin/canned",
            json=bad,
            headers=admin.headers,
            cookies={"willow_staff": admin.cookie},
        )
        assert answer.status_code == 422
        assert "English" in answer.json()["detail"]
        not_json = await http.put(
            "/api/admin/canned",
            content="groups:",
            headers=admin.headers,
            cookies={"willow_staff": admin.cookie},
        )
        assert not_json.status_code == 400
        unchanged = await http.get("/api/staff/canned", cookies={"willow_staff": admin.cookie})
        assert unchanged.json()["edited"] is False
        saved = await http.put(
            "/api/admin/canned",
            json=changed,
            headers=admin.headers,
            cookies={"willow_staff": admin.cookie},
        )
        assert saved.status_code == 200, saved.text
    async with server.http(cookies={"willow_staff": adviser.cookie}) as http:
        now_in_use = (await http.get("/api/staff/canned")).json()
    assert now_in_use["edited"] is True
    assert [len(g["replies"]) for g in now_in_use["groups"]] == [1]


def test_the_shipped_library_is_in_every_language_and_kind() -> None:
    library = load_library()
    for group in library.groups:
        for reply in group.replies:
            assert set(reply.text) == set(LANGUAGES), reply.id
            assert check_wording(reply.text["en"]) == (), reply.id


def test_bad_data_files_stop_the_start_naming_the_file(tmp_path: Path, settings: Settings) -> None:
    broken = tmp_path / "canned.yaml"
    broken.write_text(CANNED_FILE.read_text().replace("id: welcome", "id: not_your_fault"))
    with pytest.raises(
        DataFileError, match=r"canned.yaml: .*reply id\(s\) used twice: not_your_fault"
    ):
        load_library(broken)
    outcomes = tmp_path / "outcomes.yaml"
    outcomes.write_text("outcomes: []\ncategories:\n  - id: x\n    label: X\n")
    with pytest.raises(DataFileError, match=r"outcomes.yaml: outcomes: .*at least 1"):
        load_outcomes(outcomes)
    with pytest.raises(DataFileError, match=r"outcomes\.yaml"):
        create_app(settings.model_copy(update={"outcomes_file": outcomes}))
