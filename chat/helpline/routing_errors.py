"""The error codes routing adds, declared on the app's socket routes at install
(chat/helpline/assign.py); docs/PROTOCOL.md explains them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from chat.core.protocol import ProtocolError

ROUTING_ERROR_CODES: dict[str, str] = {
    "not_trained": "chats go only to advisers whose training is recorded",
    "helpline_closed": "advisers are not answering now; `opens_at` says when they next are",
    "helpline_full": "too many are waiting to join the queue now; `opens_at` is null",
}


class RoutingError(ProtocolError):
    codes: ClassVar[Mapping[str, str]] = ROUTING_ERROR_CODES
