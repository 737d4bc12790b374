"""Generated requests against every HTTP route in the OpenAPI schema: no 500, nothing echoed.

Schemathesis builds valid and invalid requests from the schema; each is sent as an admin
(so the role checks let the request reach validation and the handler). The number of
examples per route is bounded so the whole run takes seconds.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck
from schemathesis import GenerationMode

from chat.app import create_app
from chat.core.identity import COOKIE
from chat.core.settings import Settings
from tests.conftest import running_server
from tests.wsclient import StaffLogin

EXAMPLES = 10
# Logging out would end the session every other request is sent with.
SKIPPED = {("POST", "/api/staff/logout")}


@contextmanager
def _server_thread(settings: Settings) -> Iterator[tuple[str, StaffLogin]]:
    """A real server in its own thread and loop, so these blocking calls do not stall it."""
    ready, stop = threading.Event(), threading.Event()
    found: dict[str, Any] = {}

    async def serve() -> None:
        async with running_server(settings) as server:
            found["url"], found["login"] = server.url, await server.staff_session("admin")
            ready.set()
            await asyncio.to_thread(stop.wait)

    thread = threading.Thread(target=lambda: asyncio.run(serve()), daemon=True)
    thread.start()
    assert ready.wait(30), "server did not start"
    try:
        yield found["url"], found["login"]
    finally:
        stop.set()
        thread.join(15)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        # Field names come back in `loc`, by design; only values must not.
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _echoed(case: schemathesis.Case, text: str) -> list[str]:
    sent = [case.body, case.query, case.path_parameters, case.headers]
    # Short values could appear in any message by chance; a secret is longer.
    return [s for s in _strings(sent) if len(s.strip()) >= 8 and s in text]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, StaffLogin]]:
    folder: Path = tmp_path_factory.mktemp("fuzz")
    settings = Settings(
        env="test",
        secret_key=secrets.token_urlsafe(48),
        database_url=f"sqlite+aiosqlite:///{folder / 'willow.db'}",
        broker_url="memory://",
    )
    with _server_thread(settings) as running:
        yield running


def _operations() -> list[Any]:
    schema = schemathesis.openapi.from_dict(create_app(Settings(env="development")).openapi())
    found = [result.ok() for result in schema.get_all_operations()]
    return [op for op in found if (op.method.upper(), op.path) not in SKIPPED]


@pytest.mark.parametrize("operation", _operations(), ids=lambda op: f"{op.method} {op.path}")
def test_no_generated_request_gets_a_500_or_its_values_back(
    live: tuple[str, StaffLogin], operation: Any
) -> None:
    url, login = live

    @hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(
        case=operation.as_strategy(GenerationMode.POSITIVE)
        | operation.as_strategy(GenerationMode.NEGATIVE)
    )
    def check(case: schemathesis.Case) -> None:
        response = case.call(
            base_url=url, cookies={COOKIE: login.cookie}, headers=dict(login.headers), timeout=10
        )
        assert response.status_code < 500, (case.as_curl_command(), response.text[:300])
        if 400 <= response.status_code < 500:
            assert _echoed(case, response.text) == [], case.as_curl_command()

    check()
