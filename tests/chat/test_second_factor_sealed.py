"""The second factor's secret is encrypted at rest (issue 13): the column never holds the
key to her codes, older plain rows are sealed by `willow migrate` and by housekeeping, and
logging in with a code still works before and after."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx
import pyotp
from sqlalchemy import text

from chat.core.sealed import is_sealed
from chat.helpline.second_factor import seal_plain
from tests.chat.test_settings import _willow
from tests.wsclient import Server


async def _login(server: Server, body: dict[str, Any]) -> httpx.Response:
    async with server.http() as http:
        return await http.post("/api/staff/login", json=body)


async def _columns(server: Server, username: str) -> tuple[str | None, str | None]:
    assert server.services is not None
    async with server.services.db.read() as session:
        row = (
            await session.execute(
                text("SELECT totp_secret, totp_pending FROM staff WHERE username = :u"),
                {"u": username},
            )
        ).one()
    return row[0], row[1]


async def _enrol(server: Server, username: str, password: str) -> str:
    login = await server.login(username, password)
    async with server.http(cookies={"willow_staff": login.cookie}) as http:
        begun = await http.post("/api/staff/second-factor/begin", headers=login.headers)
        secret: str = begun.json()["secret"]
        pending = (await _columns(server, username))[1]
        assert pending is not None and secret not in pending and is_sealed(pending)
        done = await http.post(
            "/api/staff/second-factor/confirm",
            json={"code": pyotp.TOTP(secret).now()},
            headers=login.headers,
        )
        assert done.status_code == 200, done.text
    return secret


def _code(secret: str, steps_ahead: int) -> str:
    # The server accepts the neighbouring time step, and each step once: step ahead to log in
    # again without waiting half a minute.
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


async def test_the_column_holds_no_plain_secret_and_login_with_a_code_works(
    server: Server,
) -> None:
    username, password = await server.add_staff("supervisor")
    secret = await _enrol(server, username, password)
    stored, pending = await _columns(server, username)
    assert stored is not None and pending is None
    assert secret not in stored and secret.lower() not in stored.lower() and is_sealed(stored)
    body = {"username": username, "password": password}
    assert (await _login(server, body)).json()["detail"] == "code_required"
    assert (await _login(server, {**body, "code": _code(secret, 1)})).status_code == 200


async def test_a_plain_secret_from_before_still_works_and_is_sealed_in_place(
    server: Server,
) -> None:
    assert server.services is not None
    username, password = await server.add_staff("admin")
    secret = await _enrol(server, username, password)
    # As an older release stored it: the base32 key itself.
    async with server.services.db.write() as session:
        await session.execute(
            text("UPDATE staff SET totp_secret = :s, totp_last_step = NULL WHERE username = :u"),
            {"s": secret, "u": username},
        )
    body = {"username": username, "password": password}
    assert (await _login(server, {**body, "code": _code(secret, 0)})).status_code == 200

    key = server.services.settings.effective_secret_key
    assert await seal_plain(server.services.db, key) == 1
    stored = (await _columns(server, username))[0]
    assert stored is not None and secret not in stored and is_sealed(stored)
    assert await seal_plain(server.services.db, key) == 0, "sealed once"
    assert (await _login(server, {**body, "code": _code(secret, 1)})).status_code == 200


async def test_a_changed_secret_key_refuses_the_code_and_never_fails_the_server(
    server: Server,
) -> None:
    assert server.services is not None
    username, password = await server.add_staff("supervisor")
    secret = await _enrol(server, username, password)
    from chat.core.sealed import seal

    async with server.services.db.write() as session:
        await session.execute(
            text("UPDATE staff SET totp_secret = :s WHERE username = :u"),
            {"s": seal(secret, b"another server's key " * 3), "u": username},
        )
    body = {"username": username, "password": password, "code": _code(secret, 1)}
    assert (await _login(server, body)).status_code == 401


def test_willow_migrate_seals_the_secrets_an_older_release_stored(tmp_path: Path) -> None:
    database = tmp_path / "w.db"
    env = {"WILLOW_DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
    added = _willow(
        ["staff", "add", "--role", "supervisor", "--display-name", "Jo", "jo"], env, tmp_path
    )
    assert added.returncode == 0, added.stderr
    plain = pyotp.random_base32()
    with sqlite3.connect(database) as db:
        db.execute("UPDATE staff SET totp_secret = ? WHERE username = 'jo'", (plain,))
    migrated = _willow(["migrate"], env, tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    with sqlite3.connect(database) as db:
        (stored,) = db.execute("SELECT totp_secret FROM staff WHERE username = 'jo'").fetchone()
    assert is_sealed(stored) and plain not in stored
    assert plain.encode() not in database.read_bytes()
