"""Queue news that scales: staff get changes, each waiting woman her own position and wait.

Staff: a change to the queue (she joins, a chat is taken, she leaves, her risk rises, she
says any adviser will do) sends staff one `queue_changes` event naming only what changed, so
what goes out grows with the change, not with the queue. The full `queue_snapshot` goes only
to an adviser's socket when it says hello. A chat never returns to the queue once it has
left, and its risk only rises, so changes from several nodes arriving in any order still
leave every console with the same queue.

Her: each node, every WAIT_NEWS_SECONDS, sends each waiting woman with a socket on this node
her own `queue` event (position, how many wait, her estimate: chat/helpline/estimate.py), only
when it differs from what she was last sent. A woman gets at most one small event per interval,
whatever the size of the queue.

What one tick costs the node is bounded, not proportional to the queue: the database numbers
the queue and counts it (a window function over the queue's index), and the tick reads only
the first FRONT women (whose place changes most and matters most) and a stretch of STRETCH
further back, the next stretch at the next tick. Past FRONT + STRETCH waiting, a woman further
back hears of her place every few ticks (at 5,000 waiting, every 13th, 26 s): her estimate is
then hours long and moves slowly. The estimates of a stretch count, by kind of woman, those
ahead of it (counted by the database), so they are those of the whole queue. The work is done
in slices of SLICE women with a rest after each, so a routing round (or an adviser's `end`),
each statement of which needs the event loop, is not held up by queue news.

An arrival's first event is worked out for her alone: her position and how many wait, counted
in one statement, and how many of each kind are ahead of her in another; in a surge, when she
joins far back, those ahead of her are nearly the whole queue, and her estimate takes the
queue's count by kind from the last tick instead of counting it again for every arrival.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import replace
from typing import Any

from sqlalchemy import Executable, Select, and_, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from chat.core.channels import STAFF_CHANNEL
from chat.core.models import Conversation, ReturnVisit, Staff, VisitorSession
from chat.core.outages import failed_with
from chat.core.services import Services
from chat.helpline import queue_state
from chat.helpline.estimate import Estimate, Handling, Kind, each_estimate, smooth
from chat.helpline.routing import Adviser, Waiting

log = logging.getLogger("willow.queue")

WAIT_NEWS_SECONDS = 2.0
# Each tick tells the first FRONT women and a stretch of STRETCH further back, the next
# stretch at the next tick.
FRONT = 100
STRETCH = 400
# Women told in one go before the tick rests (`_rest`).
SLICE = 50
# The longest rest after a slice (seconds).
MOST_REST = 0.02
# Recent handling times are read again this often (seconds).
HANDLING_SECONDS = 60.0
# An arrival's estimate reads the advisers again when the last reading is this old (seconds).
TEAM_SECONDS = 1.0
# An arrival with fewer than this many ahead of her has them counted by kind for her estimate.
ARRIVAL_EXACT = FRONT + STRETCH


def estimate_fields(found: Estimate | None) -> dict[str, int] | None:
    """Whole minutes for the page: the low end rounded down, the high end up."""
    if found is None:
        return None
    return {
        "low_minutes": math.floor(found.low / 60),
        "high_minutes": math.ceil(found.high / 60),
    }


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
        # Where the next tick's stretch begins (a position in the queue, past FRONT), and
        # the chats seen since the stretches began again at the front (to forget the rest).
        self.cursor = FRONT
        self.seen: set[int] = set()
        self._team: list[Adviser] = []
        self._team_at = float("-inf")
        # The whole queue counted by kind at the last tick (when it was long).
        self.everyone: dict[Kind, int] = {}
        self.everyone_at = float("-inf")

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

    def _everyone_fresh(self) -> bool:
        return asyncio.get_running_loop().time() - self.everyone_at <= 2 * WAIT_NEWS_SECONDS

    async def team(self, session: AsyncSession, fresh: bool = False) -> list[Adviser]:
        """The advisers as estimates see them: read again when `fresh` (each tick) or when
        the last reading is over TEAM_SECONDS old, so a surge of arrivals reads them about
        once a second, not once per arrival."""
        loop = asyncio.get_running_loop()
        if fresh or loop.time() - self._team_at > TEAM_SECONDS:
            found = await queue_state.advisers(session, self.services.settings)
            self._team = [adviser for _, adviser in found.values()]
            self._team_at = loop.time()
        return self._team

    async def stretch_news(self) -> list[tuple[int, dict[str, Any]]]:
        """This tick's stretch: (visitor id, her `queue` event) for the first FRONT women and
        the next STRETCH further back, in the queue's order; moves the stretch on."""
        start = max(FRONT, self.cursor)
        loop = asyncio.get_running_loop()
        stretch: list[tuple[Waiting, int, int]] = []
        total = 0
        before: dict[Kind, int] = {}
        began_slice = loop.time()
        async with self.services.db.read() as session:
            rows = await session.stream(queue_state.stretch_query(FRONT, start, STRETCH))
            async for read in rows.partitions(SLICE):
                total = int(read[0].total)
                stretch.extend(queue_state.as_stretch_rows(read))
                began_slice = await _rest(began_slice)
            if stretch and start < total:
                # Those before the stretch, and the whole queue for the first estimate of a
                # woman who joins far back (`one_for`): one pass over the queue.
                before, self.everyone = queue_state.kinds_both(
                    await session.execute(queue_state.kinds_query(start))
                )
                self.everyone_at = loop.time()
            team = await self.team(session, fresh=True)
        handling = await self.handling()
        front = [row for row in stretch if row[2] <= FRONT]
        further = [row for row in stretch if row[2] > FRONT]
        told: list[tuple[int, dict[str, Any]]] = []
        for part, ahead in ((front, None), (further, before)):
            found = each_estimate([w for w, _, _ in part], team, handling, ahead)
            for (waiting, visitor_id, position), (_, estimate) in zip(part, found, strict=True):
                event = {
                    "type": "queue",
                    "conversation_id": waiting.id,
                    "position": position,
                    "waiting": total,
                    "estimate": estimate_fields(estimate),
                }
                told.append((visitor_id, event))
        self.seen.update(event["conversation_id"] for _, event in told)
        if start + STRETCH >= total:
            # Back to the front next tick: forget what was sent to chats no longer waiting.
            self.cursor = FRONT
            self.sent = {c: e for c, e in self.sent.items() if c in self.seen}
            self.seen = set()
        else:
            self.cursor = start + STRETCH
        return told

    async def one_for(self, conversation_id: int) -> dict[str, Any] | None:
        """Her `queue` event now, worked out for her alone: her position and how many wait
        are counted in the database, and her estimate from how many of each kind are ahead
        of her and the advisers read at most TEAM_SECONDS ago. Those ahead are counted by
        kind for her when fewer than ARRIVAL_EXACT are; further back (an arrival in a surge)
        her estimate counts the whole queue as the last tick counted it (at most two ticks
        old), and her stretch corrects it."""
        async with self.services.db.read() as session:
            bound = {"mine": conversation_id}
            found = (await session.execute(_MINE_AND_COUNTS, bound)).first()
            if found is None or found[0].status != "waiting":
                return None
            mine, waiting, ahead, for_adviser = found
            me = replace(queue_state.as_waiting(mine), for_adviser=for_adviser)
            if (ahead or 0) < ARRIVAL_EXACT or not self._everyone_fresh():
                before = queue_state.kinds(await session.execute(_KINDS_AHEAD, bound))
            else:
                # Far back, where those ahead of her are nearly the whole queue: counted by
                # kind at the last tick (before she joined), not again for each arrival.
                before = self.everyone
            team = await self.team(session)
        handling = await self.handling()
        _, estimate = next(each_estimate([me], team, handling, before))
        event = {
            "type": "queue",
            "conversation_id": conversation_id,
            "position": (ahead or 0) + 1,
            "waiting": waiting or 0,
            "estimate": estimate_fields(estimate),
        }
        self.sent[conversation_id] = event
        return event

    async def tell_women_here(self) -> int:
        """Send each waiting woman of this tick's stretch connected to this node her news if
        it changed; how many were told."""
        connections = self.services.connections
        told = 0
        began_slice = asyncio.get_running_loop().time()
        for index, (visitor_id, event) in enumerate(await self.stretch_news()):
            if index and not index % SLICE:
                # Let a routing round (or anything else) run between slices.
                began_slice = await _rest(began_slice)
            here = connections.of_visitor(visitor_id)
            if not here:
                continue
            conversation_id = event["conversation_id"]
            if self.sent.get(conversation_id) == event:
                continue
            self.sent[conversation_id] = event
            for connection in here:
                if connection.conversation_id == conversation_id:
                    connection.send(event)
                    told += 1
        return told

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(WAIT_NEWS_SECONDS)
            try:
                if self.services.hub.has_members():
                    await self.tell_women_here()
            except Exception as problem:
                failed_with(problem, log, "waiting news failed")


def _mine_and_counts_statement() -> Select[Any]:
    """Her row, how many wait, how many are ahead of her and the adviser she waits for (if
    she came back to one): one statement (an arrival's first position, in a surge at every
    arrival), for the conversation id bound as `mine`."""
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
    for_adviser = (
        select(ReturnVisit.adviser_id)
        .where(
            ReturnVisit.conversation_id == Conversation.id,
            ReturnVisit.wait_for_adviser.is_(True),
        )
        .scalar_subquery()
    )
    return select(Conversation, waiting, ahead, for_adviser).where(
        Conversation.id == bindparam("mine")
    )


def _kinds_ahead_statement() -> Executable:
    """How many of each kind wait ahead of her (in the order of `_mine_and_counts_statement`),
    for the conversation id bound as `mine`."""
    other = aliased(Conversation)
    mine = aliased(Conversation)
    return (
        select(
            other.language,
            other.topic,
            other.any_adviser,
            ReturnVisit.adviser_id,
            func.count(),
        )
        .select_from(other)
        .join(mine, mine.id == bindparam("mine"))
        .outerjoin(
            ReturnVisit,
            (ReturnVisit.conversation_id == other.id) & ReturnVisit.wait_for_adviser.is_(True),
        )
        .where(
            other.status == "waiting",
            or_(
                other.priority > mine.priority,
                and_(other.priority == mine.priority, other.id < mine.id),
            ),
        )
        .group_by(other.language, other.topic, other.any_adviser, ReturnVisit.adviser_id)
    )


# Built once: an arrival only binds her id (building the statement and its cache key again
# for every arrival was a good part of her first event's cost on the event loop).
_MINE_AND_COUNTS = _mine_and_counts_statement()
_KINDS_AHEAD = _kinds_ahead_statement()


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
