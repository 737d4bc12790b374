"""Reports are stored, listed for whoever handles them, closed once, and audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from chat.core.models import AuditEntry
from moderation.safeguarding.reports import ReportError, close_report, file_report, open_reports
from tests.wsclient import Server, connected_pair


async def test_a_report_is_filed_listed_and_closed_once(server: Server) -> None:
    her, adviser, conversation, _ = await connected_pair(server)
    await adviser.send(
        {"type": "message", "conversation_id": conversation, "client_id": "a", "body": "hmm"}
    )
    seq = (await her.receive("message", client_id="a"))["seq"]
    services = server.services
    assert services is not None

    report = await file_report(
        services, "visitor", "conversation", str(conversation), conversation, seq, "rude"
    )
    assert [r.id for r in await open_reports(services, "conversation")] == [report.id]
    assert await open_reports(services, "room") == []

    await close_report(services, report.id, "staff:9", "spoke with the adviser")
    assert await open_reports(services) == []
    with pytest.raises(ReportError, match="already closed"):
        await close_report(services, report.id, "staff:9", "again")
    with pytest.raises(ReportError, match="no such report"):
        await close_report(services, 999_999, "staff:9", "x")
    with pytest.raises(ReportError, match="place must be"):
        await file_report(services, "visitor", "elsewhere", "1", conversation, seq)

    async with services.db.read() as session:
        actions = (await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))).all()
    assert [a for a in actions if a.startswith("report.")] == ["report.filed", "report.closed"]
