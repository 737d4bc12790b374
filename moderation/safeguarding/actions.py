"""What happens when a 1:1 message shows danger, and how staff escalate and report.

Each action is a unit of work (chat/core/uow.py): it commits first, then publishes, as every
action in Willow does, and joins a caller's open one when given. Flags and escalations are
staff-only stream events: stored with the conversation, replayed to
staff who open it later, never sent to her.
"""

from __future__ import annotations

from typing import Any, Literal

from chat.core.channels import staff_sender
from chat.core.clock import now
from chat.core.models import Conversation, Staff, VisitorSession
from chat.core.pipeline import Written
from chat.core.protocol import ProtocolError
from chat.core.services import Services
from chat.core.uow import Change
from moderation.alerts import helplines_event, risk_summary
from moderation.directory import Directory
from moderation.guidance import Guidance, guidance_for
from moderation.learned import LearnedVerdict
from moderation.loaded import ModerationData
from moderation.safeguarding.alert_store import raise_alert
from moderation.safeguarding.measures import count_alert, count_flags, tally_risk
from moderation.safeguarding.models import Escalation
from moderation.safeguarding.outcome_codes import EscalationOutcomes
from moderation.safeguarding.reports import file_report
from moderation.types import RiskAssessment, RiskCategory, RiskLevel

EscalationLevel = Literal["signpost", "supervisor", "emergency"]
Consent = Literal["given", "declined", "not_asked"]


async def _alert_supervisors(tx: Change, kind: str, conversation_id: int, **fields: Any) -> None:
    await raise_alert(
        tx,
        conversation_id,
        {
            "type": "alert",
            "kind": kind,
            "conversation_id": conversation_id,
            "at": now().isoformat(),
            **fields,
        },
    )


def _needs_card(risk: RiskAssessment, shown: RiskLevel) -> bool:
    """A new card only for current danger more serious than what she was already shown."""
    return risk.alert and risk.level.rank > shown.rank


def _guidance(services: Services) -> dict[RiskCategory, Guidance] | None:
    """The guidance this app loaded from its settings (None: the shipped file)."""
    data = services.features.find(ModerationData)
    return data.guidance if data is not None else None


def _concerns(written: Written) -> bool:
    """Current danger anywhere, and anything flagged below it (a mention of danger: negated,
    asked about, past, fiction, a joke), for staff's eyes only: the adviser one to one, the
    room's mentors in a room. One to one also personal details and abuse (in a room those
    are held, and the mentor sees them there)."""
    verdict = written.verdict
    if written.place.visitor is None:
        return False
    if verdict.risk.alert or verdict.risk.flagged:
        return True
    return written.place.kind == "conversation" and bool(verdict.pii or verdict.abuse)


def _concern(
    services: Services, written: Written, learned: LearnedVerdict | None = None
) -> dict[str, Any]:
    message = written.message
    concern = {
        "message_seq": message["seq"] if message else None,
        "held_id": written.held_id,
        "refused": message is None and written.held_id is None,
        **risk_summary(written.verdict),
        "guidance": guidance_for(written.verdict.risk.categories, _guidance(services)),
        "at": now().isoformat(),
    }
    if learned is not None:
        # Raised by the learned layer after the rules: how sure it was, and of what.
        concern["learned"] = {
            "danger": round(learned.danger, 3),
            "category": learned.category.value,
        }
    return concern


async def record_written(
    services: Services,
    directory: Directory,
    written: Written,
    learned: LearnedVerdict | None = None,
) -> None:
    """The verdict's effects, wherever she wrote: a staff-only flag in the stream; on current
    danger her place rises (queue priority, her level in a room), supervisors are told, and
    she is shown the helplines for it, stored in the stream so a reload shows the card again.
    A mention (negated, asked about, past, fiction, a joke) is only the staff-only flag.
    `learned`: the learned layer's verdict, when it is what raised this one (the flag says so)."""
    if not _concerns(written):
        return
    place, risk = written.place, written.verdict.risk
    concern = _concern(services, written, learned)
    async with services.change(written.tx) as tx:
        shown = await place.raise_risk(tx.session, risk.level if risk.alert else RiskLevel.NONE)
        if shown is None:
            return
        await tx.append(place.stream_id, place.flag(concern), staff_only=True)
        count_flags(services, written.verdict)
        if place.kind == "conversation":
            tx.after(lambda: tally_risk(services, written.verdict, shown))
        if _needs_card(risk, shown):
            await tx.append(place.stream_id, _card(directory, written), to=place.card_for)
        if risk.alert:
            kind = "risk" if place.kind == "conversation" else "room_risk"
            count_alert(services, kind, risk.level.value)
            await raise_alert(tx, place.stream_id, place.alert(concern))
        tx.after(place.risk_noted)


def _card(directory: Directory, written: Written) -> dict[str, Any]:
    place, visitor = written.place, written.place.visitor
    assert visitor is not None
    language = visitor.language or place.language
    card = helplines_event(directory, written.verdict.risk, visitor.nation, language)
    card[place.stream_key] = place.stream_id
    return card


async def _conversation_for_staff(
    services: Services, staff: Staff, conversation_id: int
) -> Conversation:
    async with services.db.read() as session:
        conversation = await session.get(Conversation, conversation_id)
    if conversation is None or (staff.role != "supervisor" and conversation.adviser_id != staff.id):
        raise ProtocolError("not_found")
    return conversation


async def escalate(
    services: Services,
    directory: Directory,
    staff: Staff,
    conversation_id: int,
    level: EscalationLevel,
    reason: str,
    consent: Consent,
    handoff_note: str = "",
    categories: tuple[RiskCategory, ...] = (),
) -> dict[str, Any]:
    """Raise a concern; supervisor and emergency levels alert supervisors at once."""
    conversation = await _conversation_for_staff(services, staff, conversation_id)
    actor = staff_sender(staff.id)
    async with services.change() as tx:
        session = tx.session
        escalation = Escalation(
            conversation_id=conversation.id,
            level=level,
            reason=reason,
            consent=consent,
            handoff_note=handoff_note,
            raised_by=actor,
        )
        session.add(escalation)
        await session.flush()
        payload = {
            "type": "escalation",
            "conversation_id": conversation.id,
            "escalation_id": escalation.id,
            "level": level,
            "reason": reason,
            "consent": consent,
            "handoff_note": handoff_note,
            "by": staff.display_name,
            "at": now().isoformat(),
        }
        await tx.append(conversation.id, payload, staff_only=True)
        if level == "signpost" and categories:
            signpost = RiskAssessment(level=RiskLevel.LOW, categories=categories)
            async_visitor = await session.get(VisitorSession, conversation.visitor_id)
            nation = async_visitor.nation if async_visitor else None
            language = async_visitor.language if async_visitor else None
            card = helplines_event(directory, signpost, nation, language)
            card["conversation_id"] = conversation.id
            await tx.append(conversation.id, card)
        # What was done and by whom; her situation in words stays with the escalation,
        # which goes with the conversation (and with `forget`).
        tx.audit(
            actor,
            f"escalation.{level}",
            f"conversation:{conversation.id}",
            details={"consent": consent, "escalation_id": escalation.id},
        )
        tx.after(lambda: services.tally.note("escalation", level=level))
        if level != "signpost":
            count_alert(services, "escalation", level)
            await _alert_supervisors(
                tx,
                "escalation",
                conversation.id,
                level=level,
                reason=reason,
                escalation_id=escalation.id,
            )
    return payload


async def record_outcome(
    services: Services, staff: Staff, escalation_id: int, code: str, outcome: str = ""
) -> dict[str, Any]:
    """Close an escalation with what happened: a code from the fixed list (counted in the
    reports by level and code) and an optional free-text note (never counted). It cannot be
    closed twice; an unknown code is refused before anything changes."""
    if not services.features.get(EscalationOutcomes).knows(code):
        raise ProtocolError(
            "invalid", f"unknown escalation outcome code: {code}", ref="escalation_outcome"
        )
    actor = staff_sender(staff.id)
    async with services.change() as tx:
        session = tx.session
        escalation = await session.get(Escalation, escalation_id)
        if escalation is None:
            raise ProtocolError("not_found", ref="escalation_outcome")
        conversation = await session.get(Conversation, escalation.conversation_id)
        allowed = staff.role == "supervisor" or (
            conversation is not None and conversation.adviser_id == staff.id
        )
        if not allowed:
            raise ProtocolError("not_found", ref="escalation_outcome")
        if escalation.status == "closed":
            raise ProtocolError(
                "invalid", "this escalation already has an outcome", ref="escalation_outcome"
            )
        escalation.status, escalation.closed_by = "closed", actor
        escalation.outcome_code, escalation.outcome = code, outcome
        payload = await tx.append(
            escalation.conversation_id,
            {
                "type": "escalation_outcome",
                "conversation_id": escalation.conversation_id,
                "escalation_id": escalation.id,
                "code": code,
                "outcome": outcome,
                "by": staff.display_name,
                "at": now().isoformat(),
            },
            staff_only=True,
        )
        tx.audit(actor, "escalation.outcome", f"escalation:{escalation.id}", details={"code": code})
        level = escalation.level
        tx.after(lambda: services.tally.note("escalation_closed", level=level, code=code))
    return payload


async def report_message(
    services: Services, reporter: str, conversation_id: int, seq: int, reason: str
) -> int:
    """A message in a 1:1 chat is reported: stored, and supervisors are told at once."""
    async with services.change() as tx:
        report = await file_report(
            services,
            reporter,
            "conversation",
            str(conversation_id),
            conversation_id,
            seq,
            reason,
            tx,
        )
        count_alert(services, "report", None)
        await _alert_supervisors(
            tx, "report", conversation_id, report_id=report.id, seq=seq, reason=report.reason
        )
    return report.id
