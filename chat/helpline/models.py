"""The helpline console's tables: admins' canned-reply libraries, wrap-ups, her feedback.

A wrap-up belongs to its conversation and goes with it (ON DELETE CASCADE), so the transcript
purge removes it. Her feedback has no link to any conversation, session or person and keeps
only the day, so it outlives the purge and cannot be joined back to her.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from chat.core.models import Base, BigId


class CannedLibrary(Base):
    """Saved canned-reply libraries from before the edited documents (chat/core/documents.py),
    which now hold them; migration helpline_0002_canned_admin carried the newest one over.
    Read by nothing; kept so a downgrade loses nothing."""

    __tablename__ = "canned_libraries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class WrapUp(Base):
    """What the adviser recorded when a chat was over: a summary and codes from the data file."""

    __tablename__ = "wrapups"

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    summary: Mapped[str] = mapped_column(Text)
    outcomes: Mapped[list[str]] = mapped_column(JSON)
    categories: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Feedback(Base):
    """Her answers to the end-of-chat form: the day, her page's language and a few choices."""

    __tablename__ = "chat_feedback"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    language: Mapped[str] = mapped_column(String(8))
    helped: Mapped[str] = mapped_column(String(16))
    listened: Mapped[str] = mapped_column(String(16))
    again: Mapped[str] = mapped_column(String(16))
