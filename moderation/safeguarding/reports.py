"""Reports of messages: anyone files one; the room's mentor or a supervisor closes it."""

from __future__ import annotations

from sqlalchemy import select

from chat.core.services import Services
from chat.core.uow import Change
from moderation.safeguarding.alert_store import settle_report_alerts
from moderation.safeguarding.models import Report

REASON_MAX = 500


class ReportError(ValueError):
    """The report cannot be filed or closed as asked; the message says why."""


async def file_report(
    services: Services,
    reporter: str,
    place: str,
    place_id: str,
    stream_id: int,
    seq: int,
    reason: str = "",
    tx: Change | None = None,
) -> Report:
    """Store a report of the message `seq` in the stream; the caller tells whoever must see it."""
    if place not in ("conversation", "room"):
        raise ReportError("place must be conversation or room")
    async with services.change(tx) as tx:
        session = tx.session
        report = Report(
            place=place,
            place_id=place_id,
            stream_id=stream_id,
            seq=seq,
            reporter=reporter,
            reason=reason.strip()[:REASON_MAX],
        )
        session.add(report)
        await session.flush()
        # The reason is her words about someone: it stays on the report, which goes with
        # the conversation or room session; the audit log keeps what was done and by whom.
        tx.audit(
            reporter,
            "report.filed",
            f"{place}:{place_id}",
            details={"seq": seq, "report_id": report.id},
        )
    return report


async def open_reports(
    services: Services, place: str | None = None, place_id: str | None = None
) -> list[Report]:
    async with services.db.read() as session:
        query = select(Report).where(Report.status == "open").order_by(Report.id)
        if place is not None:
            query = query.where(Report.place == place)
        if place_id is not None:
            query = query.where(Report.place_id == place_id)
        return list((await session.scalars(query)).all())


async def close_report(
    services: Services, report_id: int, closed_by: str, outcome: str, tx: Change | None = None
) -> Report:
    async with services.change(tx) as tx:
        report = await tx.session.get(Report, report_id)
        if report is None:
            raise ReportError("no such report")
        if report.status == "closed":
            raise ReportError("this report is already closed")
        report.status, report.closed_by, report.outcome = (
            "closed",
            closed_by,
            outcome.strip()[:REASON_MAX],
        )
        tx.audit(closed_by, "report.closed", f"report:{report_id}")
        await settle_report_alerts(tx, report.stream_id, report_id, closed_by)
    return report
