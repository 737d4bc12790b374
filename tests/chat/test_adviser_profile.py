"""The adviser profile: languages, specialisms, capacity, training (API and command line)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from chat.core.models import AuditEntry
from tests.wsclient import Server


async def test_an_admin_reads_and_changes_a_profile_and_bad_values_change_nothing(
    server: Server,
) -> None:
    admin = await server.staff_session("admin")
    adviser = await server.staff_session("adviser")
    async with server.http(cookies={"willow_staff": admin.cookie}) as http:
        staff_list = (await http.get("/api/admin/staff")).json()
        adviser_id = next(s["id"] for s in staff_list if s["username"] == adviser.username)
        url = f"/api/admin/staff/{adviser_id}/profile"
        shown = (await http.get(url)).json()
        assert shown["languages"] == ["en"] and shown["specialisms"] is None
        assert shown["capacity"] == 3 and shown["trained"] is False
        change = {"languages": ["ur", "en"], "specialisms": ["forced_marriage_honour"]}
        assert (await http.put(url, json=change)).status_code == 403  # no CSRF token
        changed = await http.put(url, json=change, headers=admin.headers)
        assert changed.status_code == 200
        assert changed.json()["languages"] == ["en", "ur"]
        assert changed.json()["specialisms"] == ["forced_marriage_honour"]
        for bad in (
            {"languages": ["xx"]},
            {"specialisms": ["astrology"]},
            {"capacity": 0},
            {"capacity": "4"},
            {"languages": []},
            {"colour": "blue"},
        ):
            refused = await http.put(
                url,
                json={**bad, "capacity": 5} if "capacity" not in bad else bad,
                headers=admin.headers,
            )
            assert refused.status_code == 422, bad
        after = (await http.get(url)).json()
        assert after["languages"] == ["en", "ur"] and after["capacity"] == 3
        missing = await http.get("/api/admin/staff/999999/profile")
        assert missing.status_code == 404
    async with server.http(cookies={"willow_staff": adviser.cookie}) as http:
        assert (await http.get(url)).status_code == 403
    assert server.services is not None
    async with server.services.db.read() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "staff.profile"))
    assert entry is not None and entry.details["languages"] == ["en", "ur"]


def _willow(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chat.cli", *args],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_willow_staff_profile_shows_and_changes_it(tmp_path: Path) -> None:
    env = {"WILLOW_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'w.db'}"}
    assert _willow(["staff", "add", "--role", "adviser", "amina"], env, tmp_path).returncode == 0
    shown = _willow(["staff", "profile", "amina"], env, tmp_path)
    assert "languages en; specialisms not recorded (takes any topic); capacity 3" in shown.stdout
    assert "not recorded (takes no chats)" in shown.stdout
    changed = _willow(
        [
            "staff",
            "profile",
            "--languages",
            "ur,en",
            "--specialisms",
            "sex_work",
            "--capacity",
            "2",
            "amina",
        ],
        env,
        tmp_path,
    )
    assert changed.returncode == 0
    assert "languages en,ur; specialisms sex_work; capacity 2" in changed.stdout
    bad = _willow(["staff", "profile", "--languages", "klingon", "amina"], env, tmp_path)
    assert bad.returncode != 0 and "unknown language 'klingon'" in bad.stderr
    too_many = _willow(["staff", "profile", "--capacity", "99", "amina"], env, tmp_path)
    assert too_many.returncode != 0 and "--capacity" in too_many.stderr
    nobody = _willow(["staff", "profile", "nobody"], env, tmp_path)
    assert nobody.returncode != 0 and "no staff member 'nobody'" in nobody.stderr
    again = _willow(["staff", "profile", "amina"], env, tmp_path)
    assert "languages en,ur; specialisms sex_work; capacity 2" in again.stdout
