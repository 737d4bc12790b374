"""A month's report: the daily counts added up, every breakdown suppressed, and its CSV.

Reports cover whole calendar months that have ended, one month at a time. Two reports are
then either the same month (with the same figures, since nothing is counted into a past
day) or months with no day in common, so subtracting one export from another reveals no
one: the differencing that a free choice of dates, or a month still being counted, allows.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from chat.core.services import Services
from chat.reporting.counting import MEASURES, PARTS, TOTAL
from chat.reporting.models import ReportCount
from chat.reporting.suppression import WITHHELD, Breakdown, Shown, suppress

_MONTH = re.compile(r"(\d{4})-(\d{2})")


class ReportError(ValueError):
    """The month asked for cannot be reported; the message says why."""


@dataclass(frozen=True)
class MeasureReport:
    measure: str
    total: Shown
    breakdowns: dict[str, dict[str, Shown]]


@dataclass(frozen=True)
class MonthReport:
    month: str
    measures: list[MeasureReport]
    # Words for values the catalogues do not name: the service's escalation outcome codes.
    labels: dict[str, str] = field(default_factory=dict)


def month_range(month: str, today: date) -> tuple[date, date]:
    """First day of the month and first day of the next; refused unless the month has ended."""
    found = _MONTH.fullmatch(month)
    if found is None or not 1 <= int(found.group(2)) <= 12:
        raise ReportError("name a month as YYYY-MM, e.g. 2026-01")
    start = date(int(found.group(1)), int(found.group(2)), 1)
    end = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    if end > today:
        raise ReportError(
            "a month is reported once it has ended, so that two reports cannot be "
            "subtracted to single anyone out"
        )
    return start, end


async def reportable_months(services: Services, today: date) -> list[str]:
    """Months that have ended and have counts, newest first."""
    async with services.db.read() as session:
        days = (await session.scalars(select(ReportCount.day).distinct())).all()
    months = {f"{d.year:04d}-{d.month:02d}" for d in days}
    this_month = f"{today.year:04d}-{today.month:02d}"
    return sorted((m for m in months if m < this_month), reverse=True)


async def month_report(services: Services, month: str, today: date) -> MonthReport:
    start, end = month_range(month, today)
    async with services.db.read() as session:
        rows = (
            await session.execute(
                select(
                    ReportCount.measure,
                    ReportCount.dimension,
                    ReportCount.value,
                    func.sum(ReportCount.count),
                )
                .where(ReportCount.day >= start, ReportCount.day < end)
                .group_by(ReportCount.measure, ReportCount.dimension, ReportCount.value)
            )
        ).all()
    counts: dict[str, dict[str, dict[str, int]]] = {}
    for measure, dimension, value, total in rows:
        counts.setdefault(measure, {}).setdefault(dimension, {})[value] = int(total)
    return MonthReport(month, [_measure(m, counts.get(m, {})) for m in MEASURES])


def _measure(measure: str, dimensions: dict[str, dict[str, int]]) -> MeasureReport:
    total = dimensions.get(TOTAL[0], {}).get(TOTAL[1], 0)
    breakdowns = {
        dimension: suppress(total, dict(sorted(cells.items())))
        for dimension, cells in dimensions.items()
        if dimension != TOTAL[0] and dimension not in PARTS
    }
    shown_total = suppress(total, {}).total
    # A total hidden in one breakdown is hidden in all: they share it.
    if any(b.total == WITHHELD for b in breakdowns.values()):
        shown_total = WITHHELD
    shown = {dimension: b.cells for dimension, b in breakdowns.items()}
    for dimension, cells in dimensions.items():
        part = _part(dimension, cells, breakdowns)
        if part is not None:
            shown[dimension] = part
    return MeasureReport(measure, shown_total, shown)


def _part(
    dimension: str, cells: dict[str, int], breakdowns: dict[str, Breakdown]
) -> dict[str, Shown] | None:
    """A breakdown of one shown cell (escalations closed at one level, by outcome), suppressed
    against that cell's figure as its total. Left out when that figure is hidden, or when
    showing it would need the figure hidden too: its cells would give the figure away."""
    if dimension not in PARTS:
        return None
    parent, value = PARTS[dimension]
    figure = breakdowns[parent].cells.get(value) if parent in breakdowns else None
    if not isinstance(figure, int):
        return None
    found = suppress(figure, dict(sorted(cells.items())))
    return found.cells if found.total == figure else None


def to_csv(report: MonthReport, words: dict[str, str]) -> str:
    """One row per figure: month, measure, breakdown, value, count (or why it is hidden),
    and the value's label in words (the value itself where it names itself)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["month", "measure", "breakdown", "value", "count", "label"])
    for measure in report.measures:
        total = shown(measure.total, words)
        writer.writerow([report.month, measure.measure, "total", "all", total, ""])
        for dimension, cells in measure.breakdowns.items():
            for value, figure in cells.items():
                label = words.get(f"reports.value.{value}", value)
                writer.writerow(
                    [report.month, measure.measure, dimension, value, shown(figure, words), label]
                )
    return out.getvalue()


def shown(figure: Shown, words: dict[str, str]) -> str:
    return str(figure) if isinstance(figure, int) else words.get(f"reports.{figure}", figure)
