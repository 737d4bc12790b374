"""Moderation's tables: reports of messages. (Audit entries live in chat.core.models.AuditEntry.)"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from chat.core.models import Base, BigId


class Report(Base):
    """Someone reported a message; it waits for the room's mentor or a supervisor."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # "conversation" or "room"; place_id is the conversation id or the room id (a slug).
    place: Mapped[str] = mapped_column(String(16), index=True)
    place_id: Mapped[str] = mapped_column(String(64), index=True)
    stream_id: Mapped[int] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column()
    # "visitor", "participant:<id>" or "staff:<id>": never anything that identifies her.
    reporter: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open | closed
    closed_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    outcome: Mapped[str | None] = mapped_column(Text, nullable=True)


class Escalation(Base):
    """An adviser or mentor raised a concern: signpost, supervisor, or emergency."""

    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    level: Mapped[str] = mapped_column(String(16))  # signpost | supervisor | emergency
    reason: Mapped[str] = mapped_column(Text)
    # Her consent to sharing, where it was asked for: given | declined | not_asked
    consent: Mapped[str] = mapped_column(String(16))
    handoff_note: Mapped[str] = mapped_column(Text, default="")
    raised_by: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open | closed
    outcome: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The outcome's code from the fixed list (outcome_codes.py); None for one closed before
    # the codes existed. The free-text `outcome` beside it is a note, never counted.
    outcome_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(40), nullable=True)


class SupervisorAlert(Base):
    """An alert to supervisors, kept until one of them acknowledges it, so a supervisor who
    logs in later still sees it. It belongs to the stream it is about and goes with it."""

    __tablename__ = "supervisor_alerts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    stream_id: Mapped[int] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"), index=True)
    # The event as supervisors were sent it (`alert` or `room_alert`), without its id.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    acknowledged_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True, index=True
    )
    acknowledged_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
