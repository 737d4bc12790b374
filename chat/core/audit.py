"""Append-only audit log writer: who did what, when and why.

Any package records through `record`, inside its own transaction, so the entry commits with
the change it describes. Reading and filtering the log is moderation's concern.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

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
