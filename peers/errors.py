"""Room errors: protocol errors that may carry a few extra fields (when a room opens, why a
name was refused, how long she is muted)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from chat.core.protocol import ProtocolError

# The error codes the rooms add, declared on the app's socket routes at install;
# docs/PROTOCOL.md explains them.
ROOM_ERROR_CODES: dict[str, str] = {
    "room_closed": "the room is not open now; `opens_at` says when it opens next",
    "room_locked": "the mentor has closed the room to newcomers for now",
    "room_full": "the room is full",
    "rules_not_accepted": "accept the room's rules to join",
    "banned": "you cannot join this room for a while",
    "removed": "a mentor has asked you to leave this room session",
    "muted": "a mentor has paused your messages; `until` says until when",
    "slow_mode": "the room is in slow mode; `retry_after` says how many seconds to wait",
    "not_in_room": "join a room first",
    "name_refused": "that room name cannot be used; `reason` says why",
}


class RoomError(ProtocolError):
    """A ProtocolError whose `error` event carries extra fields."""

    codes: ClassVar[Mapping[str, str]] = ROOM_ERROR_CODES

    def __init__(
        self, code: str, message: str | None = None, ref: str | None = None, **fields: Any
    ) -> None:
        super().__init__(code, message, ref)
        self.fields = fields

    def event(self) -> dict[str, Any]:
        payload = super().event()
        payload.update(self.fields)
        return payload
