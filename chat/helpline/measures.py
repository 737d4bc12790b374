"""The helpline's figures for /metrics: the queue, advisers and chats, read when scraped."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from chat.core.clock import aware, now
from chat.core.metrics import bounded
from chat.core.models import Conversation, Staff, VisitorSession
from chat.core.services import Services
from chat.helpline.choices import LANGUAGES
from chat.helpline.hours import ServiceHours

# Ended by the visitor, adviser or quick exit: whether an adviser had taken the chat.
TALKED, LEFT_WAITING = "talked", "left_waiting"


def language_label(language: str | None) -> str:
    return bounded(language, LANGUAGES)


def waited(conversation: Conversation) -> float:
    """Seconds from asking to talk to an adviser taking the chat (or to now)."""
    until = aware(conversation.assigned_at) if conversation.assigned_at else now()
    return (until - aware(conversation.created_at)).total_seconds()


def handled(conversation: Conversation) -> float:
    """Seconds from an adviser taking the chat to its end (or to now)."""
    if conversation.assigned_at is None:
        return 0.0
    until = aware(conversation.ended_at) if conversation.ended_at else now()
    return (until - aware(conversation.assigned_at)).total_seconds()


def observe_wait(services: Services, conversation: Conversation) -> None:
    """An adviser took the chat: how long she waited."""
    label = language_label(conversation.language)
    services.metrics.wait_seconds.labels(label).observe(waited(conversation))


def observe_end(services: Services, conversation: Conversation) -> None:
    if conversation.assigned_at is None:
        services.metrics.chats_ended.labels(LEFT_WAITING).inc()
        return
    services.metrics.chats_ended.labels(TALKED).inc()
    services.metrics.handling_seconds.observe(handled(conversation))


def contact_facts(visitor: VisitorSession) -> dict[str, Any]:
    """What anonymised reporting counts of a new contact: her first-screen choices only."""
    return {"language": visitor.language, "topic": visitor.topic, "nation": visitor.nation}


def ending_facts(conversation: Conversation) -> dict[str, Any]:
    """How a chat ended, and how long it ran (or how long she waited, if nobody took it)."""
    talked = conversation.assigned_at is not None
    return {
        "outcome": TALKED if talked else LEFT_WAITING,
        "by": conversation.ended_by,
        "seconds": handled(conversation) if talked else waited(conversation),
    }


def install_metrics(services: Services) -> None:
    async def sample() -> None:
        await _sample(services)

    services.metrics.sample(sample)


async def _sample(services: Services) -> None:
    metrics = services.metrics
    async with services.db.read() as session:
        waiting = (
            await session.execute(
                select(Conversation.language, func.count(), func.min(Conversation.created_at))
                .where(Conversation.status == "waiting")
                .group_by(Conversation.language)
            )
        ).all()
        available, capacity = (
            await session.execute(
                select(func.count(), func.coalesce(func.sum(Staff.capacity), 0)).where(
                    Staff.available.is_(True), Staff.disabled.is_(False)
                )
            )
        ).one()
        active = await session.scalar(
            select(func.count()).select_from(Conversation).where(Conversation.status == "active")
        )
    _set_queue(services, waiting)
    hours = services.features.find(ServiceHours)
    metrics.helpline_open.set(1 if hours is None or hours.is_open(now()) else 0)
    metrics.advisers_available.set(available)
    metrics.adviser_capacity.set(capacity)
    metrics.active_chats.set(active or 0)


def _set_queue(services: Services, rows: object) -> None:
    counts = dict.fromkeys((*LANGUAGES, "other"), 0)
    longest = dict.fromkeys(counts, 0.0)
    moment = now()
    for language, count, oldest in rows:  # type: ignore[attr-defined]
        label = language_label(language)
        counts[label] += count
        waited = (moment - aware(oldest)).total_seconds() if oldest is not None else 0.0
        longest[label] = max(longest[label], waited)
    for label, count in counts.items():
        services.metrics.queue_waiting.labels(label).set(count)
        services.metrics.queue_longest_wait.labels(label).set(longest[label])
