"""The audit log keeps what was done and by whom; her words go with her conversation."""

from __future__ import annotations

from sqlalchemy import select

from chat.core.models import AuditEntry, Base
from chat.schema import import_all_tables
from tests.wsclient import Server, connected_pair, staff

ADDRESS = "12 Acacia Road"


async def _everything_stored(server: Server) -> str:
    import_all_tables()
    assert server.services is not None
    values: list[str] = []
    async with server.services.db.read() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                values.extend(str(v) for v in row)
    return "\n".join(values)


async def test_forget_leaves_no_report_reason_or_escalation_note_in_the_audit_log(
    server: Server,
) -> None:
    supervisor = await staff(server, await server.staff_session("supervisor"))
    her, adviser, conversation, token = await connected_pair(server)
    await adviser.send(
        {"type": "message", "conversation_id": conversation, "client_id": "a1", "body": "hello"}
    )
    said = await her.receive("message", client_id="a1")
    await her.send(
        {"type": "report", "conversation_id": conversation, "seq": said["seq"],
         "reason": f"he knows I live at {ADDRESS}"}
    )  # fmt: skip
    await adviser.send(
        {"type": "escalate", "conversation_id": conversation, "level": "supervisor",
         "reason": f"partner outside {ADDRESS}", "consent": "given",
         "handoff_note": f"safe to call; she is at {ADDRESS}"}
    )  # fmt: skip
    escalation = (await adviser.receive("escalated"))["escalation_id"]
    await supervisor.receive("alert", kind="escalation")
    await supervisor.send(
        {"type": "escalation_outcome", "escalation_id": escalation,
         "code": "emergency_services", "outcome": f"police sent to {ADDRESS}"}
    )  # fmt: skip
    await adviser.receive("escalation_outcome")

    assert server.services is not None
    async with server.services.db.read() as session:
        entries = list(await session.scalars(select(AuditEntry)))
    actions = {e.action for e in entries}
    assert {"report.filed", "escalation.supervisor", "escalation.outcome"} <= actions
    assert not [e for e in entries if ADDRESS in e.reason + str(e.details)]

    async with server.http() as http:
        forgotten = await http.post("/api/visitor/forget", content=f'{{"token": "{token}"}}')
    assert forgotten.status_code == 204
    assert ADDRESS not in await _everything_stored(server)
    for client in (her, adviser, supervisor):
        await client.close()
