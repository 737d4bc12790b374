"""What the socket transport dispatches to: handlers and hello hooks, owned by one app.

A socket's closing is the domain event `ConnectionClosed` (chat/core/events.py), told on its
node: features subscribe to it on the app's bus.

Features register here from their `install`; nothing is registered process-wide, so two apps
in one process (tests, several nodes in one benchmark) never share a handler.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from chat.core.protocol import CLIENT_EVENT_TYPES, ERROR_CODES

if TYPE_CHECKING:
    from chat.core.transport import Connection

Handler = Callable[["Connection", Any], Awaitable[None]]
# After hello has said who she is: send the welcome, join her streams (resume: id -> last seq).
HelloHook = Callable[["Connection", dict[int, int]], Awaitable[None]]


@dataclass
class SocketRoutes:
    # A feature's client events by type name, decoded after the core's own.
    events: dict[str, type[BaseModel]] = field(default_factory=dict)
    # A feature's error codes and what each means (the core's are protocol.ERROR_CODES).
    error_codes: dict[str, str] = field(default_factory=dict)
    handlers: dict[type, Handler] = field(default_factory=dict)
    hello_hooks: list[HelloHook] = field(default_factory=list)

    def add_events(self, events: Mapping[str, type[BaseModel]]) -> None:
        """Let the transport decode a feature's client events."""
        for kind, model in events.items():
            if kind in CLIENT_EVENT_TYPES:
                raise ValueError(f"event type {kind!r} is a core event")
            if self.events.get(kind, model) is not model:
                raise ValueError(f"event type {kind!r} is already taken")
            self.events[kind] = model

    def add_error_codes(self, codes: Mapping[str, str]) -> None:
        for code, meaning in codes.items():
            if code in ERROR_CODES or self.error_codes.get(code, meaning) != meaning:
                raise ValueError(f"error code {code!r} is already taken")
            self.error_codes[code] = meaning

    @property
    def all_event_types(self) -> frozenset[str]:
        return CLIENT_EVENT_TYPES | frozenset(self.events)

    @property
    def all_error_codes(self) -> dict[str, str]:
        return {**ERROR_CODES, **self.error_codes}

    def handle(self, model: type, handler: Handler) -> None:
        """Route a client event model to its handler; one handler per event."""
        if model in self.handlers and self.handlers[model] is not handler:
            raise ValueError(f"{model.__name__} already has a handler")
        self.handlers[model] = handler

    def on_hello(self, hook: HelloHook) -> None:
        if hook not in self.hello_hooks:
            self.hello_hooks.append(hook)
