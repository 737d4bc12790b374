"""Queue news that scales: staff get changes, each waiting woman her own position and wait.

Staff: a change to the queue (she joins, a chat is taken, she leaves, her risk rises, she
says any adviser will do) sends staff one `queue_changes` event naming only what changed, so
what goes out grows with the change, not with the queue. The full `queue_snapshot` goes only
to an adviser's socket when it says hello. A chat never returns to the queue once it has
left, and its risk only rises, so changes from several nodes arriving in any order still
leave every console with the same queue.

Her: each node, every WAIT_NEWS_SECONDS, reads the queue once, works out every position and
estimate (chat/helpline/estimate.py, one pass) and sends each waiting woman with a socket on
this node her own `queue` event, only when it differs from what she was last sent. A woman
gets at most one small event per interval, whatever the size of the queue.

With thousands waiting that pass is tens of milliseconds of Python, so the rows are read,
the news worked out and sent in slices of SLICE women, and after each slice the tick rests
as long as the slice took: the event loop is free at least half the time, so a write in
progress (each statement a round trip to SQLite's thread, resumed by the loop) finishes in
a few milliseconds instead of one statement per slice, and a routing round (or an
adviser's `end`) is not held up by queue news. (Not
a worker thread: a thread busy with Python takes the interpreter lock for 5 ms at a time from
every database round trip of the loop, so each write would hold SQLite's one writer place
many times longer.) An arrival's first event
takes her position from the database and her estimate from the latest reading (at most a
tick old); the whole queue is read for her only when no recent reading has anyone like her,
and arrivals asking together share that one read.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Iterator
from typing import Any, Literal

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import aliased

from chat.core.channels import STAFF_CHANNEL
from chat.core.models import Conversation, Staff, VisitorSession
from chat.core.outages import failed_with
from chat.core.services import Services
from chat.helpline import queue_state
from chat.helpline.estimate import Estimate, Handling, each_estimate, smooth
from chat.helpline.routing import Adviser, Waiting, in_order

log = logging.getLogger("willow.queue")

WAIT_NEWS_SECONDS = 2.0
# Women read, worked out or told in one go before the tick rests (`_rest`).
SLICE = 100
# The longest rest after a slice (seconds).
MOST_REST = 0.02
# Recent handling times are read again this often (seconds).
HANDLING_SECONDS = 60.0


def estimate_fields(found: Estimate | None) -> dict[str, int] | None:
    """Whole minutes for the page: the low end rounded down, the high end up."""
    if found is None:
        return None
    return {
        "low_minutes": math.floor(found.low / 60),
        "high_minutes": math.ceil(found.high / 60),
    }


def women_news(
    queue: list[Waiting], advisers: list[Adviser], handling: Handling
) -> dict[int, dict[str, Any]]:
    """Every waiting chat's `queue` event (pure)."""
    return dict(each_news(in_order(queue), advisers, handling))


def each_news(
    ordered: list[Waiting], advisers: list[Adviser], handling: Handling
) -> Iterator[tuple[int, dict[str, Any]]]:
    """The `queue` event of each chat of a queue already in order, one at a time (pure)."""
    total = len(ordered)
    for position, (waiting, found) in enumerate(
        each_estimate(ordered, advisers, handling), start=1
    ):
        yield (
            waiting.id,
            {
                "type": "queue",
                "conversation_id": waiting.id,
                "position": position,
                "waiting": total,
                "estimate": estimate_fields(found),
            },
        )


class QueueNews:
    """This node's queue news: staff changes gathered between rounds, her news on a tick."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.added: set[int] = set()
        self.removed: set[int] = set()
        self.changed: set[int] = set()
        self.sent: dict[int, dict[str, Any]] = {}
        self.ticking = False
        self._handling = Handling()
        self._handling_at = float("-inf")
        # The latest reading of the whole queue (the tick's), for an arrival's first estimate,
        # and the loop time its read began; one whole-queue read at a time.
        self.latest: tuple[list[tuple[Waiting, int]], dict[int, dict[str, Any]]] | None = None
        self.latest_at = float("-inf")
        self._reading = asyncio.Lock()

    def note(self, added: set[int], removed: set[int], changed: set[int]) -> None:
        self.added |= added
        self.removed |= removed
        self.changed |= changed
        self.start()

    def start(self) -> None:
        if not self.ticking:
            self.ticking = True
            self.services.spawn(self._tick())

    async def staff_changes(self) -> dict[str, Any]:
        """What changed since the last round, read for only those chats."""
        added, removed, changed = self.added, self.removed, self.changed
        self.added, self.removed, self.changed = set(), set(), set()
        wanted = (added | changed) - removed
        # Imported here: conversations.py imports this module.
        from chat.helpline.conversations import queue_entry

        async with self.services.db.read() as session:
            rows = list(
                (
                    await session.execute(
                        select(Conversation, VisitorSession.safe_to_talk)
                        .join(VisitorSession, VisitorSession.id == Conversation.visitor_id)
                        .where(Conversation.id.in_(wanted), Conversation.status == "waiting")
                    )
                ).all()
            )
            available = await session.scalar(
                select(func.count())
                .select_from(Staff)
                .where(Staff.available.is_(True), Staff.disabled.is_(False))
            )
        still = {conversation.id for conversation, _ in rows}
        entries = {c.id: queue_entry(c, safe) for c, safe in rows}
        return {
            "type": "queue_changes",
            "added": [entries[i] for i in sorted(added & still)],
            "changed": [entries[i] for i in sorted((changed - added) & still)],
            # Gone before news of it went out counts as gone.
            "removed": sorted(removed | (wanted - still)),
            "available_advisers": available or 0,
        }

    async def publish_staff(self) -> None:
        await self.services.publish(STAFF_CHANNEL, await self.staff_changes())

    async def handling(self) -> Handling:
        loop = asyncio.get_running_loop()
        if loop.time() - self._handling_at > HANDLING_SECONDS:
            async with self.services.db.read() as session:
                self._handling = smooth(await queue_state.recent_handling_seconds(session))
            self._handling_at = loop.time()
        return self._handling

    async def current(
        self, since: float | None = None
    ) -> tuple[list[tuple[Waiting, int]], dict[int, dict[str, Any]]]:
        """The waiting chats (with visitor ids) and every one's `queue` event, from one read
        of the queue's plain columns, begun after `since` (loop time; default now). Callers
        asking while a read runs share the next one."""
        loop = asyncio.get_running_loop()
        asked = loop.time() if since is None else since
        async with self._reading:
            if self.latest is not None and self.latest_at >= asked:
                return self.latest
            began = loop.time()
            settings = self.services.settings
            page: list[tuple[Waiting, int]] = []
            began_slice = loop.time()
            async with self.services.db.read() as session:
                rows = await session.stream(queue_state.waiting_query(limit=None))
                async for part in rows.partitions(SLICE):
                    page.extend(queue_state.as_waiting_rows(part))
                    began_slice = await _rest(began_slice)
                team = [a for _, a in (await queue_state.advisers(session, settings)).values()]
            handling = await self.handling()
            # The rows come in the queue's order (the query's); sorting again costs little.
            ordered = in_order([w for w, _ in page])
            news: dict[int, dict[str, Any]] = {}
            for conversation_id, event in each_news(ordered, team, handling):
                news[conversation_id] = event
                if not len(news) % SLICE:
                    began_slice = await _rest(began_slice)
            self.latest, self.latest_at = (page, news), began
            return page, news

    async def one_for(self, conversation_id: int) -> dict[str, Any] | None:
        """Her `queue` event now. Her position is counted in the database; her estimate is
        that of the last woman in the latest reading who matches the same advisers (the
        tick corrects it within WAIT_NEWS_SECONDS). Only when there is none is the whole
        queue read, so a surge of arrivals does not read the queue once per arrival."""
        asked = asyncio.get_running_loop().time()
        async with self.services.db.read() as session:
            found = (await session.execute(_mine_and_counts(conversation_id))).first()
        if found is None or found[0].status != "waiting":
            return None
        mine, waiting, ahead = found
        me = queue_state.as_waiting(mine)
        like = self._like(me)
        if like is None:
            # Her own row is committed: a read begun from now on counts her.
            _, news = await self.current(since=asked)
            found = news.get(conversation_id)
            if found is None:
                return None
            estimate = found["estimate"]
        else:
            estimate = None if like is False else like
        event = {
            "type": "queue",
            "conversation_id": conversation_id,
            "position": (ahead or 0) + 1,
            "waiting": waiting or 0,
            "estimate": estimate,
        }
        self.sent[conversation_id] = event
        return event

    def _like(self, me: Waiting) -> dict[str, int] | Literal[False] | None:
        """The latest estimate of the last woman like her (same risk, language, topic and
        choice), or None when the latest reading has no one like her."""
        if self.latest is None:
            return None
        if asyncio.get_running_loop().time() - self.latest_at > 2 * WAIT_NEWS_SECONDS:
            # No tick has read the queue lately (none of hers on this node until now).
            return None
        page, news = self.latest
        for waiting, _visitor in reversed(page):
            if (waiting.risk, waiting.language, waiting.specialism, waiting.any_adviser) == (
                me.risk,
                me.language,
                me.specialism,
                me.any_adviser,
            ):
                found = news[waiting.id]["estimate"]
                return found if found is not None else False
        return None

    async def tell_women_here(self) -> int:
        """Send each waiting woman connected to this node her news if it changed; how many."""
        connections = self.services.connections
        page, news = await self.current()
        told = 0
        began_slice = asyncio.get_running_loop().time()
        for index, (waiting, visitor_id) in enumerate(page):
            if index and not index % SLICE:
                # Let a routing round (or anything else) run between slices.
                began_slice = await _rest(began_slice)
            here = connections.of_visitor(visitor_id)
            if not here:
                continue
            event = news[waiting.id]
            if self.sent.get(waiting.id) == event:
                continue
            self.sent[waiting.id] = event
            for connection in here:
                if connection.conversation_id == waiting.id:
                    connection.send(event)
                    told += 1
        still = {w.id for w, _ in page}
        for gone in [c for c in self.sent if c not in still]:
            del self.sent[gone]
        return told

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(WAIT_NEWS_SECONDS)
            try:
                if self.services.hub.member_count():
                    await self.tell_women_here()
            except Exception as problem:
                failed_with(problem, log, "waiting news failed")


def _mine_and_counts(conversation_id: int) -> Select[Any]:
    """Her row, how many wait and how many are ahead of her: one statement (an arrival's
    first position, in a surge at every arrival)."""
    other = aliased(Conversation)
    waiting = (
        select(func.count()).select_from(other).where(other.status == "waiting").scalar_subquery()
    )
    ahead = (
        select(func.count())
        .select_from(other)
        .where(
            other.status == "waiting",
            # Ids follow the order of joining (SQLite keeps times as text, whole seconds by
            # default, so they cannot order two joins in one second).
            or_(
                other.priority > Conversation.priority,
                and_(other.priority == Conversation.priority, other.id < Conversation.id),
            ),
        )
        .scalar_subquery()
    )
    return select(Conversation, waiting, ahead).where(Conversation.id == conversation_id)


async def _rest(began: float) -> float:
    """Leave the event loop free for as long as the slice begun at `began` took (at most
    MOST_REST); returns when the next slice begins."""
    loop = asyncio.get_running_loop()
    await asyncio.sleep(min(MOST_REST, loop.time() - began))
    return loop.time()


def news_of(services: Services) -> QueueNews:
    found = services.features.find(QueueNews)
    if found is None:
        found = QueueNews(services)
        services.features.add(found)
    return found
