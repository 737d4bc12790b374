"""Append-only audit log writer: who did what, when and why.

Any package records through `record`, inside its own transaction, so the entry commits with
the change it describes. Reading and filtering the log is moderation's concern.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from chat.core.db import Database
from chat.core.models import AuditEntry


def record(
    session: AsyncSession,
    actor: str,
    action: str,
    subject: str,
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> None:
    """Add one entry; `actor` is e.g. "staff:3", `subject` e.g. "conversation:12"."""
    session.add(
        AuditEntry(
            actor=actor, action=action, subject=subject, reason=reason, details=details or {}
        )
    )


async def purge_before(db: Database, cutoff: datetime) -> int:
    """Delete entries written before `cutoff` (the audit retention); returns how many."""
    async with db.write() as session:
        result = await session.execute(delete(AuditEntry).where(AuditEntry.at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)
