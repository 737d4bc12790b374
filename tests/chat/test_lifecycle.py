"""A session that ends closes every socket of it at once: exit, forget, logout, expiry, disable."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from chat.core.clock import now
from chat.core.connections import CLOSE_SESSION_ENDED
from chat.core.events import VisitorLeft
from chat.core.hub import Member
from chat.core.identity import visitor_by_token
from chat.core.models import AuditEntry, StaffSession
from chat.core.transport import Connection
from tests.chat.lifecycle import (
    assert_ended,
    assert_open,
    closed_with,
    disable,
    logout,
    post_token,
    staff_id,
)
from tests.wsclient import Client, Server, connected_pair, staff, visitor


async def test_quick_exit_closes_every_socket_of_hers_and_only_hers(server: Server) -> None:
    her, adviser, conversation, token = await connected_pair(server)
    second_tab, _ = await visitor(server, token)
    someone_else, _ = await visitor(server)

    assert await post_token(server, "/api/visitor/exit", token) == 204
    await assert_ended(her, second_tab)
    ended = await adviser.receive("ended", conversation_id=conversation)
    assert ended["by"] == "quick_exit"
    await assert_open(adviser)
    await assert_open(someone_else)
    # Her token opens nothing any more.
    again = await Client.open(server)
    await again.send({"type": "hello", "v": 1, "token": token})
    assert (await again.receive("error"))["code"] == "unauthorized"
    for client in (adviser, someone_else, again):
        await client.close()


async def test_forget_closes_her_socket_before_anything_can_fail(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    her, adviser, conversation, token = await connected_pair(server)
    caplog.set_level(logging.ERROR)

    assert await post_token(server, "/api/visitor/forget", token) == 204
    await assert_ended(her)
    await adviser.receive("ended", conversation_id=conversation)
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    await adviser.close()


async def test_logout_closes_the_sockets_of_that_login_only(server: Server) -> None:
    username, password = await server.add_staff("adviser")
    laptop = await server.login(username, password)
    phone = await server.login(username, password)
    on_laptop = await staff(server, laptop)
    also_on_laptop = await staff(server, laptop)
    on_phone = await staff(server, phone)

    assert await logout(server, laptop) == 204
    await assert_ended(on_laptop, also_on_laptop)
    await assert_open(on_phone)
    # The logged-out cookie opens nothing.
    again = await Client.open(server, cookie=laptop.cookie)
    await again.send({"type": "hello", "v": 1})
    assert (await again.receive("error"))["code"] == "unauthorized"
    for client in (on_phone, again):
        await client.close()


async def test_after_logout_her_adviser_socket_cannot_take_a_chat(server: Server) -> None:
    login = await server.staff_session("adviser")
    adviser = await staff(server, login)
    waiting, _ = await visitor(server)
    await waiting.send({"type": "request_chat"})
    await waiting.receive("queue")

    assert await logout(server, login) == 204
    await assert_ended(adviser)
    await waiting.drain(0.3)
    assert waiting.of_type("assigned") == []
    await waiting.close()


async def test_a_socket_closes_when_its_login_expires(server: Server) -> None:
    assert server.services is not None
    login = await server.staff_session("adviser")
    async with server.services.db.write() as db:
        await db.execute(update(StaffSession).values(expires_at=now() + timedelta(seconds=1)))
    adviser = await staff(server, login)
    assert await closed_with(adviser, timeout=5) == 4401


async def test_disabling_an_account_closes_all_its_sockets_and_is_audited(server: Server) -> None:
    assert server.services is not None
    admin = await server.staff_session("admin")
    username, password = await server.add_staff("adviser")
    first = await staff(server, await server.login(username, password))
    second = await staff(server, await server.login(username, password))
    target = await staff_id(server, admin, username)

    assert await disable(server, admin, target) == 200
    await assert_ended(first, second)
    async with server.http() as http:
        refused = await http.post(
            "/api/staff/login", json={"username": username, "password": password}
        )
        assert refused.status_code == 401
    async with server.services.db.read() as db:
        entries = (
            await db.scalars(select(AuditEntry).where(AuditEntry.action == "staff.disabled"))
        ).all()
    assert [(e.subject, e.reason) for e in entries] == [(f"staff:{target}", "left")]


async def test_only_an_admin_disables_and_never_their_own_account(server: Server) -> None:
    admin = await server.staff_session("admin")
    adviser = await server.staff_session("adviser")
    target = await staff_id(server, admin, adviser.username)
    assert await disable(server, adviser, target) == 403
    assert await disable(server, admin, await staff_id(server, admin, admin.username)) == 409
    assert await disable(server, admin, 10**6) == 404
    async with server.http(cookies={"willow_staff": admin.cookie}) as http:
        bad = await http.post(
            f"/api/admin/staff/{target}/disable", json={"why": "x"}, headers=admin.headers
        )
        assert bad.status_code == 422
        listed = {s["username"]: s["disabled"] for s in (await http.get("/api/admin/staff")).json()}
    assert listed[adviser.username] is False


async def test_a_hello_that_read_the_session_just_before_it_ended_is_closed_too(
    server: Server,
) -> None:
    """Her quick exit lands between a new socket's session check and its registration: the
    node remembers the ended session for a minute and closes that socket as it registers."""
    assert server.services is not None
    services = server.services
    token = await server.visitor_token()
    visitor_row = await visitor_by_token(services, token)
    assert visitor_row is not None
    await services.events.publish(VisitorLeft(visitor_id=visitor_row.id))

    late = Connection(None, services, Member(8, services.fetch_after), visitor=visitor_row)  # type: ignore[arg-type]
    services.connections.add(late)
    assert late.closing == (CLOSE_SESSION_ENDED, "session ended")
    services.connections.discard(late)
    someone_else = Connection(None, services, Member(8, services.fetch_after), staff=None)  # type: ignore[arg-type]
    services.connections.add(someone_else)
    assert someone_else.closing is None
