"""Safeguarding's figures for /metrics: flags by risk category and level, alerts by kind."""

from __future__ import annotations

from chat.core.metrics import bounded
from chat.core.services import Services
from moderation.types import RiskCategory, RiskLevel, Verdict

CATEGORIES = tuple(category.value for category in RiskCategory)
# An alert's level is a risk level, or an escalation's level.
LEVELS = (*(level.value for level in RiskLevel), "supervisor", "emergency")
ALERT_KINDS = ("risk", "escalation", "report", "room_risk")
# Flags that are not risk: the personal-data guard and the abuse filter.
PERSONAL_DATA, ABUSE = "personal_data", "abuse"


def count_flags(services: Services, verdict: Verdict) -> None:
    """One count per reason a message was flagged; never what it said or who said it."""
    flags = services.metrics.flags
    level = verdict.risk.level.value
    if verdict.risk.flagged:
        for category in verdict.risk.categories:
            flags.labels(bounded(category.value, CATEGORIES), level).inc()
    if verdict.pii:
        flags.labels(PERSONAL_DATA, level).inc()
    if verdict.abuse:
        flags.labels(ABUSE, level).inc()


def count_alert(services: Services, kind: str, level: object) -> None:
    services.metrics.alerts.labels(bounded(kind, ALERT_KINDS), bounded(level, LEVELS)).inc()


async def tally_risk(services: Services, verdict: Verdict, shown: RiskLevel) -> None:
    """For anonymised reporting: current danger in a chat rose. One count, under its first
    category, so a breakdown by category adds up to the number of times it rose."""
    risk = verdict.risk
    if not risk.alert or risk.level.rank <= shown.rank or not risk.categories:
        return
    await services.tally.note("risk", category=risk.categories[0].value, level=risk.level.value)
