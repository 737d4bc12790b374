"""1:1 conversations: change state in one committed transaction, then publish the news.

Every function here that changes state is an action: it takes the services, who is acting and
optionally an open unit of work (`tx`, chat/core/uow.py) to join, so a caller may make several
actions one commit. News goes out only once the change is committed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Literal

from sqlalchemy import exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chat.core import streams
from chat.core.appender import Appended
from chat.core.channels import STAFF_CHANNEL, staff_sender
from chat.core.clock import aware, now
from chat.core.events import ConversationEnded, VisitorLeft
from chat.core.hub import stream_channel
from chat.core.models import Conversation, ReturnVisit, Staff, Stream, VisitorSession
from chat.core.protocol import ProtocolError
from chat.core.services import Services
from chat.core.uow import Change
from chat.helpline.measures import (
    contact_facts,
    ending_facts,
    observe_end,
    observe_wait,
    waited,
)

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
        tx.after(lambda: publish_queue(services))
        tx.after(lambda: services.tally.note("contact", **contact_facts(visitor)))
    return conversation


async def waiting_conversations(session: AsyncSession) -> list[Conversation]:
    result = await session.execute(
        select(Conversation)
        .where(Conversation.status == "waiting")
        .order_by(Conversation.priority.desc(), Conversation.created_at, Conversation.id)
    )
    return list(result.scalars())


def queue_entry(conversation: Conversation, safe_to_talk: bool | None) -> dict[str, Any]:
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


async def publish_queue(services: Services) -> None:
    """The queue changed: staff and waiting visitors hear of it at once, or, when news went
    out less than QUEUE_NEWS_DELAY ago, as soon as that much time has passed.

    A burst of changes (many arrivals, several advisers taking chats) makes one snapshot, not
    one per change: news for every adviser and every waiting visitor on every change would
    grow with the square of the queue. A change after a quiet spell is not held back.
    """
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
        await _publish_queue_now(services)
    except Exception:
        log.exception("queue news failed")


async def _publish_queue_now(services: Services) -> None:
    snapshot = await queue_snapshot(services)
    await services.publish(STAFF_CHANNEL, snapshot)
    total = len(snapshot["waiting"])
    for position, entry in enumerate(snapshot["waiting"], start=1):
        conversation_id = entry["conversation_id"]
        await services.publish(
            stream_channel(conversation_id),
            {
                "type": "queue",
                "conversation_id": conversation_id,
                "position": position,
                "waiting": total,
                "advisers_online": snapshot["available_advisers"],
            },
        )


async def queue_position(services: Services, conversation_id: int) -> dict[str, Any] | None:
    async with services.db.read() as session:
        waiting = await waiting_conversations(session)
        online = await advisers_online(session)
    for position, conversation in enumerate(waiting, start=1):
        if conversation.id == conversation_id:
            return {
                "type": "queue",
                "conversation_id": conversation_id,
                "position": position,
                "waiting": len(waiting),
                "advisers_online": online,
            }
    return None


async def set_available(services: Services, staff: Staff, available: bool) -> None:
    async with services.change() as tx:
        await tx.session.execute(
            update(Staff).where(Staff.id == staff.id).values(available=available)
        )
        tx.after(lambda: publish_queue(services))


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
    """The adviser takes the first waiting chat; exactly one adviser gets each chat."""
    async with services.change(tx) as tx:
        session = tx.session
        if await active_count(session, await hold_adviser(session, staff.id)) >= staff.capacity:
            raise ProtocolError("at_capacity")
        # She came back with a return code and chose to wait for the adviser she had.
        kept_for_another = exists().where(
            ReturnVisit.conversation_id == Conversation.id,
            ReturnVisit.wait_for_adviser.is_(True),
            ReturnVisit.adviser_id != staff.id,
        )
        query = (
            select(Conversation)
            .where(Conversation.status == "waiting", ~kept_for_another)
            .order_by(Conversation.priority.desc(), Conversation.created_at, Conversation.id)
            .limit(1)
        )
        if not services.db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        conversation = (await session.execute(query)).scalar_one_or_none()
        if conversation is None:
            raise ProtocolError("queue_empty")
        conversation.status = "active"
        conversation.adviser_id = staff.id
        conversation.assigned_at = now()
        observe_wait(services, conversation)
        await tx.append(
            conversation.id,
            {
                "type": "assigned",
                "conversation_id": conversation.id,
                "adviser_name": staff.display_name,
                "at": now().isoformat(),
            },
        )
        visitor = await session.get(VisitorSession, conversation.visitor_id)
        safe = visitor.safe_to_talk if visitor else None
        triage = {**queue_entry(conversation, safe), "type": "triage"}
        triage["nation"] = visitor.nation if visitor else None
        # What the adviser needs to know before replying, kept with the chat for a reload.
        await tx.append(conversation.id, triage, staff_only=True)
        tx.after(lambda: publish_queue(services))
        tx.after(lambda: services.tally.note("taken", seconds=waited(conversation)))
    return conversation


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
    """End a conversation (by visitor, adviser or quick_exit); ending twice changes nothing."""
    async with services.change(tx) as tx:
        conversation = await tx.session.get(Conversation, conversation_id)
        if conversation is None:
            raise ProtocolError("not_found")
        if conversation.status == "ended":
            return None
        if conversation.status == "waiting":
            tx.after(lambda: publish_queue(services))
        tx.emit(ConversationEnded(conversation_id, conversation.visitor_id, by))
        conversation.status = "ended"
        conversation.ended_at = now()
        conversation.ended_by = by
        observe_end(services, conversation)
        tx.after(lambda: services.tally.note("ended", **ending_facts(conversation)))
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
