"""Things that happened, told to whoever counts them (anonymised reporting) once committed.

A happening names what happened and a few coarse facts about it (a language code, a topic,
a risk category), each from a short fixed list, and when. It never carries an identifier, an
address or anything someone wrote, so a listener cannot join it back to a conversation.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from chat.core.clock import now
from chat.core.outages import failed_with

log = logging.getLogger("willow.tally")


@dataclass(frozen=True)
class Happening:
    kind: str
    facts: dict[str, str | None] = field(default_factory=dict)
    # Seconds, for happenings that measure a span (a wait, a chat's length).
    seconds: float | None = None
    at: datetime = field(default_factory=now)


Listener = Callable[[Happening], Awaitable[None]]


class Tally:
    def __init__(self) -> None:
        self.listeners: list[Listener] = []

    def listen(self, listener: Listener) -> None:
        self.listeners.append(listener)

    async def note(self, kind: str, seconds: float | None = None, **facts: str | None) -> None:
        """Tell every listener; a listener's failure is logged and loses only that count."""
        happening = Happening(kind, facts, seconds)
        for listener in self.listeners:
            try:
                await listener(happening)
            except Exception as problem:
                failed_with(problem, log, "counting %s failed", kind)
