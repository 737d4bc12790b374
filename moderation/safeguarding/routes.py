"""Staff HTTP for safeguarding: audit log, directory, wording checks, escalations, reports."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import Field
from sqlalchemy import select

from chat.core.clock import aware
from chat.core.http import PathId, StrictBody
from chat.core.models import AuditEntry, Staff
from chat.core.services import Services
from chat.helpline.staff import current_staff, require_role, services_of
from moderation.directory import Directory
from moderation.safeguarding.models import Escalation
from moderation.safeguarding.outcome_codes import EscalationOutcomes
from moderation.safeguarding.reports import ReportError, close_report, open_reports
from moderation.wording import check_wording

Supervisor = Annotated[Staff, Depends(require_role("supervisor", "admin"))]
AnyStaff = Annotated[Staff, Depends(current_staff)]
MAX_AUDIT_ROWS = 500


class Draft(StrictBody):
    text: Annotated[str, Field(max_length=20_000)]


class Outcome(StrictBody):
    outcome: Annotated[str, Field(min_length=1, max_length=500)]


def build_router(directory: Callable[[], Directory]) -> APIRouter:
    """`directory` gives the one in use (an admin may edit it while the app runs)."""
    router = APIRouter(prefix="/api", tags=["safeguarding"])

    @router.get("/audit")
    async def audit_log(
        request: Request,
        _who: Supervisor,
        action: str | None = None,
        actor: str | None = None,
        subject: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: Annotated[int, Query(ge=1, le=MAX_AUDIT_ROWS)] = 100,
    ) -> list[dict[str, Any]]:
        """Read and filter the append-only audit log, newest first (supervisors and admins)."""
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        if action:
            # `%` and `_` in the filter are letters, not LIKE wildcards.
            query = query.where(AuditEntry.action.startswith(action, autoescape=True))
        if actor:
            query = query.where(AuditEntry.actor == actor)
        if subject:
            query = query.where(AuditEntry.subject == subject)
        if since:
            query = query.where(AuditEntry.at >= since)
        if until:
            query = query.where(AuditEntry.at < until)
        async with _services(request).db.read() as session:
            rows = (await session.scalars(query)).all()
        return [
            {
                "id": e.id,
                "at": aware(e.at).isoformat(),
                "actor": e.actor,
                "action": e.action,
                "subject": e.subject,
                "reason": e.reason,
                "details": e.details,
            }
            for e in rows
        ]

    @router.get("/directory")
    async def search_directory(
        _who: AnyStaff,
        q: Annotated[str, Query(max_length=100)] = "",
        category: str | None = None,
        nation: str | None = None,
        language: str | None = None,
    ) -> list[dict[str, Any]]:
        """Search helplines and referral services by words, category, nation and language."""
        try:
            found = directory().search(q, category=category, nation=nation, language=language)
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None
        return [h.model_dump(mode="json", exclude_none=True) for h in found]

    @router.post("/staff/wording")
    async def wording(body: Draft, _who: AnyStaff) -> list[dict[str, Any]]:
        """Kinder wording for a draft message or note; it suggests, it never blocks."""
        return [s.__dict__ for s in check_wording(body.text)]

    @router.get("/escalations")
    async def escalations(
        request: Request, _who: Supervisor, status: str = "open"
    ) -> list[dict[str, Any]]:
        async with _services(request).db.read() as session:
            rows = (
                await session.scalars(
                    select(Escalation).where(Escalation.status == status).order_by(Escalation.id)
                )
            ).all()
        return [
            {
                "id": e.id,
                "at": aware(e.at).isoformat(),
                "conversation_id": e.conversation_id,
                "level": e.level,
                "reason": e.reason,
                "consent": e.consent,
                "handoff_note": e.handoff_note,
                "raised_by": e.raised_by,
                "status": e.status,
                "outcome": e.outcome,
                "outcome_code": e.outcome_code,
            }
            for e in rows
        ]

    @router.get("/staff/escalation-outcomes")
    async def escalation_outcomes(request: Request, _who: AnyStaff) -> dict[str, Any]:
        """The outcome codes the escalation outcome form offers, as the data file lists them."""
        return _services(request).features.get(EscalationOutcomes).model_dump(mode="json")

    @router.get("/reports")
    async def reports(request: Request, _who: Supervisor) -> list[dict[str, Any]]:
        return [
            {
                "id": r.id,
                "at": aware(r.at).isoformat(),
                "place": r.place,
                "place_id": r.place_id,
                "seq": r.seq,
                "reporter": r.reporter,
                "reason": r.reason,
            }
            for r in await open_reports(_services(request), "conversation")
        ]

    @router.post("/reports/{report_id}/close")
    async def close(
        request: Request, report_id: PathId, body: Outcome, who: Supervisor
    ) -> dict[str, str]:
        try:
            await close_report(_services(request), report_id, f"staff:{who.id}", body.outcome)
        except ReportError as exc:
            raise HTTPException(409 if "already" in str(exc) else 404, str(exc)) from None
        return {"status": "closed"}

    return router


def _services(request: Request) -> Services:
    return services_of(request)
