"""docs/PROTOCOL.md and the code name the same events and error codes."""

from __future__ import annotations

import re
from pathlib import Path

from chat.core.protocol import CLIENT_EVENT_TYPES, ERROR_CODES

DOC = (Path(__file__).resolve().parents[2] / "docs" / "PROTOCOL.md").read_text()


def _table_first_column(heading: str) -> set[str]:
    section = DOC.split(heading, 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE))


def test_every_error_code_is_documented_and_nothing_else() -> None:
    assert _table_first_column("## Error codes") == set(ERROR_CODES)


def test_every_client_event_is_documented() -> None:
    assert _table_first_column("## Client → server events") >= CLIENT_EVENT_TYPES
