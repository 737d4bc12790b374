"""The console tools' error codes, declared on the app's socket routes at install;
docs/PROTOCOL.md explains them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from chat.core.protocol import ProtocolError

CONSOLE_ERROR_CODES: dict[str, str] = {
    "transfer_refused": "the chat could not be handed over; `reason` says why",
    "not_ended": "a wrap-up follows the end of the chat",
    "already_wrapped_up": "this chat has its wrap-up already",
    "unknown_code": "an outcome or category is not in the service's list",
}


class ConsoleError(ProtocolError):
    codes: ClassVar[Mapping[str, str]] = CONSOLE_ERROR_CODES
