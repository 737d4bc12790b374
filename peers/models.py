"""Peer rooms' tables: room sessions, who is in them, held messages and pins.

A room session is a stream (its id is the stream's id), so its events, ordering and resume
work exactly like a conversation's. Nothing here records a network address: bans that
recognise an address live only in memory or Redis (peers/bans.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from chat.core.models import Base, BigId


class RoomSession(Base):
    """One sitting of a catalogue room, from a mentor opening it to its close."""

    __tablename__ = "room_sessions"
    __table_args__ = (
        # At most one open session per room, even when two mentors open it at once on two
        # nodes: the second insert fails and joins the first.
        Index(
            "ix_room_sessions_one_open",
            "room_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"), primary_key=True)
    room_id: Mapped[str] = mapped_column(String(40), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # open | closed
    opened_by: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), nullable=True
    )
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    slow_mode_seconds: Mapped[int] = mapped_column(Integer, default=0)
    # Mentor connections in the room across all nodes; the room closes a while after the
    # last one leaves (mentor_left_at says when that was).
    mentors_present: Mapped[int] = mapped_column(Integer, default=0)
    mentor_left_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RoomParticipant(Base):
    """A woman in one room session: a pseudonym for this session only, and her standing."""

    __tablename__ = "room_participants"
    __table_args__ = (UniqueConstraint("session_id", "visitor_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("room_sessions.id", ondelete="CASCADE"), index=True
    )
    visitor_id: Mapped[int] = mapped_column(
        ForeignKey("visitor_sessions.id", ondelete="CASCADE"), index=True
    )
    pseudonym: Mapped[str] = mapped_column(String(32))
    # She reads the room from here on, never what was said before she came.
    first_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    joined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    left_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Which connection holds her place now, and when it dropped (she may come straight back).
    attach_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    disconnected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    muted_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    knows_someone: Mapped[bool] = mapped_column(Boolean, default=False)
    risk_level: Mapped[str] = mapped_column(String(16), default="none")
    last_message_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RoomHeldMessage(Base):
    """A message the pipeline held for the mentor: she releases it to the room or discards it."""

    __tablename__ = "room_held_messages"
    __table_args__ = (UniqueConstraint("participant_id", "client_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("room_sessions.id", ondelete="CASCADE"), index=True
    )
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("room_participants.id", ondelete="CASCADE")
    )
    client_id: Mapped[str] = mapped_column(String(64))
    # Emptied once the mentor has decided: released text lives on in the stream, discarded
    # text is gone.
    body: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(32))
    risk: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="held", index=True)
    held_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(40), nullable=True)


class RoomPin(Base):
    """A message the mentor pinned at the top of the room."""

    __tablename__ = "room_pins"
    __table_args__ = (UniqueConstraint("session_id", "seq"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("room_sessions.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int] = mapped_column(BigInteger)
    pinned_by: Mapped[str] = mapped_column(String(40))
    pinned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
