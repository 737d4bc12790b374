"""Socket handlers for escalation and reports."""

from __future__ import annotations

from sqlalchemy import select

from chat.core.channels import VISITOR, staff_sender
from chat.core.models import Event
from chat.core.protocol import ProtocolError
from chat.core.sockets import SocketRoutes
from chat.core.transport import Connection
from chat.helpline.conversations import conversation_for
from moderation.directory import Directory
from moderation.safeguarding.actions import escalate, record_outcome, report_message
from moderation.safeguarding.events import Escalate, EscalationOutcome, ReportMessage

ESCALATING_ROLES = ("adviser", "supervisor")


def _directory(connection: Connection) -> Directory:
    """The directory this app loaded at start (handlers are shared by every app in a process)."""
    return connection.services.features.get(Directory)


async def on_escalate(connection: Connection, event: Escalate) -> None:
    staff = connection.staff
    if staff is None or staff.role not in ESCALATING_ROLES:
        raise ProtocolError("forbidden", ref="escalate")
    payload = await escalate(
        connection.services,
        _directory(connection),
        staff,
        event.conversation_id,
        event.level,
        event.reason,
        event.consent,
        event.handoff_note,
        tuple(event.categories),
    )
    connection.send({"type": "escalated", "escalation_id": payload["escalation_id"]})


async def on_outcome(connection: Connection, event: EscalationOutcome) -> None:
    staff = connection.staff
    if staff is None or staff.role not in ESCALATING_ROLES:
        raise ProtocolError("forbidden", ref="escalation_outcome")
    await record_outcome(connection.services, staff, event.escalation_id, event.code, event.outcome)


def install_handlers(routes: SocketRoutes) -> None:
    routes.handle(Escalate, on_escalate)
    routes.handle(EscalationOutcome, on_outcome)
    routes.handle(ReportMessage, on_report)


async def on_report(connection: Connection, event: ReportMessage) -> None:
    """Either person in a chat may report a message in it; supervisors are told at once."""
    conversation = await conversation_for(connection.services, event.conversation_id)
    if connection.visitor is not None and conversation.visitor_id == connection.visitor.id:
        reporter = VISITOR
    elif connection.staff is not None and conversation.adviser_id == connection.staff.id:
        reporter = staff_sender(connection.staff.id)
    else:
        raise ProtocolError("not_found", ref="report")
    async with connection.services.db.read() as session:
        exists = await session.scalar(
            select(Event.id).where(
                Event.stream_id == conversation.id, Event.seq == event.seq, Event.type == "message"
            )
        )
    if exists is None:
        raise ProtocolError("not_found", "no such message in this conversation", ref="report")
    report_id = await report_message(
        connection.services, reporter, conversation.id, event.seq, event.reason
    )
    connection.send(
        {
            "type": "reported",
            "report_id": report_id,
            "conversation_id": conversation.id,
            "seq": event.seq,
        }
    )
