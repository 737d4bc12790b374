"""The unit of work: change state in one transaction, then announce it, in that order.

Every action that changes state opens one (`async with services.change() as tx:`), writes
through `tx.session`, and collects what must be said about it: events stored in a stream
(`tx.append`), news with no stream (`tx.announce`), audit entries (`tx.audit`, stored with the
change), domain events (`tx.emit`) and work to run once the change is true (`tx.after`).

Nothing is said before the commit, and nothing at all if the transaction rolls back: a client
never hears of a change that did not happen. Once committed, the news goes out in the order it
was collected. If publishing then fails, the change stands (the database is the truth): stream
events are stored, so a reconnecting client resumes them and a live one catches up at the next
event of the stream (the local hub is asked to catch up at once); nothing is sent twice,
because clients drop a seq they already have.

Domain events are handed over after the commit and the news, as one list in the order they
were emitted, to the one receiver the app's Services owns (`services.domain_events`; it drops
them until the feature that delivers domain events sets it at install). A failing receiver is
logged: the change it reports is already committed.

Actions compose: each takes an optional open unit of work and passes it to
`services.change(tx)`, which joins it instead of opening another, so a caller can put several
actions into one commit (a woman moved from a room to an adviser: the conversation is created,
her seat is given up and the audit entry is written together, or none of them is).

Messages do not come through here: the appender (chat/core/appender.py) stores them in group
commits on the hot path, with the same rule of publishing only what is committed.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from chat.core import audit, streams
from chat.core.db import Database
from chat.core.hub import Hub, envelope, stream_channel
from chat.core.outages import failed_with

log = logging.getLogger("willow.uow")

# Receives the domain events of each committed unit of work, in the order they were emitted.
# The app's Services owns the one receiver; until a feature sets one, events are dropped.
DomainEventSink = Callable[[Sequence[object]], Awaitable[None]]
# Run after commit and publishing: a plain function or one returning an awaitable.
AfterCommit = Callable[[], Awaitable[None] | None]


async def drop_events(_events: Sequence[object]) -> None:
    """The receiver of domain events while nobody has subscribed to them."""


class Change:
    """An open unit of work: its database session and what to say once it has committed."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        # (channel, payload, stream id, staff only, the one reader) in the order collected.
        self._news: list[tuple[str, dict[str, Any], int | None, bool, str | None]] = []
        self.events: list[object] = []
        self._after: list[AfterCommit] = []

    async def append(
        self,
        stream_id: int,
        payload: dict[str, Any],
        *,
        staff_only: bool = False,
        sender: str = "system",
        client_id: str | None = None,
        to: str | None = None,
    ) -> dict[str, Any]:
        """Store an event with the stream's next seq (set into `payload`); published on commit.

        `to` addresses it to one reader alone (see chat/core/streams.py).
        """
        stored = await streams.append(
            self.session,
            stream_id,
            payload,
            sender=sender,
            client_id=client_id,
            staff_only=staff_only,
            to=to,
        )
        self._news.append((stream_channel(stream_id), stored, stream_id, staff_only, to))
        return stored

    async def append_many(
        self, stream_id: int, entries: list[tuple[dict[str, Any], bool]]
    ) -> list[dict[str, Any]]:
        """Several events (payload, staff only) stored in a row with one seq update and one
        flush (chat/core/streams.py `append_many`); published on commit, in that order."""
        stored = await streams.append_many(self.session, stream_id, entries)
        for payload, (_, staff_only) in zip(stored, entries, strict=True):
            self._news.append((stream_channel(stream_id), payload, stream_id, staff_only, None))
        return stored

    def announce(self, channel: str, payload: dict[str, Any]) -> None:
        """News with no stream (queue, alerts, control between nodes); published on commit."""
        self._news.append((channel, payload, None, False, None))

    def audit(
        self,
        actor: str,
        action: str,
        subject: str,
        reason: str = "",
        details: dict[str, Any] | None = None,
    ) -> None:
        """An audit entry, committed with the change it describes."""
        audit.record(self.session, actor, action, subject, reason, details)

    def emit(self, event: object) -> None:
        """A domain event, handed to the app's receiver after commit (see DomainEventSink)."""
        self.events.append(event)

    def after(self, work: AfterCommit) -> None:
        """Run `work` once the change is committed and announced (e.g. coalesced queue news)."""
        self._after.append(work)

    async def committed(self, hub: Hub, sink: DomainEventSink) -> None:
        """Say everything collected, in order; called once, after the commit."""
        await publish_committed(hub, self._messages())
        for work in self._after:
            try:
                result = work()
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("work after a commit failed")
        if self.events:
            try:
                await sink(list(self.events))
            except Exception:
                log.exception("handing over %d domain events failed", len(self.events))

    def _messages(self) -> list[tuple[str, bytes]]:
        return [
            (channel, envelope(payload, stream_id, _seq(payload, stream_id), staff_only, to))
            for channel, payload, stream_id, staff_only, to in self._news
        ]


def _seq(payload: dict[str, Any], stream_id: int | None) -> int | None:
    return int(payload["seq"]) if stream_id is not None else None


@asynccontextmanager
async def unit_of_work(
    db: Database, hub: Hub, sink: DomainEventSink, joined: Change | None = None, first: bool = False
) -> AsyncIterator[Change]:
    """Open a unit of work, or join `joined` (then its owner commits and announces).
    `first`: ahead of other writers queued for SQLite's one writer (`Database.write`)."""
    if joined is not None:
        yield joined
        return
    async with db.write(first) as session:
        tx = Change(session)
        yield tx
    await tx.committed(hub, sink)


async def publish_committed(hub: Hub, messages: list[tuple[str, bytes]]) -> None:
    """Publish news about committed changes, in order; a failure is logged, never raised."""
    if not messages:
        return
    try:
        await hub.publish_many(messages)
    except Exception as problem:
        # Committed but not announced: stored events are resumed from the database, and this
        # node's clients catch up now rather than at their stream's next event.
        failed_with(problem, log, "publishing %d committed events failed", len(messages))
        hub.resync()
