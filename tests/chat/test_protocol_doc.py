"""docs/PROTOCOL.md and the server name the same events, error codes and close codes, every
feature's included."""

from __future__ import annotations

import re
import typing
from pathlib import Path

from chat.core import transport
from chat.core.protocol import CLIENT_EVENT_TYPES, ERROR_CODES, Hello, Ping
from tests.wsclient import Server

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "PROTOCOL.md").read_text()
SERVER_PACKAGES = ("chat", "peers", "moderation")


def _sections(heading_part: str) -> list[str]:
    """Every section (any level) whose heading contains `heading_part`, up to the next heading."""
    parts = re.split(r"\n(?=#{2,4} )", DOC)
    return [part for part in parts if heading_part in part.split("\n", 1)[0]]


def _first_column(heading_part: str) -> set[str]:
    """Backticked names in the first column of those sections' tables (`a` / `b`: both)."""
    names: set[str] = set()
    for section in _sections(heading_part):
        for row in re.findall(r"^\| (`[a-z_]+`(?: / `[a-z_]+`)*) \|", section, flags=re.MULTILINE):
            names.update(re.findall(r"`([a-z_]+)`", row))
    return names


def _event_type(model: type) -> str:
    (kind,) = typing.get_args(model.model_fields["type"].annotation)  # type: ignore[attr-defined]
    return str(kind)


def _sent_event_types() -> set[str]:
    """Every event type the server's code builds: `{"type": "…"}` payloads and stream events
    stored in a room's session by name (`room_event(tx, session, "room_…", …)`)."""
    found: set[str] = set()
    for package in SERVER_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text()
            found.update(re.findall(r'"type":\s*"([a-z_]+)"', text))
            found.update(re.findall(r'room_event\(\s*\w+,\s*[\w.]+,\s*"([a-z_]+)"', text))
    return found


async def test_every_error_code_of_every_feature_is_documented_and_nothing_else(
    server: Server,
) -> None:
    assert server.services is not None
    codes = server.services.sockets.all_error_codes
    assert set(ERROR_CODES) < set(codes), "the rooms declare theirs on the app's routes"
    assert _first_column("## Error codes") == set(codes)


async def test_each_feature_declares_its_events_on_this_app_and_each_has_a_handler(
    server: Server,
) -> None:
    assert server.services is not None
    routes = server.services.sockets
    assert {"room_join", "escalate", "report"} <= set(routes.events)
    assert [kind for kind, model in routes.events.items() if model not in routes.handlers] == []
    assert routes.all_event_types == CLIENT_EVENT_TYPES | set(routes.events)


async def test_every_client_event_the_server_handles_is_documented_and_nothing_else(
    server: Server,
) -> None:
    assert server.services is not None
    handled = {_event_type(model) for model in server.services.sockets.handlers}
    # hello and ping are answered by the transport itself, before any feature's handler.
    handled |= {_event_type(Hello), _event_type(Ping)}
    assert handled >= CLIENT_EVENT_TYPES
    assert _first_column("Client → server") == handled


def test_every_event_the_server_sends_is_documented_and_nothing_else() -> None:
    documented = _first_column("Server → client")
    assert documented == _sent_event_types()


def test_every_application_close_code_is_documented_and_nothing_else() -> None:
    section = _sections("### Close codes")[0]
    documented = {int(code) for code in re.findall(r"^\| (\d{4}) \|", section, flags=re.MULTILINE)}
    constants = {
        value
        for name, value in vars(transport).items()
        if name.startswith("CLOSE_") and isinstance(value, int)
    }
    assert {code for code in documented if code >= 4000} == {c for c in constants if c >= 4000}
    assert {c for c in constants if c < 4000} <= documented
    # The WebSocket codes the document promises are real ones (RFC 6455, section 7.4.1).
    assert {code for code in documented if code < 4000} <= {1000, 1006, 1007, 1009, 1012, 1013}


def test_the_limits_table_names_each_limit_once_with_a_number() -> None:
    rows = re.findall(r"^\| `([a-z_]+)` \| ([\d,]+) \|", _sections("## Limits")[0], re.MULTILINE)
    names = [name for name, _ in rows]
    assert len(names) == len(set(names)) >= 10
