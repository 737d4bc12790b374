"""Staff accounts: one spelling per name, honest display names, audited changes, new passwords."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from chat.core.models import AuditEntry
from chat.helpline.staff import StaffError, create_staff
from chat.helpline.staff_account import issue_reset_code
from tests.chat.test_settings import _willow
from tests.wsclient import Server

PASSWORD = "plum-orchard-lantern-42"


async def _audit(server: Server, action: str) -> list[AuditEntry]:
    assert server.services is not None
    async with server.services.db.read() as session:
        return list(await session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


@pytest.mark.parametrize(
    "twin", ["admin1 ", "Admin1", " ADMIN1", "\uff41\uff44\uff4d\uff49\uff4e1"]
)
async def test_a_look_alike_username_is_the_same_account(server: Server, twin: str) -> None:
    assert server.services is not None
    await create_staff(server.services, "admin1", "admin", PASSWORD, "Alex")
    with pytest.raises(StaffError, match="already exists"):
        await create_staff(server.services, twin, "admin", PASSWORD, "Alex")
    # And it logs in as the one account.
    assert (await server.login(twin, PASSWORD)).username == twin


@pytest.mark.parametrize("name", ["\u0430dmin1", "ad min", "", "a" * 65, "admin<1>"])
async def test_usernames_outside_the_plain_alphabet_are_refused(server: Server, name: str) -> None:
    assert server.services is not None
    with pytest.raises(StaffError, match="username"):
        await create_staff(server.services, name, "admin", PASSWORD, "Alex")


@pytest.mark.parametrize(
    "shown",
    ["Mentor", " mentor ", "M-e-n-t-o-r", "Supervisor2", "Advisers", "<b>Jo</b>", "Jo\u202e"],
)
async def test_role_words_and_markup_are_refused_as_display_names(
    server: Server, shown: str
) -> None:
    assert server.services is not None
    with pytest.raises(StaffError, match="display name"):
        await create_staff(server.services, "jo", "mentor", PASSWORD, shown)


async def test_creating_an_account_is_audited_with_who_did_it(server: Server) -> None:
    admin = await server.staff_session("admin")
    new = {"username": "amina.k", "display_name": "Amina", "role": "mentor", "password": PASSWORD}
    async with server.http(cookies={"willow_staff": admin.cookie}) as http:
        created = await http.post("/api/admin/staff", json=new, headers=admin.headers)
    assert created.status_code == 201
    entries = [
        e
        for e in await _audit(server, "staff.created")
        if e.subject == f"staff:{created.json()['id']}"
    ]
    [entry] = entries
    assert entry.actor.startswith("staff:") and entry.details == {"role": "mentor"}
    assert PASSWORD not in str(entry.details) + entry.reason


async def test_a_reset_code_sets_a_new_password_once_and_ends_every_login(server: Server) -> None:
    assert server.services is not None
    username, old = await server.add_staff("adviser")
    login = await server.login(username, old)
    code = await issue_reset_code(server.services, username, "cli")
    body = {"username": username, "reset_code": code, "new_password": "quiet-harbour-violet-19"}
    async with server.http() as http:
        weak = await http.post("/api/staff/password/reset", json={**body, "new_password": "a" * 12})
        assert weak.status_code == 422
        assert (await http.post("/api/staff/password/reset", json=body)).status_code == 204
        again = await http.post("/api/staff/password/reset", json=body)
        assert again.status_code == 403
        assert (
            await http.get("/api/staff/me", cookies={"willow_staff": login.cookie})
        ).status_code == 401
    await server.login(username, "quiet-harbour-violet-19")
    async with server.http() as http:
        wrong = await http.post("/api/staff/login", json={"username": username, "password": old})
    assert wrong.status_code == 401
    assert await _audit(server, "staff.password_reset_issued")
    assert await _audit(server, "staff.password_reset")


async def test_changing_her_password_needs_the_current_one_and_ends_other_logins(
    server: Server,
) -> None:
    username, old = await server.add_staff("adviser")
    here, elsewhere = await server.login(username, old), await server.login(username, old)
    async with server.http(cookies={"willow_staff": here.cookie}) as http:
        change = {"current_password": "not-it-at-all-99", "new_password": "brisk-meadow-copper-73"}
        assert (
            await http.post("/api/staff/password", json=change, headers=here.headers)
        ).status_code == 403
        change["current_password"] = old
        assert (
            await http.post("/api/staff/password", json=change, headers=here.headers)
        ).status_code == 204
        assert (await http.get("/api/staff/me")).status_code == 200
    async with server.http(cookies={"willow_staff": elsewhere.cookie}) as http:
        assert (await http.get("/api/staff/me")).status_code == 401
    await server.login(username, "brisk-meadow-copper-73")
    assert await _audit(server, "staff.password_changed")


def test_the_command_line_lists_staff_and_issues_a_reset_code(tmp_path: Path) -> None:
    env = {"WILLOW_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'w.db'}"}
    added = ["staff", "add", "--role", "mentor", "--display-name", "Amina K", "Amina "]
    assert _willow(added, env, tmp_path).returncode == 0
    listed = _willow(["staff", "list"], env, tmp_path)
    assert listed.returncode == 0 and "amina" in listed.stdout and "mentor" in listed.stdout
    reset = _willow(["staff", "reset-password", "amina"], env, tmp_path)
    assert reset.returncode == 0 and "one-time reset code" in reset.stdout
    unknown = _willow(["staff", "reset-password", "nobody"], env, tmp_path)
    assert unknown.returncode != 0


def test_production_never_prints_first_passwords(tmp_path: Path) -> None:
    env = {
        "WILLOW_ENV": "production",
        "WILLOW_SECRET_KEY": "Zq8-" + "x7Tb2mK9pLwR4vN6cY1hJ3sD5fG8aQ0e",
        "WILLOW_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'w.db'}",
    }
    code = (
        "import asyncio; from chat.cli import _first_accounts, _settings;"
        "print(asyncio.run(_first_accounts(_settings())))"
    )
    assert _willow(["migrate"], env, tmp_path).returncode == 0
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "password:" not in result.stdout and result.stdout.strip().endswith("[]")
    assert "willow staff add --role admin" in result.stdout
    listed = _willow(["staff", "list"], env, tmp_path)
    rows = [line for line in listed.stdout.splitlines() if not line.startswith("willow: ")]
    assert len(rows) == 1  # the header line only: no account was made


async def test_guessing_reset_codes_is_limited_like_logins(server: Server) -> None:
    username, _ = await server.add_staff("adviser")
    body = {"username": username, "reset_code": "guess", "new_password": "quiet-harbour-violet-19"}
    async with server.http() as http:
        answers = [
            (await http.post("/api/staff/password/reset", json=body)).status_code for _ in range(7)
        ]
    assert answers[:5] == [403] * 5 and answers[-1] == 429
