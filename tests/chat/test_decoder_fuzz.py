"""Any frame at all is either a client event or an `error` with a documented code."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from chat.core.protocol import CLIENT_EVENT_TYPES, ERROR_CODES, ProtocolError, decode
from moderation.safeguarding.events import EVENTS as SAFEGUARDING_EVENTS
from peers.events import ROOM_EVENTS

TYPES = sorted(CLIENT_EVENT_TYPES | set(ROOM_EVENTS) | set(SAFEGUARDING_EVENTS))
FIELDS = [
    "v", "token", "resume", "conversation_id", "last_seq", "client_id", "body", "active",
    "available", "room", "accept_rules", "participant", "minutes", "reason", "seq", "held_id",
    "report_id", "escalation_id", "level", "consent", "categories", "seconds", "locked", "note",
]  # fmt: skip

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=40)
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(FIELDS), inner),
    max_leaves=8,
)
events = st.fixed_dictionaries(
    {"type": st.sampled_from(TYPES) | st.text(max_size=10)},
    optional={name: values for name in FIELDS},
)


# Every feature's events, as the app declares them on its socket routes.
EXTRA = {**ROOM_EVENTS, **SAFEGUARDING_EVENTS}


def _answer(frame: str | bytes) -> str:
    try:
        decode(frame, 16_384, EXTRA)
    except ProtocolError as error:
        assert error.code in ERROR_CODES
        assert error.event()["code"] == error.code
        return error.code
    return "event"


def _json(event: dict[str, Any]) -> str:
    try:
        return orjson.dumps(event).decode()
    except orjson.JSONEncodeError:
        import json

        return json.dumps(event)  # integers past 64 bits


@settings(max_examples=400, deadline=None)
@given(events)
def test_every_event_shaped_frame_is_an_event_or_a_documented_error(event: dict[str, Any]) -> None:
    _answer(_json(event))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200) | st.binary(max_size=200))
def test_every_arbitrary_frame_is_an_event_or_a_documented_error(frame: str | bytes) -> None:
    _answer(frame)
