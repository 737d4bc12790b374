"""Admins edit what the service configures, live (issue 14 "admin pages"): each kind is saved,
used at once, refused with the data file's own error when wrong (keeping what was saved),
reset to the shipped default, refused to anyone but an admin, and audited."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from chat.core.models import AuditEntry
from tests.peers.roomkit import mentor_in
from tests.wsclient import Server, StaffLogin, visitor

Body = dict[str, Any]


@dataclass
class Case:
    """A kind: a change to its default, what the change does, and a change it refuses."""

    kind: str
    change: Callable[[Body], Body]
    used: Callable[[Server, StaffLogin], Awaitable[bool]]
    wrong: Callable[[Body], Body]
    error: str


def _hours_closed(_default: Body | None) -> Body:
    # Open only on 1 January 2000: closed now.
    return {"timezone": "Europe/London", "weekly": {}, "special": {"2000-01-01": ["10:00-12:00"]}}


async def _told_closed(server: Server, _admin: StaffLogin) -> bool:
    her, _ = await visitor(server)
    await her.send({"type": "request_chat"})
    try:
        while True:
            answer = await her.receive_any(timeout=10)
            if answer["type"] in ("error", "queue"):
                return answer.get("code") == "helpline_closed"
    finally:
        await her.close()


async def _config(server: Server) -> Body:
    async with server.http() as http:
        found: Body = (await http.get("/api/config")).json()
    return found


async def _as_staff(server: Server, login: StaffLogin, path: str) -> Any:
    async with server.http(cookies={"willow_staff": login.cookie}) as http:
        return (await http.get(path)).json()


def _rename_room(body: Body) -> Body:
    body["rooms"][0]["name"] = "Evening welcome"
    return body


def _room_missing_rules(body: Body) -> Body:
    del body["rooms"][0]["ground_rules"]
    return body


async def _room_renamed(server: Server, _admin: StaffLogin) -> bool:
    async with server.http() as http:
        rooms = (await http.get("/api/rooms")).json()["rooms"]
    return any(room["name"] == "Evening welcome" for room in rooms)


NEW_HELPLINE = {
    "id": "harbour-line",
    "name": "Harbour Line",
    "contacts": [{"kind": "phone", "value": "0800 123 456"}],
    "nations": ["uk"],
    "categories": ["emotional_support"],
}


def _add_helpline(body: Body) -> Body:
    body["helplines"].append(NEW_HELPLINE)
    return body


def _bad_helpline(body: Body) -> Body:
    body["helplines"].append({**NEW_HELPLINE, "contacts": [{"kind": "phone", "value": "call"}]})
    return body


async def _helpline_listed(server: Server, admin: StaffLogin) -> bool:
    found = await _as_staff(server, admin, "/api/directory?q=harbour")
    return [item["id"] for item in found] == ["harbour-line"]


def _add_outcome(body: Body) -> Body:
    body["outcomes"].append({"id": "signposted_legal", "label": "Signposted to legal advice"})
    return body


def _twice_outcome(body: Body) -> Body:
    body["outcomes"].append(dict(body["outcomes"][0]))
    return body


async def _outcome_offered(server: Server, admin: StaffLogin) -> bool:
    codes = await _as_staff(server, admin, "/api/staff/outcomes")
    return "signposted_legal" in [code["id"] for code in codes["outcomes"]]


def _one_group(body: Body) -> Body:
    return {"groups": body["groups"][:1]}


def _reply_without_english(body: Body) -> Body:
    body["groups"][0]["replies"][0]["text"] = {"pl": "Cześć"}
    return body


async def _canned_edited(server: Server, admin: StaffLogin) -> bool:
    library = await _as_staff(server, admin, "/api/staff/canned")
    return bool(library["edited"]) and len(library["groups"]) == 1


CASES = [
    Case("hours", _hours_closed, _told_closed, lambda b: {"timezone": "Mars/Base"}, "time zone"),
    Case(
        "retention",
        lambda b: {**b, "transcript_retention_days": 7},
        lambda s, _a: _config_says(s, "retention_days", 7),
        lambda b: {**b, "transcript_retention_days": 0},
        "transcript_retention_days: Input should be greater than or equal to 1",
    ),
    Case(
        "branding",
        lambda b: {**b, "name": "Harbour"},
        lambda s, _a: _config_words(s, "page.heading", "Harbour"),
        lambda b: {**b, "colours": {"accent": "teal"}},
        "colours.accent",
    ),
    Case("rooms", _rename_room, _room_renamed, _room_missing_rules, "ground_rules"),
    Case("directory", _add_helpline, _helpline_listed, _bad_helpline, "harbour-line"),
    Case("outcomes", _add_outcome, _outcome_offered, _twice_outcome, "used twice"),
    Case("canned", _one_group, _canned_edited, _reply_without_english, "English"),
]


async def _config_says(server: Server, key: str, value: object) -> bool:
    return bool((await _config(server))[key] == value)


async def _config_words(server: Server, key: str, value: str) -> bool:
    return bool((await _config(server))["messages"].get(key) == value)


async def _audited(server: Server, kind: str) -> list[str]:
    assert server.services is not None
    async with server.services.db.read() as session:
        rows = await session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.subject.like(f"document:{kind}:%"))
            .order_by(AuditEntry.id)
        )
        return list(rows)


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
async def test_an_admin_saves_resets_and_a_wrong_body_changes_nothing(
    server: Server, case: Case
) -> None:
    admin = await server.staff_session("admin")
    path = f"/api/admin/documents/{case.kind}"
    async with server.http(cookies={"willow_staff": admin.cookie}, headers=admin.headers) as http:
        shipped = (await http.get(path)).json()
        assert shipped["edited"] is False and shipped["body"] == shipped["default"]
        assert not await case.used(server, admin)

        changed = case.change(copy.deepcopy(shipped["body"]))
        saved = await http.put(path, json=changed)
        assert saved.status_code == 200, saved.text
        assert saved.json()["edited"] is True
        assert await case.used(server, admin)

        # A wrong body is refused with the data file's error; the saved version stays in use.
        refused = await http.put(path, json=case.wrong(copy.deepcopy(saved.json()["body"])))
        assert refused.status_code == 422
        assert case.error in refused.json()["detail"]
        assert (await http.get(path)).json()["body"] == saved.json()["body"]
        assert await case.used(server, admin)

        reset = await http.post(f"{path}/reset")
        assert reset.status_code == 200
        assert reset.json()["edited"] is False
        assert reset.json()["body"] == shipped["body"]
        assert not await case.used(server, admin)
    assert await _audited(server, case.kind) == ["document.saved", "document.reset"]


async def test_only_admins_read_or_change_them(server: Server) -> None:
    for role in ("adviser", "supervisor", "mentor"):
        login = await server.staff_session(role)
        async with server.http(
            cookies={"willow_staff": login.cookie}, headers=login.headers
        ) as http:
            assert (await http.get("/api/admin/documents")).status_code == 403
            assert (await http.get("/api/admin/documents/hours")).status_code == 403
            answer = await http.put("/api/admin/documents/hours", json=_hours_closed(None))
            assert answer.status_code == 403
            assert (await http.post("/api/admin/documents/hours/reset")).status_code == 403
    async with server.http() as http:
        assert (await http.get("/api/admin/documents/hours")).status_code == 401
    admin = await server.staff_session("admin")
    async with server.http(cookies={"willow_staff": admin.cookie}) as http:
        # An admin's cookie without the page's CSRF token changes nothing.
        forged = await http.put("/api/admin/documents/hours", json=_hours_closed(None))
        assert forged.status_code == 403
        assert (await http.post("/api/admin/documents/hours/reset")).status_code == 403
    assert await _audited(server, "hours") == []
    her, _ = await visitor(server)
    await her.send({"type": "request_chat"})
    await her.receive("queue")
    await her.close()


async def test_bad_requests_are_named_and_lose_nothing(server: Server) -> None:
    admin = await server.staff_session("admin")
    async with server.http(cookies={"willow_staff": admin.cookie}, headers=admin.headers) as http:
        kinds = (await http.get("/api/admin/documents")).json()["documents"]
        assert [k["kind"] for k in kinds] == [
            "branding", "canned", "outcomes", "retention", "hours", "directory", "rooms",
        ]  # fmt: skip
        saved = await http.put("/api/admin/documents/outcomes", json=_add_outcome(
            (await http.get("/api/admin/documents/outcomes")).json()["body"]
        ))  # fmt: skip
        assert saved.status_code == 200
        not_json = await http.put(
            "/api/admin/documents/outcomes",
            content=b"outcomes: [",
            headers={"content-type": "application/json"},
        )
        assert not_json.status_code == 400 and "JSON" in not_json.json()["detail"]
        scalar = await http.put("/api/admin/documents/outcomes", json="everything")
        assert scalar.status_code == 422 and "JSON object" in scalar.json()["detail"]
        big = await http.put(
            "/api/admin/documents/outcomes", content=b"[" + b"0," * 300_000 + b"0]"
        )
        assert big.status_code == 413
        unknown = await http.get("/api/admin/documents/wallpaper")
        assert unknown.status_code == 404 and "can be edited: branding" in unknown.json()["detail"]
        rooms = (await http.get("/api/admin/documents/rooms")).json()["body"]
        rooms["schedule"]["weekly"].append({"room": "no-such-room", "days": ["monday"]})
        refused = await http.put("/api/admin/documents/rooms", json=rooms)
        assert refused.status_code == 422
        assert "schedule:" in refused.json()["detail"]
        assert "no-such-room" in refused.json()["detail"]
        still = (await http.get("/api/admin/documents/outcomes")).json()
        assert still["edited"] is True
        assert "signposted_legal" in [c["id"] for c in still["body"]["outcomes"]]


async def test_the_exit_address_of_the_pages_follows_the_branding(server: Server) -> None:
    admin = await server.staff_session("admin")
    async with server.http(cookies={"willow_staff": admin.cookie}, headers=admin.headers) as http:
        body = (await http.get("/api/admin/documents/branding")).json()["body"]
        saved = await http.put(
            "/api/admin/documents/branding",
            json={**body, "exit_url": "https://example.org/weather"},
        )
        assert saved.status_code == 200
        page = await http.get("/")
        assert 'href="https://example.org/weather"' in page.text
        assert (await _config(server))["exit_url"] == "https://example.org/weather"


async def test_a_room_open_now_cannot_be_removed(server: Server) -> None:
    room, _state = await mentor_in(server, "newcomers")
    admin = await server.staff_session("admin")
    async with server.http(cookies={"willow_staff": admin.cookie}, headers=admin.headers) as http:
        body = (await http.get("/api/admin/documents/rooms")).json()["body"]
        body["rooms"] = [r for r in body["rooms"] if r["id"] != "newcomers"]
        for section in ("weekly", "one_off", "cancelled"):
            body["schedule"][section] = [
                entry for entry in body["schedule"].get(section, []) if entry["room"] != "newcomers"
            ]
        refused = await http.put("/api/admin/documents/rooms", json=body)
        assert refused.status_code == 422
        assert "newcomers has a session open now" in refused.json()["detail"]
        assert (await http.get("/api/admin/documents/rooms")).json()["edited"] is False
    await room.close()
