"""Transcripts are kept only as long as configured, and a visitor may delete hers at once."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from chat.core.clock import now
from chat.core.models import Conversation, Event, Stream, VisitorSession
from chat.core.services import Services
from chat.helpline.conversations import end_conversation, newest_conversation

log = logging.getLogger("willow.retention")
PURGE_EVERY_SECONDS = 3600


async def purge_expired(services: Services, at: datetime | None = None) -> int:
    """Delete conversations that ended more than the retention period ago; returns how many."""
    cutoff = (at or now()) - timedelta(days=services.settings.transcript_retention_days)
    async with services.db.write() as session:
        rows = await session.execute(
            select(Conversation.id, Conversation.visitor_id).where(
                Conversation.status == "ended", Conversation.ended_at < cutoff
            )
        )
        expired = rows.all()
        await _delete_conversations(session, [c for c, _ in expired])
        visitors = {v for _, v in expired}
        if visitors:
            # A session with nothing left to show is removed with its transcript.
            still_used = set(
                (
                    await session.scalars(
                        select(Conversation.visitor_id).where(Conversation.visitor_id.in_(visitors))
                    )
                ).all()
            )
            await session.execute(
                delete(VisitorSession).where(VisitorSession.id.in_(visitors - still_used))
            )
    return len(expired)


async def forget_visitor(services: Services, visitor: VisitorSession) -> None:
    """She asked to delete her conversation: end it (the adviser hears), then remove it and
    her session, in one commit."""
    async with services.change() as tx:
        session = tx.session
        conversation = await newest_conversation(session, visitor.id)
        if conversation is not None and conversation.status != "ended":
            await end_conversation(services, conversation.id, by="visitor", tx=tx)
        ids = (
            await session.scalars(
                select(Conversation.id).where(Conversation.visitor_id == visitor.id)
            )
        ).all()
        await _delete_conversations(session, list(ids))
        await session.execute(delete(VisitorSession).where(VisitorSession.id == visitor.id))


async def _delete_conversations(session: AsyncSession, ids: list[int]) -> None:
    if not ids:
        return
    await session.execute(delete(Event).where(Event.stream_id.in_(ids)))
    await session.execute(delete(Conversation).where(Conversation.id.in_(ids)))
    await session.execute(delete(Stream).where(Stream.id.in_(ids)))


async def purge_forever(services: Services) -> None:
    """Background task: purge once an hour for as long as the app runs."""
    while True:
        try:
            removed = await purge_expired(services)
            if removed:
                log.info("retention: removed %d expired conversations", removed)
        except Exception:
            log.exception("retention purge failed")
        await asyncio.sleep(PURGE_EVERY_SECONDS)
