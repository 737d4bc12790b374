"""docs/PROTOCOL.md and the app name the same events and error codes, every feature's included."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chat.app import create_app
from chat.core.settings import Settings
from chat.core.sockets import SocketRoutes

DOC = (Path(__file__).resolve().parents[2] / "docs" / "PROTOCOL.md").read_text()


@pytest.fixture(scope="module")
def routes() -> SocketRoutes:
    """What a whole app registers: the core's, the helpline's, safeguarding's and the rooms'."""
    app = create_app(
        Settings(
            env="test",
            secret_key="k" * 16 + "x" * 16 + "-events-doc",
            database_url="sqlite+aiosqlite:///:memory:",
        )
    )
    routes: SocketRoutes = app.state.services.sockets
    return routes


def _table_first_column(heading: str) -> set[str]:
    section = DOC.split(heading, 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE))


def _client_tables() -> set[str]:
    """The first column of every "Client → server" table, whichever feature's section."""
    found: set[str] = set()
    for part in re.split(r"^#+ Client → server[^\n]*\n", DOC, flags=re.MULTILINE)[1:]:
        table = part.split("\n#", 1)[0]
        found |= set(re.findall(r"^\| `([a-z_]+)` \|", table, flags=re.MULTILINE))
    return found


def test_every_error_code_of_every_feature_is_documented_and_nothing_else(
    routes: SocketRoutes,
) -> None:
    assert _table_first_column("## Error codes") == set(routes.all_error_codes)


def test_every_client_event_of_every_feature_is_documented(routes: SocketRoutes) -> None:
    assert routes.all_event_types - _client_tables() == set()


def test_every_feature_event_has_a_handler(routes: SocketRoutes) -> None:
    unhandled = {kind for kind, model in routes.events.items() if model not in routes.handlers}
    assert unhandled == set()


def test_the_rooms_and_safeguarding_add_their_events_to_this_app_only(
    routes: SocketRoutes,
) -> None:
    assert {"room_join", "escalate", "report"} <= set(routes.events)
    assert "room_full" in routes.error_codes
    assert SocketRoutes().events == {}
