"""Database tables. The database is the truth; the broker only carries news.

Nothing here records a network address, a user agent or a location.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

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
    TypeDecorator,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


# Her answer to "Is it safe for you to talk now?": yes, no, not sure, or None when not answered.
SafeToTalk = bool | Literal["unsure"] | None


class SafeAnswer(TypeDecorator[bool | str]):
    """Her safety answer as the words "yes", "no" or "unsure"; a missing answer stays NULL."""

    impl = String(8)
    cache_ok = True
    _stored: ClassVar[dict[object, str]] = {True: "yes", False: "no", "unsure": "unsure"}
    _read: ClassVar[dict[str, bool | str]] = {"yes": True, "no": False, "unsure": "unsure"}

    def process_bind_param(self, value: bool | str | None, dialect: Any) -> str | None:
        if value is None:
            return None
        if value not in self._stored:
            raise ValueError(f"not a safety answer: {value!r}")
        return self._stored[value]

    def process_result_value(self, value: str | None, dialect: Any) -> bool | str | None:
        return None if value is None else self._read[value]


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON}


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    available: Mapped[bool] = mapped_column(Boolean, default=False)
    capacity: Mapped[int] = mapped_column(Integer, default=3)
    trained_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Second factor (chat/helpline/second_factor.py): the TOTP secret once confirmed, the one
    # being enrolled, the last time step accepted (a code works once), recovery-code hashes.
    # Both encrypted at rest (chat/core/sealed.py).
    totp_secret: Mapped[str | None] = mapped_column(String(255), nullable=True)
    totp_pending: Mapped[str | None] = mapped_column(String(255), nullable=True)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    recovery_hashes: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    # A one-time password-reset code, as a keyed hash, and until when it works.
    reset_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reset_expires_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    # Routing (chat/helpline/routing.py): the languages she reads (None: English) and her
    # specialisms, codes from fixed lists.
    languages: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    specialisms: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)


class StaffSession(Base):
    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class VisitorSession(Base):
    """An anonymous visitor: only the hash of her random token and her pre-chat choices."""

    __tablename__ = "visitor_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    topic: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # Stored in `safe_answer` as words, so "not sure" and "not answered" stay apart.
    safe_to_talk: Mapped[SafeToTalk] = mapped_column("safe_answer", SafeAnswer(), nullable=True)
    # Which UK nation's helplines to show her; coarse on purpose.
    nation: Mapped[str | None] = mapped_column(String(20), nullable=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Stream(Base):
    """An ordered run of events (a conversation or a room session) with its own `seq`."""

    __tablename__ = "streams"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("stream_id", "seq"),
        UniqueConstraint("stream_id", "sender", "client_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    stream_id: Mapped[int] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(32))
    # "visitor", "staff:<id>", "participant:<id>" or "system"; with client_id it makes resends
    # harmless.
    sender: Mapped[str] = mapped_column(String(40))
    client_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # "all", or "staff" for what only staff may see (risk flags, escalations).
    audience: Mapped[str] = mapped_column(String(8), default="all")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Conversation(Base):
    __tablename__ = "conversations"
    # The queue's order (chat/helpline/queue_state.py): a page of it is read off the index,
    # not sorted, however long the queue.
    __table_args__ = (
        Index("ix_conversations_queue", "status", text("priority DESC"), "created_at", "id"),
    )

    # A conversation is a stream: its id is the stream's id, so the two never need mapping.
    id: Mapped[int] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"), primary_key=True)
    visitor_id: Mapped[int] = mapped_column(
        ForeignKey("visitor_sessions.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), index=True)  # waiting | active | ended
    adviser_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    risk_level: Mapped[str] = mapped_column(String(16), default="none")
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    topic: Mapped[str | None] = mapped_column(String(32), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ended_by: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # She said any adviser will do (after being asked, never silently), and when she was asked.
    any_adviser: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    offered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AuditEntry(Base):
    """Append-only record of who did what, when and why."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(48), index=True)
    subject: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class EditedDocument(Base):
    """One saved version of something an admin edits live (chat/core/documents.py); the newest
    row of a kind is in use, and a row with no body means "back to the shipped default"."""

    __tablename__ = "edited_documents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    body: Mapped[Any | None] = mapped_column(JSON, nullable=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    saved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class HousekeepingJob(Base):
    """When each periodic purge is next due and which node holds it now (chat/core/housekeeping).

    A node runs a job only after claiming its row, so every node may look and the work is
    done once per interval; the lease expires, so a node that dies mid-run blocks nobody.
    """

    __tablename__ = "housekeeping_jobs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_run_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_finished_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    last_removed: Mapped[int] = mapped_column(Integer, default=0)


class ReturnCode(Base):
    """A return code she took at the end of a chat: only its keyed hash, the adviser she may ask
    for again and, if she agreed, the hand-over summary. Deleted with the conversation."""

    __tablename__ = "return_codes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), unique=True
    )
    adviser_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), nullable=True
    )
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ReturnVisit(Base):
    """A conversation she started with a return code: whom she came back to, and whether she
    chose to wait for that adviser. Deleted with the conversation."""

    __tablename__ = "return_visits"

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    adviser_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), nullable=True
    )
    wait_for_adviser: Mapped[bool] = mapped_column(Boolean, default=False)
    # When she last chose to wait for that adviser, and when she was last asked whether
    # another adviser will do (chat/helpline/returning.py); cleared when she chooses again.
    chose_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    offered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
