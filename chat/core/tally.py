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
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from chat.core.clock import now
from chat.core.outages import failed_with

if TYPE_CHECKING:
    from chat.core.uow import Change

log = logging.getLogger("willow.tally")


@dataclass(frozen=True)
class Happening:
    kind: str
    facts: dict[str, str | None] = field(default_factory=dict)
    # Seconds, for happenings that measure a span (a wait, a chat's length).
    seconds: float | None = None
    at: datetime = field(default_factory=now)


Listener = Callable[[Happening], Awaitable[None]]
# Counts a happening in the caller's open transaction (its session), so that a change and its
# count are one commit.
Within = Callable[[AsyncSession, Happening], Awaitable[None]]


@dataclass(frozen=True)
class _Counter:
    after: Listener
    within: Within | None


class Tally:
    def __init__(self) -> None:
        self.counters: list[_Counter] = []

    def listen(self, listener: Listener, within: Within | None = None) -> None:
        """`listener` hears happenings after their commit; `within`, when given, counts them
        inside the action's own transaction instead, for actions that ask (`note_within`)."""
        self.counters.append(_Counter(listener, within))

    async def note(self, kind: str, seconds: float | None = None, **facts: str | None) -> None:
        """Tell every listener; a listener's failure is logged and loses only that count."""
        await _tell([c.after for c in self.counters], Happening(kind, facts, seconds))

    async def note_within(
        self, tx: Change, kind: str, seconds: float | None = None, **facts: str | None
    ) -> None:
        """Count in the action's unit of work: one write transaction instead of two (on
        SQLite, one turn of its one writer instead of two). A count that fails is undone alone
        and logged, so it loses only that count, never the change; a listener with no `within`
        hears the happening after the commit, as from `note`."""
        happening = Happening(kind, facts, seconds)
        later: list[Listener] = []
        for counter in self.counters:
            if counter.within is None:
                later.append(counter.after)
                continue
            try:
                await _within(tx.session, counter.within, happening)
            except Exception as problem:
                failed_with(problem, log, "counting %s failed", kind)
        if later:
            tx.after(lambda: _tell(later, happening))


async def _within(session: AsyncSession, count: Within, happening: Happening) -> None:
    """SQLite undoes a failed statement alone and the transaction goes on; PostgreSQL aborts
    the whole transaction, so there the count gets a savepoint of its own (on SQLite it would
    only add two round trips while the one writer is held)."""
    if session.get_bind().dialect.name == "sqlite":
        await count(session, happening)
        return
    async with session.begin_nested():
        await count(session, happening)


async def _tell(listeners: list[Listener], happening: Happening) -> None:
    for listener in listeners:
        try:
            await listener(happening)
        except Exception as problem:
            failed_with(problem, log, "counting %s failed", happening.kind)
