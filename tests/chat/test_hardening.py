"""Smaller hardening: HSTS and the __Host- cookie in production, Origin scheme, LIKE, SQL errors."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from websockets.exceptions import InvalidStatus

from chat.core.db import Database
from chat.core.security import origin_allowed
from chat.core.settings import Settings
from tests.conftest import running_server
from tests.wsclient import Client, Server


@pytest.fixture
async def production(settings: Settings) -> AsyncIterator[Server]:
    changes = {"env": "production", "secret_key": secrets.token_urlsafe(48)}
    async with running_server(Settings(**{**settings.model_dump(), **changes})) as server:
        yield server


async def test_production_sends_hsts_and_a_host_prefixed_secure_cookie(production: Server) -> None:
    username, password = await production.add_staff("adviser")
    async with production.http() as http:
        page = await http.get("/api/config")
        login = await http.post(
            "/api/staff/login", json={"username": username, "password": password}
        )
    assert page.headers["strict-transport-security"].startswith("max-age=")
    cookie = login.headers["set-cookie"]
    assert cookie.startswith("__Host-willow_staff=")
    assert (
        "secure" in cookie.lower() and "path=/" in cookie.lower() and "domain" not in cookie.lower()
    )


async def test_development_and_tests_send_no_hsts(server: Server) -> None:
    async with server.http() as http:
        assert "strict-transport-security" not in (await http.get("/api/config")).headers


def test_the_origin_must_match_the_scheme_as_well_as_the_host() -> None:
    host = "chat.example.org"
    assert origin_allowed("https://chat.example.org", host, [], "https")
    assert not origin_allowed("http://chat.example.org", host, [], "https")
    assert not origin_allowed("https://chat.example.org", host, [], "http")
    assert not origin_allowed("https://chat.example.org.evil.test", host, [], "https")


async def test_a_socket_from_a_page_of_another_scheme_is_refused(server: Server) -> None:
    with pytest.raises(InvalidStatus):
        await Client.open(server, origin=server.url.replace("http://", "https://"))


async def test_the_audit_filter_treats_percent_and_underscore_as_letters(server: Server) -> None:
    login = await server.staff_session("supervisor")
    async with server.http(cookies={"willow_staff": login.cookie}) as http:
        everything = (await http.get("/api/audit")).json()
        assert everything, "creating the account is itself audited"
        assert (await http.get("/api/audit", params={"action": "%"})).json() == []
        assert (await http.get("/api/audit", params={"action": "staff_"})).json() == []
        assert (await http.get("/api/audit", params={"action": "staff."})).json() != []


async def test_a_failed_statement_never_carries_its_values(settings: Settings) -> None:
    database = Database(settings.database_url)
    try:
        assert database.engine.sync_engine.hide_parameters
        async with database.engine.connect() as connection:
            with pytest.raises(DBAPIError) as caught:
                await connection.execute(
                    text("INSERT INTO no_such_table (x) VALUES (:x)"), {"x": "her private words"}
                )
        assert "her private words" not in str(caught.value)
    finally:
        await database.dispose()
