"""Supervisors' alerts, kept until a supervisor acknowledges them.

An alert is stored in the same unit of work as what raised it and sent, with its `alert_id`,
on the supervisors' channel after the commit; a supervisor who logs in later reads the open
ones (`GET /api/alerts`). Acknowledging one is audited and tells every supervisor, on every
node, so it leaves every panel at once. The row belongs to its stream (a conversation or a
room session) and is deleted with it, so what it quotes goes with her transcript.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from chat.core.channels import SUPERVISORS_CHANNEL, staff_sender
from chat.core.clock import aware, now
from chat.core.models import Staff
from chat.core.services import Services
from chat.core.uow import Change
from moderation.safeguarding.models import SupervisorAlert

MAX_OPEN_LISTED = 500


class AlertError(LookupError):
    """No such open alert; `already` when another supervisor acknowledged it first."""

    def __init__(self, message: str, *, already: bool = False) -> None:
        super().__init__(message)
        self.already = already


async def raise_alert(tx: Change, stream_id: int, payload: dict[str, Any]) -> None:
    """Store the alert with the change that raised it; supervisors hear of it after commit."""
    row = SupervisorAlert(stream_id=stream_id, payload=payload)
    tx.session.add(row)
    await tx.session.flush()
    tx.announce(SUPERVISORS_CHANNEL, {**payload, "alert_id": row.id})


async def open_alerts(services: Services) -> list[dict[str, Any]]:
    """Every alert no supervisor has acknowledged yet, oldest first, as it was sent."""
    query = (
        select(SupervisorAlert)
        .where(SupervisorAlert.acknowledged_at.is_(None))
        .order_by(SupervisorAlert.id)
        .limit(MAX_OPEN_LISTED)
    )
    async with services.db.read() as session:
        rows = (await session.scalars(query)).all()
    return [
        {**row.payload, "alert_id": row.id, "stored_at": aware(row.at).isoformat()} for row in rows
    ]


async def acknowledge(services: Services, staff: Staff, alert_id: int) -> None:
    """One supervisor has seen to it: audited, and gone from every supervisor's panel."""
    actor = staff_sender(staff.id)
    async with services.change() as tx:
        row = await tx.session.get(SupervisorAlert, alert_id, with_for_update=True)
        if row is None:
            raise AlertError("no such alert")
        if row.acknowledged_at is not None:
            raise AlertError("this alert was already acknowledged", already=True)
        row.acknowledged_at, row.acknowledged_by = now(), actor
        kind = str(row.payload.get("kind") or row.payload.get("type") or "")
        tx.audit(actor, "alert.acknowledged", f"alert:{row.id}", details={"kind": kind})
        tx.announce(
            SUPERVISORS_CHANNEL,
            {"type": "alert_acknowledged", "alert_id": row.id, "by": staff.display_name},
        )


async def settle_report_alerts(tx: Change, stream_id: int, report_id: int, actor: str) -> None:
    """Closing a report sees to its alert: acknowledged in the same unit of work (audited), so
    a closed report is not listed as an open alert again. The closing supervisor's panel says
    "Report closed" in place; other panels learn of it at their next load."""
    rows = await tx.session.scalars(
        select(SupervisorAlert).where(
            SupervisorAlert.stream_id == stream_id, SupervisorAlert.acknowledged_at.is_(None)
        )
    )
    for row in rows.all():
        if row.payload.get("kind") != "report" or row.payload.get("report_id") != report_id:
            continue
        row.acknowledged_at, row.acknowledged_by = now(), actor
        tx.audit(actor, "alert.acknowledged", f"alert:{row.id}", details={"kind": "report"})
