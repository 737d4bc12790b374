"""What the helpline keeps and for how long: transcripts for the retention period, visitor
sessions while something refers to them, staff sessions until they expire. A visitor may
delete hers at once. The purges run on the app's housekeeping schedule (`install`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, create_model
from sqlalchemy import ColumnElement, delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from chat.core.clock import now
from chat.core.documents import DocumentKind
from chat.core.events import VisitorForgotten
from chat.core.models import Base, Conversation, Event, StaffSession, Stream, VisitorSession
from chat.core.services import Services
from chat.core.settings import Settings
from chat.helpline.conversations import end_session
from moderation.datafiles import describe_validation_error


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
    """She asked to delete her conversation: her session and chat end (the adviser hears, her
    sockets close everywhere), then the conversation and the session go, in one commit."""
    async with services.change() as tx:
        session = tx.session
        await end_session(services, visitor.id, "ended", tx=tx)
        ids = (
            await session.scalars(
                select(Conversation.id).where(Conversation.visitor_id == visitor.id)
            )
        ).all()
        await _delete_conversations(session, list(ids))
        await session.execute(delete(VisitorSession).where(VisitorSession.id == visitor.id))
        tx.emit(VisitorForgotten(visitor_id=visitor.id))


async def _delete_conversations(session: AsyncSession, ids: list[int]) -> None:
    if not ids:
        return
    await session.execute(delete(Event).where(Event.stream_id.in_(ids)))
    await session.execute(delete(Conversation).where(Conversation.id.in_(ids)))
    await session.execute(delete(Stream).where(Stream.id.in_(ids)))


async def purge_unused_visitor_sessions(services: Services, at: datetime | None = None) -> int:
    """Delete visitor sessions that nothing refers to (she never chatted nor sat in a room, or
    what she had is gone) once they are older than WILLOW_VISITOR_SESSION_HOURS."""
    cutoff = (at or now()) - timedelta(hours=services.settings.visitor_session_hours)
    async with services.db.write() as session:
        result = await session.execute(
            delete(VisitorSession).where(
                VisitorSession.created_at < cutoff, *_nothing_refers_to_visitor()
            )
        )
    return int(getattr(result, "rowcount", 0) or 0)


def _nothing_refers_to_visitor() -> list[ColumnElement[bool]]:
    """No row of any table points at the session: found from the schema, so a feature's
    table that keeps a visitor session alive (a room seat) needs no change here."""
    conditions: list[ColumnElement[bool]] = []
    target = VisitorSession.__table__.c.id
    for table in Base.metadata.sorted_tables:
        for key in table.foreign_keys:
            if key.column is target:
                conditions.append(~exists().where(key.parent == target))
    return conditions


async def purge_expired_staff_sessions(services: Services, at: datetime | None = None) -> int:
    """Staff logins past their expiry are no use to anyone: delete them."""
    async with services.db.write() as session:
        result = await session.execute(
            delete(StaffSession).where(StaffSession.expires_at < (at or now()))
        )
    return int(getattr(result, "rowcount", 0) or 0)


# What an admin may change live (chat/core/documents.py); the settings are the defaults.
RETENTION_FIELDS = ("transcript_retention_days", "visitor_session_hours", "audit_retention_days")


def _retention_model() -> type[BaseModel]:
    """The same fields, with the same limits, as the settings that validate them at start."""
    fields: dict[str, Any] = {
        name: (Settings.model_fields[name].annotation, Settings.model_fields[name])
        for name in RETENTION_FIELDS
    }
    return create_model(
        "RetentionPeriods", __config__=ConfigDict(extra="forbid", strict=True), **fields
    )


RetentionPeriods = _retention_model()


def retention_from_data(data: object) -> dict[str, Any]:
    """Check an admin's periods as WILLOW_* settings are checked at start."""
    if not isinstance(data, dict):
        raise ValueError("retention must be a mapping of period: number")
    try:
        return RetentionPeriods.model_validate(data).model_dump()
    except ValidationError as exc:
        raise ValueError(describe_validation_error(exc)) from None


def register_retention(services: Services) -> None:
    """Retention periods are an edited document; WILLOW_* settings are their defaults."""
    started_with = {name: getattr(services.settings, name) for name in RETENTION_FIELDS}

    def apply(periods: dict[str, Any]) -> None:
        # Every purge and page reads services.settings when it runs, so this is enough.
        services.settings = services.settings.model_copy(update=periods)

    services.documents.register(
        DocumentKind(
            name="retention",
            default=lambda: dict(started_with),
            parse=retention_from_data,
            body=dict,
            summary=lambda p: f"transcripts {p['transcript_retention_days']} days",
            appliers=[apply],
        )
    )


def install(services: Services) -> None:
    """Register the helpline's purges with the app's housekeeping."""
    register_retention(services)
    every = services.settings.housekeeping_seconds
    jobs = services.housekeeping
    jobs.register("transcripts", every, lambda: purge_expired(services))
    jobs.register("visitor_sessions", every, lambda: purge_unused_visitor_sessions(services))
    jobs.register("staff_sessions", every, lambda: purge_expired_staff_sessions(services))
