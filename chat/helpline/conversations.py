"""1:1 conversations: change state in one committed transaction, then publish the news.

Every function here that changes state is an action: it takes the services, who is acting and
optionally an open unit of work (`tx`, chat/core/uow.py) to join, so a caller may make several
actions one commit. News goes out only once the change is committed.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import Any, Literal

from sqlalchemy import exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chat.core import streams
from chat.core.appender import Appended
from chat.core.channels import staff_sender
from chat.core.clock import aware, now
from chat.core.events import ConversationEnded, VisitorLeft
from chat.core.hub import stream_channel
from chat.core.models import Conversation, SafeToTalk, Staff, Stream, VisitorSession
from chat.core.outages import failed_with
from chat.core.protocol import ProtocolError
from chat.core.services import Services
from chat.core.uow import Change
from chat.helpline import board, queue_state, returning, routing
from chat.helpline.measures import (
    contact_facts,
    ending_facts,
    observe_end,
    observe_wait,
    waited,
)
from chat.helpline.queue_news import news_of
from chat.helpline.routing_errors import RoutingError

# At most one round of queue news per node this often (50 rounds a second).
QUEUE_NEWS_DELAY = 0.02
log = logging.getLogger("willow.queue")


# Messages are stored only while their conversation has not ended (correlated to streams.id).
CONVERSATION_OPEN = exists().where(Conversation.id == Stream.id, Conversation.status != "ended")


async def current_conversation(services: Services, visitor_id: int) -> Conversation | None:
    """Her newest conversation, so a reconnect finds it (ended ones too, to show the ending)."""
    async with services.db.read() as session:
        return await newest_conversation(session, visitor_id)


async def newest_conversation(session: AsyncSession, visitor_id: int) -> Conversation | None:
    result = await session.execute(
        select(Conversation)
        .where(Conversation.visitor_id == visitor_id)
        .order_by(Conversation.id.desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


async def request_chat(
    services: Services,
    visitor: VisitorSession,
    priority: int = 0,
    note: str | None = None,
    tx: Change | None = None,
) -> Conversation:
    """She asks to talk: a new conversation joins the queue (ahead of others if `priority`).

    A mentor moving her from a room gives a priority and a `note` for the adviser.
    """
    async with services.change(tx) as tx:
        session = tx.session
        # Her quick exit may have reached another node while this socket stayed open, or
        # housekeeping removed a session that had never chatted.
        found = await session.execute(
            select(VisitorSession.ended_at).where(VisitorSession.id == visitor.id)
        )
        row = found.first()
        if row is None or row.ended_at is not None:
            raise ProtocolError("unauthorized", "this session has ended; start a new one")
        newest = await newest_conversation(session, visitor.id)
        if newest is not None and newest.status != "ended":
            raise ProtocolError("already_waiting")
        stream = await streams.new_stream(session, "conversation")
        conversation = Conversation(
            id=stream.id,
            visitor_id=visitor.id,
            status="waiting",
            language=visitor.language,
            topic=visitor.topic,
            priority=priority,
            note=note,
        )
        session.add(conversation)
        await session.flush()
        tx.after(lambda: publish_queue(services, added={conversation.id}))
        tx.after(lambda: _flagged_arrival(services, conversation))
        # Counted in this transaction: an arrival is one write, not two (a surge's cost).
        await services.tally.note_within(tx, "contact", **contact_facts(visitor))
    return conversation


def _flagged_arrival(services: Services, conversation: Conversation) -> None:
    """A chat that arrives flagged (a mentor moved her from a room at risk) is on the board."""
    if conversation.risk_level not in (None, "none"):
        board.note(services, chats={conversation.id})


async def waiting_conversations(session: AsyncSession) -> list[Conversation]:
    result = await session.execute(
        select(Conversation)
        .where(Conversation.status == "waiting")
        .order_by(Conversation.priority.desc(), Conversation.created_at, Conversation.id)
    )
    return list(result.scalars())


def queue_entry(conversation: Conversation, safe_to_talk: SafeToTalk) -> dict[str, Any]:
    return {
        "conversation_id": conversation.id,
        # SQLite hands back naive times: the offset makes every sent time unambiguous UTC.
        "waiting_since": aware(conversation.created_at).isoformat()
        if conversation.created_at
        else None,
        "language": conversation.language,
        "topic": conversation.topic,
        "safe_to_talk": safe_to_talk,
        "priority": conversation.priority,
        "risk_level": conversation.risk_level,
        "note": conversation.note,
        # She chose to talk to any adviser after being asked (her language may not be yours).
        "any_adviser": bool(conversation.any_adviser),
    }


async def queue_snapshot(services: Services) -> dict[str, Any]:
    """What staff see of the queue: no visitor identifiers, only what helps triage."""
    async with services.db.read() as session:
        waiting = await waiting_conversations(session)
        safe = dict(
            (
                await session.execute(
                    select(VisitorSession.id, VisitorSession.safe_to_talk).where(
                        VisitorSession.id.in_([c.visitor_id for c in waiting])
                    )
                )
            ).all()
        )
        available = await advisers_online(session)
    return {
        "type": "queue_snapshot",
        "waiting": [queue_entry(c, safe.get(c.visitor_id)) for c in waiting],
        "available_advisers": available,
    }


async def advisers_online(session: AsyncSession) -> int:
    """Advisers available now: availability ends with an adviser's last socket (presence)."""
    available = await session.scalar(
        select(func.count())
        .select_from(Staff)
        .where(Staff.available.is_(True), Staff.disabled.is_(False))
    )
    return available or 0


async def publish_queue(
    services: Services,
    added: set[int] | None = None,
    removed: set[int] | None = None,
    changed: set[int] | None = None,
) -> None:
    """The queue changed: staff hear what changed (chat/helpline/queue_news.py) at once, or,
    when news went out less than QUEUE_NEWS_DELAY ago, as soon as that much time has passed;
    routing runs a round. Each waiting woman hears her own position on the news tick.

    A burst of changes (many arrivals, several advisers taking chats) makes one round of
    news, not one per change. A change after a quiet spell is not held back.
    """
    router = services.features.find(queue_state.Router)
    if router is not None:
        # A chat joining, leaving or changing in the queue frees no adviser's place.
        router.wanted(arrival=bool(added or removed or changed))
    news_of(services).note(added or set(), removed or set(), changed or set())
    if services.queue_news_pending:
        return
    services.queue_news_pending = True
    loop = asyncio.get_running_loop()
    wait = max(0.0, services.queue_news_at + QUEUE_NEWS_DELAY - loop.time())
    services.spawn(_publish_queue_soon(services, wait))


async def _publish_queue_soon(services: Services, wait: float) -> None:
    if wait > 0:
        await asyncio.sleep(wait)
    # From here on a change asks for another round, so nothing committed later is missed.
    services.queue_news_pending = False
    services.queue_news_at = asyncio.get_running_loop().time()
    try:
        await news_of(services).publish_staff()
    except Exception as problem:
        failed_with(problem, log, "queue news failed")


async def queue_position(services: Services, conversation_id: int) -> dict[str, Any] | None:
    """Her `queue` event now: position, how many wait, her estimate (None: not waiting)."""
    return await news_of(services).one_for(conversation_id)


async def set_available(services: Services, staff: Staff, available: bool) -> None:
    async with services.change() as tx:
        changed = await tx.session.execute(
            update(Staff)
            .where(Staff.id == staff.id, Staff.available.is_(not available))
            .values(available=available)
        )
        went_away = not available and int(getattr(changed, "rowcount", 0)) > 0
        if went_away:
            # Women who came back to her and wait for her are asked at once.
            await returning.offer_when_away(tx, staff.id)
        tx.after(lambda: publish_queue(services))
        tx.after(lambda: board.note(services, staff={staff.id}))


async def active_count(session: AsyncSession, staff_id: int) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(Conversation)
        .where(Conversation.adviser_id == staff_id, Conversation.status == "active")
    )
    return count or 0


async def hold_adviser(session: AsyncSession, staff_id: int) -> int:
    """Lock her staff row until this transaction ends, so that her consoles on any node count
    her chats one after another: the count read after this sees every assignment committed
    before (a write, so SQLite takes its one writer's lock here too)."""
    await session.execute(update(Staff).where(Staff.id == staff_id).values(capacity=Staff.capacity))
    return staff_id


async def take_next(services: Services, staff: Staff, tx: Change | None = None) -> Conversation:
    """The adviser takes the chat routing gives her (chat/helpline/routing.py): the most urgent
    one she matches; exactly one adviser gets each chat."""
    async with services.change(tx) as tx:
        session = tx.session
        await queue_state.lock_routing(session)
        if await active_count(session, await hold_adviser(session, staff.id)) >= staff.capacity:
            raise ProtocolError("at_capacity")
        conversation = await routed_next(services, session, staff)
        if conversation is None:
            raise ProtocolError("queue_empty")
        await hand_over(services, tx, conversation, staff)
    return conversation


async def routed_next(
    services: Services, session: AsyncSession, staff: Staff
) -> Conversation | None:
    """The waiting chat routing picks for this adviser, read under the routing lock."""
    fresh = await session.get(Staff, staff.id, populate_existing=True)
    if fresh is None:
        return None
    active = await active_count(session, staff.id)
    adviser = queue_state.as_adviser(fresh, active, services.settings)
    if not adviser.trained:
        raise RoutingError("not_trained")
    # Whether she pressed "available" is not asked here: taking a chat is asking for one.
    adviser = replace(adviser, available=True)
    offset, seen = 0, 0
    while True:
        page = await queue_state.waiting_page(session, offset)
        if not page:
            break
        offset += len(page)
        seen += len(page)
        chosen = routing.next_for([w for w, _ in page], adviser)
        if chosen is not None:
            return await session.get(Conversation, chosen.id)
    if seen:
        raise ProtocolError("queue_empty", "no waiting chat matches your languages and specialisms")
    return None


async def hand_over(
    services: Services, tx: Change, conversation: Conversation, staff: Staff
) -> None:
    """Give a waiting chat to this adviser, in the caller's unit of work (routing lock held)."""
    session = tx.session
    conversation.status = "active"
    conversation.adviser_id = staff.id
    conversation.assigned_at = now()
    observe_wait(services, conversation)
    assigned = {
        "type": "assigned",
        "conversation_id": conversation.id,
        "adviser_name": staff.display_name,
        "at": now().isoformat(),
    }
    # Already in the session when routing read it with her chat (no round trip then).
    visitor = await session.get(VisitorSession, conversation.visitor_id)
    safe = visitor.safe_to_talk if visitor else None
    triage = {**queue_entry(conversation, safe), "type": "triage"}
    triage["nation"] = visitor.nation if visitor else None
    # What the adviser needs to know before replying (staff only), kept with the chat for a
    # reload; stored with `assigned` in one seq update and one write.
    await tx.append_many(conversation.id, [(assigned, False), (triage, True)])
    tx.after(lambda: publish_queue(services, removed={conversation.id}))
    tx.after(lambda: board.note(services, staff={staff.id}, chats={conversation.id}))
    await services.tally.note_within(tx, "taken", seconds=waited(conversation))


async def conversation_for(services: Services, conversation_id: int) -> Conversation:
    async with services.db.read() as session:
        conversation = await session.get(Conversation, conversation_id)
    if conversation is None:
        raise ProtocolError("not_found")
    return conversation


async def send_message(
    services: Services,
    conversation_id: int,
    sender: str,
    sender_label: str,
    client_id: str,
    body: str,
    extra: dict[str, Any] | None = None,
) -> Appended:
    """Store a message and publish it; a repeated client_id returns the first one untouched.

    The appender stores it together with whatever else arrived meanwhile (chat/core/appender.py);
    its guard refuses a message for a conversation that has ended.
    """
    payload: dict[str, Any] = {
        "type": "message",
        "conversation_id": conversation_id,
        "sender": sender_label,
        "client_id": client_id,
        "body": body,
        "at": now().isoformat(),
    }
    if extra:
        payload.update(extra)
    try:
        return await services.appender.append(
            conversation_id, payload, sender=sender, client_id=client_id, guard=CONVERSATION_OPEN
        )
    except streams.StreamClosed:
        raise ProtocolError("conversation_ended") from None


async def publish_typing(services: Services, conversation_id: int, who: str, active: bool) -> None:
    await services.publish(
        stream_channel(conversation_id),
        {"type": "typing", "conversation_id": conversation_id, "from": who, "active": active},
    )


async def end_conversation(
    services: Services, conversation_id: int, by: str, tx: Change | None = None
) -> dict[str, Any] | None:
    """End a conversation (by visitor, adviser or quick_exit); ending twice changes nothing.
    Its write goes ahead of queued joins (it may free an adviser's place)."""
    async with services.change(tx, first=True) as tx:
        conversation = await tx.session.get(Conversation, conversation_id)
        if conversation is None:
            raise ProtocolError("not_found")
        if conversation.status == "ended":
            return None
        # Routing hears of it (chat/helpline/assign.py): she leaves the queue, or a place is free.
        waiting = conversation.status == "waiting"
        tx.emit(ConversationEnded(conversation_id, conversation.visitor_id, by, waiting))
        conversation.status = "ended"
        conversation.ended_at = now()
        conversation.ended_by = by
        observe_end(services, conversation)
        adviser = conversation.adviser_id
        tx.after(lambda: board.note(services, staff={adviser}, chats={conversation_id}))
        await services.tally.note_within(tx, "ended", **ending_facts(conversation))
        return await tx.append(
            conversation_id,
            {
                "type": "ended",
                "conversation_id": conversation_id,
                "by": by,
                "at": now().isoformat(),
            },
        )


async def end_session(
    services: Services,
    visitor_id: int,
    reason: Literal["quick_exit", "ended"],
    tx: Change | None = None,
) -> None:
    """Her session ends and her chat with it, in one commit; then every socket of hers closes,
    on every node (VisitorLeft)."""
    async with services.change(tx) as tx:
        await tx.session.execute(
            update(VisitorSession).where(VisitorSession.id == visitor_id).values(ended_at=now())
        )
        conversation = await newest_conversation(tx.session, visitor_id)
        if conversation is not None and conversation.status != "ended":
            by = "quick_exit" if reason == "quick_exit" else "visitor"
            await end_conversation(services, conversation.id, by=by, tx=tx)
        tx.emit(VisitorLeft(visitor_id=visitor_id, reason=reason))


async def adviser_conversations(services: Services, staff_id: int) -> list[Conversation]:
    async with services.db.read() as session:
        result = await session.execute(
            select(Conversation)
            .where(Conversation.adviser_id == staff_id, Conversation.status == "active")
            .order_by(Conversation.id)
        )
        return list(result.scalars())


async def record_transcript_access(
    services: Services, staff: Staff, conversation: Conversation
) -> None:
    """Staff reading a transcript other than their own live chat: the audit log says who, when."""
    if conversation.adviser_id == staff.id and conversation.status != "ended":
        return
    conversation_id = conversation.id
    async with services.change() as tx:
        tx.audit(staff_sender(staff.id), "transcript.view", f"conversation:{conversation_id}")
