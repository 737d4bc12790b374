"""Reporting over HTTP: month reports, CSV and charts for supervisors and admins; the
"you said, we did" list, edited by admins and read by the visitor page."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response

from chat.core.clock import now
from chat.core.http import PathId
from chat.core.models import Staff
from chat.core.services import Services
from chat.helpline.staff import require_role
from chat.reporting import yousaid
from chat.reporting.charts import bar_chart
from chat.reporting.report import MonthReport, ReportError, month_report, reportable_months, to_csv
from chat.reporting.words import words
from moderation.safeguarding.outcome_codes import EscalationOutcomes

Reader = Annotated[Staff, Depends(require_role("supervisor", "admin"))]
Admin = Annotated[Staff, Depends(require_role("admin"))]

router = APIRouter(tags=["reporting"])


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _code_labels(request: Request) -> dict[str, str]:
    """The escalation outcome codes' labels, from their data file (a service's own codes)."""
    codes = _services(request).features.find(EscalationOutcomes)
    return codes.labels() if codes is not None else {}


def _words(request: Request, lang: str) -> dict[str, str]:
    """The catalogue's report words, and the outcome codes' labels where it has none."""
    found = words(_services(request).settings.frontend_dir, lang)
    for code, label in _code_labels(request).items():
        found.setdefault(f"reports.value.{code}", label)
    return found


async def _report(request: Request, month: str) -> MonthReport:
    try:
        found = await month_report(_services(request), month, now().date())
    except ReportError as problem:
        raise HTTPException(422, str(problem)) from None
    return replace(found, labels=_code_labels(request))


@router.get("/api/reports/months")
async def months(request: Request, _who: Reader) -> dict[str, list[str]]:
    return {"months": await reportable_months(_services(request), now().date())}


@router.get("/api/reports/{month}")
async def report(request: Request, month: str, _who: Reader) -> MonthReport:
    return await _report(request, month)


@router.get("/api/reports/{month}/export.csv")
async def export(request: Request, month: str, _who: Reader, lang: str = "en") -> Response:
    found = await _report(request, month)
    text = to_csv(found, _words(request, lang))
    disposition = f'attachment; filename="willow-report-{found.month}.csv"'
    return Response(
        text, media_type="text/csv; charset=utf-8", headers={"content-disposition": disposition}
    )


@router.get("/api/reports/{month}/charts/{measure}/{dimension}.svg")
async def chart(
    request: Request, month: str, measure: str, dimension: str, _who: Reader, lang: str = "en"
) -> Response:
    found = await _report(request, month)
    chosen = next((m for m in found.measures if m.measure == measure), None)
    if chosen is None or dimension not in chosen.breakdowns:
        raise HTTPException(404, "no such measure or breakdown in this month")
    catalogue = _words(request, lang)
    title = f"{catalogue.get(f'reports.measure.{measure}', measure)}: " + catalogue.get(
        f"reports.dimension.{dimension}", dimension
    )
    svg = bar_chart(title, chosen.breakdowns[dimension], catalogue)
    return Response(svg, media_type="image/svg+xml")


@router.get("/api/you-said-we-did")
async def public_list(request: Request) -> list[yousaid.EntryView]:
    return await yousaid.entries(_services(request))


@router.post("/api/admin/you-said-we-did", status_code=201)
async def add_entry(request: Request, entry: yousaid.Entry, _who: Admin) -> yousaid.EntryView:
    try:
        return await yousaid.add(_services(request), entry)
    except yousaid.ListFull as problem:
        raise HTTPException(409, str(problem)) from None


@router.put("/api/admin/you-said-we-did/{entry_id}")
async def replace_entry(
    request: Request, entry_id: PathId, entry: yousaid.Entry, _who: Admin
) -> yousaid.EntryView:
    replaced = await yousaid.replace(_services(request), entry_id, entry)
    if replaced is None:
        raise HTTPException(404, "no such entry")
    return replaced


@router.delete("/api/admin/you-said-we-did/{entry_id}", status_code=204)
async def remove_entry(request: Request, entry_id: PathId, _who: Admin) -> Response:
    if not await yousaid.remove(_services(request), entry_id):
        raise HTTPException(404, "no such entry")
    return Response(status_code=204)
