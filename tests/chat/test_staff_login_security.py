"""Staff logins under attack: guessing, flooding, weak passwords, and the second factor."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pyotp
import pytest

from chat.core.settings import Settings
from chat.helpline.staff import StaffError, create_staff
from tests.conftest import running_server
from tests.wsclient import Client, Server

PROXY_SETTINGS = {"forwarded_allow_ips": ["127.0.0.1"]}


def _with(settings: Settings, **changes: Any) -> Settings:
    return Settings(**{**settings.model_dump(), **changes})


async def _login(server: Server, body: dict[str, Any], address: str | None = None) -> Any:
    headers = {"X-Forwarded-For": address} if address else {}
    async with server.http() as http:
        return await http.post("/api/staff/login", json=body, headers=headers)


async def test_guessing_locks_the_account_even_for_the_right_password(
    behind_proxy: Server,
) -> None:
    server = behind_proxy
    username, password = await server.add_staff("admin")
    # Guesses from several addresses: the account's count is what locks it.
    for n in range(5):
        guess = {"username": username, "password": "nope" * 4}
        assert (await _login(server, guess, f"192.0.2.{n}")).status_code == 401
    right = await _login(server, {"username": username, "password": password}, "203.0.113.1")
    assert right.status_code == 429 and int(right.headers["retry-after"]) > 0
    assert right.json()["detail"] == "too_many_attempts"
    # Another account is not locked by her attacker.
    other, other_password = await server.add_staff("adviser")
    answer = await _login(server, {"username": other, "password": other_password}, "203.0.113.1")
    assert answer.status_code == 200, answer.text


async def test_right_logins_in_a_row_from_one_address_are_not_refused(server: Server) -> None:
    for _ in range(8):
        await server.staff_session("adviser")


@pytest.fixture
async def behind_proxy(settings: Settings) -> AsyncIterator[Server]:
    async with running_server(_with(settings, **PROXY_SETTINGS)) as server:
        yield server


async def test_a_flood_from_one_address_is_refused_before_any_hashing(behind_proxy: Server) -> None:
    username, password = await behind_proxy.add_staff("adviser")
    flood = [
        _login(behind_proxy, {"username": f"ghost{n}", "password": "x" * 12}, "198.51.100.66")
        for n in range(30)
    ]
    answers = [r.status_code for r in await asyncio.gather(*flood)]
    # Only the first few were worth a password hash; the rest were refused at once.
    assert answers.count(401) <= 5 and answers.count(429) >= 25
    # A real login from another address goes through.
    real = await _login(behind_proxy, {"username": username, "password": password}, "203.0.113.5")
    assert real.status_code == 200


@pytest.mark.parametrize("weak", ["aaaaaaaaaaaa", "Password1234", "qwertyuiop12"])
async def test_a_weak_or_common_password_is_refused(server: Server, weak: str) -> None:
    assert server.services is not None
    with pytest.raises(StaffError):
        await create_staff(server.services, "weakling", "admin", weak, "Weak")
    admin = await server.staff_session("admin")
    new = {"username": "weakling", "display_name": "Weak", "role": "admin", "password": weak}
    async with server.http(cookies={"willow_staff": admin.cookie}) as http:
        answer = await http.post("/api/admin/staff", json=new, headers=admin.headers)
    assert answer.status_code in (409, 422) and weak not in answer.text


@pytest.fixture
async def strict_server(settings: Settings) -> AsyncIterator[Server]:
    async with running_server(_with(settings, second_factor_required=True)) as server:
        yield server


async def test_a_supervisor_must_enrol_then_logs_in_with_a_code(strict_server: Server) -> None:
    server = strict_server
    username, password = await server.add_staff("supervisor")
    login = await server.login(username, password)
    cookies = {"willow_staff": login.cookie}
    async with server.http(cookies=cookies) as http:
        me = (await http.get("/api/staff/me")).json()
        assert me["staff"]["second_factor_needed"] is True
        assert (await http.get("/api/audit")).status_code == 403
        socket = await Client.open(server, cookie=login.cookie)
        await socket.send({"type": "hello", "v": 1})
        assert (await socket.receive("error"))["code"] == "forbidden"
        await socket.close()

        enrol = (await http.post("/api/staff/second-factor/begin", headers=login.headers)).json()
        totp = pyotp.TOTP(enrol["secret"])
        bad = await http.post(
            "/api/staff/second-factor/confirm", json={"code": "000000"}, headers=login.headers
        )
        assert bad.status_code == 400 or totp.now() == "000000"
        done = await http.post(
            "/api/staff/second-factor/confirm", json={"code": totp.now()}, headers=login.headers
        )
        recovery = done.json()["recovery_codes"]
        assert len(recovery) == 10
        assert (await http.get("/api/audit")).status_code == 200

    body = {"username": username, "password": password}
    assert (await _login(server, body)).json()["detail"] == "code_required"
    assert (await _login(server, {**body, "code": "12345"})).status_code == 401
    # The code just used for enrolment cannot be replayed; the next step's code works.
    await _wait_for_next_step()
    assert (await _login(server, {**body, "code": totp.now()})).status_code == 200
    assert (await _login(server, {**body, "code": totp.now()})).status_code == 401
    # A recovery code works once.
    assert (await _login(server, {**body, "code": recovery[0]})).status_code == 200
    assert (await _login(server, {**body, "code": recovery[0]})).status_code == 401


async def _wait_for_next_step() -> None:
    await asyncio.sleep(30 - time.time() % 30 + 0.2)


async def test_an_adviser_needs_no_second_factor(strict_server: Server) -> None:
    login = await strict_server.staff_session("adviser")
    socket = await Client.open(strict_server, cookie=login.cookie)
    await socket.send({"type": "hello", "v": 1})
    await socket.receive("welcome")
    await socket.close()
