"""Reporting's tables: daily counts with no link to anyone, and the "you said, we did" list."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from chat.core.models import Base, BigId


class ReportCount(Base):
    """How many times something happened on a day, by one coarse fact (or in total).

    No conversation, visitor or staff id: a count cannot be joined back to anyone, and the
    transcript purge leaves it alone.
    """

    __tablename__ = "report_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    measure: Mapped[str] = mapped_column(String(32), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(40), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class YouSaidWeDid(Base):
    """What people told the service and what it changed, as an admin wrote it, in one language."""

    __tablename__ = "you_said_we_did"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    language: Mapped[str] = mapped_column(String(8))
    you_said: Mapped[str] = mapped_column(Text)
    we_did: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
