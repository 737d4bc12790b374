"""Supervisors' HTTP for stored alerts: the open ones, and acknowledging one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request

from chat.core.http import PathId
from chat.core.models import Staff
from chat.helpline.staff import require_role, services_of
from moderation.safeguarding.alert_store import AlertError, acknowledge, open_alerts

Supervisor = Annotated[Staff, Depends(require_role("supervisor", "admin"))]
router = APIRouter(prefix="/api/alerts", tags=["safeguarding"])


@router.get("")
async def list_open(request: Request, _who: Supervisor) -> list[dict[str, Any]]:
    """Every alert no supervisor has acknowledged yet, oldest first."""
    return await open_alerts(services_of(request))


@router.post("/{alert_id}/acknowledge", status_code=204)
async def acknowledge_route(request: Request, alert_id: PathId, who: Supervisor) -> None:
    """Seen to: audited, and gone from every supervisor's panel on every node."""
    try:
        await acknowledge(services_of(request), who, alert_id)
    except AlertError as exc:
        raise HTTPException(409 if exc.already else 404, str(exc)) from None
