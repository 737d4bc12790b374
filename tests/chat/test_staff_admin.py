"""The admin's staff accounts (issue 14): invite with a one-time code, change role and display
name, reset a password, disable; every change audited; the command line shares the rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from chat.core.models import AuditEntry
from chat.helpline import staff_admin
from chat.helpline.staff import StaffError, create_staff
from tests.chat.lifecycle import assert_ended
from tests.chat.test_settings import _willow
from tests.wsclient import Server, StaffLogin, staff

NEW_PASSWORD = "quiet-harbour-violet-19"


async def _audit(server: Server, action: str) -> list[AuditEntry]:
    assert server.services is not None
    async with server.services.db.read() as session:
        return list(await session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


async def _as(
    server: Server, who: StaffLogin, method: str, path: str, body: Any = None
) -> tuple[int, Any]:
    async with server.http(cookies={"willow_staff": who.cookie}) as http:
        response = await http.request(method, path, json=body, headers=who.headers)
    return response.status_code, response.json() if response.content else None


async def test_an_invited_person_sets_her_own_first_password_with_the_code(
    server: Server,
) -> None:
    admin = await server.staff_session("admin")
    status, made = await _as(
        server,
        admin,
        "POST",
        "/api/admin/staff/invite",
        {"username": "nadia", "display_name": "Nadia", "role": "adviser"},
    )
    assert status == 201 and made["valid_hours"] == 24 and len(made["reset_code"]) >= 32
    assert made["staff"]["username"] == "nadia" and made["staff"]["role"] == "adviser"
    reset = {"username": "nadia", "reset_code": made["reset_code"], "new_password": NEW_PASSWORD}
    async with server.http() as http:
        assert (await http.post("/api/staff/password/reset", json=reset)).status_code == 204
    assert (await server.login("nadia", NEW_PASSWORD)).display_name == "Nadia"
    (created,) = [
        e
        for e in await _audit(server, "staff.created")
        if e.subject == f"staff:{made['staff']['id']}"
    ]
    assert created.actor.startswith("staff:") and created.details == {"role": "adviser"}
    assert await _audit(server, "staff.password_reset_issued")


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({"username": "amina", "display_name": "Amina", "role": "mentor"}, "username"),
        ({"username": "amina", "display_name": "A.M.I.N.A", "role": "mentor"}, "username"),
        ({"username": "amina", "display_name": "Mentor", "role": "mentor"}, "role word"),
        ({"username": "amina", "display_name": "<i>Amy</i>", "role": "adviser"}, "markup"),
        ({"username": "am ina", "display_name": "Amy", "role": "adviser"}, "username"),
    ],
)
async def test_a_mentor_is_never_shown_by_her_username_and_bad_names_lose_nothing(
    server: Server, body: dict[str, str], why: str
) -> None:
    admin = await server.staff_session("admin")
    status, answer = await _as(server, admin, "POST", "/api/admin/staff/invite", body)
    assert status == 409 and why in answer["detail"]
    status, listed = await _as(server, admin, "GET", "/api/admin/staff")
    assert status == 200 and [s["username"] for s in listed] == [admin.username]
    # A mentor named by a name of her own is made.
    ok = {"username": "amina", "display_name": "Mina", "role": "mentor"}
    assert (await _as(server, admin, "POST", "/api/admin/staff/invite", ok))[0] == 201


async def test_a_new_role_is_audited_and_ends_her_logins_at_once(server: Server) -> None:
    admin = await server.staff_session("admin")
    username, password = await server.add_staff("adviser")
    login = await server.login(username, password)
    socket = await staff(server, login)
    staff_id = next(
        s["id"]
        for s in (await _as(server, admin, "GET", "/api/admin/staff"))[1]
        if s["username"] == username
    )
    status, changed = await _as(
        server, admin, "PATCH", f"/api/admin/staff/{staff_id}", {"role": "supervisor"}
    )
    assert status == 200 and changed["role"] == "supervisor"
    await assert_ended(socket)
    (entry,) = await _audit(server, "staff.role_changed")
    assert entry.subject == f"staff:{staff_id}" and entry.details == {
        "from": "adviser",
        "to": "supervisor",
    }
    status, renamed = await _as(
        server, admin, "PATCH", f"/api/admin/staff/{staff_id}", {"display_name": "  Rosa  M "}
    )
    assert status == 200 and renamed["display_name"] == "Rosa M"
    assert await _audit(server, "staff.display_name_changed")
    # Refused changes change nothing.
    for body in ({"display_name": "Supervisor"}, {"role": "owner"}, {"role": 1}):
        assert (await _as(server, admin, "PATCH", f"/api/admin/staff/{staff_id}", body))[0] in (
            409,
            422,
        )
    assert (await _as(server, admin, "PATCH", "/api/admin/staff/999999", {"role": "adviser"}))[
        0
    ] == 404
    listed = (await _as(server, admin, "GET", "/api/admin/staff"))[1]
    (row,) = [s for s in listed if s["id"] == staff_id]
    assert row["display_name"] == "Rosa M" and row["role"] == "supervisor"


async def test_an_admin_keeps_her_own_role_and_only_admins_run_accounts(server: Server) -> None:
    admin = await server.staff_session("admin")
    me = (await _as(server, admin, "GET", "/api/staff/me"))[1]["staff"]["id"]
    status, _ = await _as(server, admin, "PATCH", f"/api/admin/staff/{me}", {"role": "adviser"})
    assert status == 409
    supervisor = await server.staff_session("supervisor")
    for method, path, body in (
        ("GET", "/api/admin/staff", None),
        (
            "POST",
            "/api/admin/staff/invite",
            {"username": "x", "display_name": "X", "role": "admin"},
        ),
        ("PATCH", f"/api/admin/staff/{me}", {"role": "adviser"}),
        ("POST", f"/api/admin/staff/{me}/reset-code", None),
    ):
        assert (await _as(server, supervisor, method, path, body))[0] == 403


async def test_a_reset_code_from_the_page_replaces_the_earlier_one(server: Server) -> None:
    admin = await server.staff_session("admin")
    username, _ = await server.add_staff("adviser")
    staff_id = next(
        s["id"]
        for s in (await _as(server, admin, "GET", "/api/admin/staff"))[1]
        if s["username"] == username
    )
    first = (await _as(server, admin, "POST", f"/api/admin/staff/{staff_id}/reset-code"))[1]
    second = (await _as(server, admin, "POST", f"/api/admin/staff/{staff_id}/reset-code"))[1]
    async with server.http() as http:
        old = {
            "username": username,
            "reset_code": first["reset_code"],
            "new_password": NEW_PASSWORD,
        }
        assert (await http.post("/api/staff/password/reset", json=old)).status_code == 403
        new = {**old, "reset_code": second["reset_code"]}
        assert (await http.post("/api/staff/password/reset", json=new)).status_code == 204
    assert (await _as(server, admin, "POST", "/api/admin/staff/99999/reset-code"))[0] == 404


async def test_the_last_admin_cannot_be_disabled_or_demoted(server: Server) -> None:
    assert server.services is not None
    await create_staff(server.services, "only", "admin", "plum-orchard-lantern-42", "Olu")
    with pytest.raises(StaffError, match="last active admin"):
        await staff_admin.disable(server.services, "only", "cli")
    with pytest.raises(StaffError, match="last active admin"):
        await staff_admin.change_account(server.services, "only", "cli", role="adviser")
    await create_staff(server.services, "second", "admin", "plum-orchard-lantern-43", "Sade")
    assert (await staff_admin.disable(server.services, "only", "cli")).disabled


def test_the_command_line_refuses_a_mentor_without_a_name_of_her_own(tmp_path: Path) -> None:
    env = {"WILLOW_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'w.db'}"}
    bare = _willow(["staff", "add", "--role", "mentor", "amina"], env, tmp_path)
    assert bare.returncode != 0 and "display name" in bare.stderr
    same = _willow(
        ["staff", "add", "--role", "mentor", "--display-name", "Amina", "amina"], env, tmp_path
    )
    assert same.returncode != 0 and "username" in same.stderr
    listed = _willow(["staff", "list"], env, tmp_path)
    assert "amina" not in listed.stdout
