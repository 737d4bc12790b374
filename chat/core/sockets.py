"""What the socket transport dispatches to: handlers, hello and close hooks, owned by one app.

Features register here from their `install`; nothing is registered process-wide, so two apps
in one process (tests, several nodes in one benchmark) never share a handler.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chat.core.transport import Connection

Handler = Callable[["Connection", Any], Awaitable[None]]
# After hello has said who she is: send the welcome, join her streams (resume: id -> last seq).
HelloHook = Callable[["Connection", dict[int, int]], Awaitable[None]]
# When a connection closes, so a feature can let go of what it holds for it.
CloseHook = Callable[["Connection"], Awaitable[None]]


@dataclass
class SocketRoutes:
    handlers: dict[type, Handler] = field(default_factory=dict)
    hello_hooks: list[HelloHook] = field(default_factory=list)
    close_hooks: list[CloseHook] = field(default_factory=list)

    def handle(self, model: type, handler: Handler) -> None:
        """Route a client event model to its handler; one handler per event."""
        if model in self.handlers and self.handlers[model] is not handler:
            raise ValueError(f"{model.__name__} already has a handler")
        self.handlers[model] = handler

    def on_hello(self, hook: HelloHook) -> None:
        if hook not in self.hello_hooks:
            self.hello_hooks.append(hook)

    def on_close(self, hook: CloseHook) -> None:
        if hook not in self.close_hooks:
            self.close_hooks.append(hook)
