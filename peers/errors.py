"""Room errors: protocol errors that may carry a few extra fields (when a room opens, why a
name was refused, how long she is muted)."""

from __future__ import annotations

from typing import Any

from chat.core.protocol import ProtocolError

# The error codes the rooms add; chat.core.protocol.ERROR_CODES and docs/PROTOCOL.md explain them.
ROOM_ERROR_CODES = (
    "room_closed",
    "room_locked",
    "room_full",
    "rules_not_accepted",
    "banned",
    "removed",
    "muted",
    "slow_mode",
    "not_in_room",
    "name_refused",
)


class RoomError(ProtocolError):
    """A ProtocolError whose `error` event carries extra fields."""

    def __init__(
        self, code: str, message: str | None = None, ref: str | None = None, **fields: Any
    ) -> None:
        super().__init__(code, message, ref)
        self.fields = fields

    def event(self) -> dict[str, Any]:
        payload = super().event()
        payload.update(self.fields)
        return payload
