"""The events moderation sends: the helpline card for her, the alert for staff.

Both are plain payload builders (no I/O) so the 1:1 path and rooms send the same shapes.
"""

from __future__ import annotations

from typing import Any

from moderation.directory import Directory
from moderation.types import RiskAssessment, Verdict


def helplines_event(
    directory: Directory, risk: RiskAssessment, nation: str | None, language: str | None
) -> dict[str, Any]:
    """The card she sees beside the chat, without interrupting it: helplines for what she wrote."""
    helplines = directory.for_visitor(risk.categories, nation, language, risk.level)
    event: dict[str, Any] = {
        "type": "helplines",
        "level": risk.level.value,
        "categories": [c.value for c in risk.categories],
        "helplines": [
            h.model_dump(mode="json", exclude_none=True, exclude={"translations"})
            for h in helplines
        ],
    }
    if directory.asks_nation(risk.categories, nation):
        # The services differ by nation: the card asks where she lives instead of listing
        # every nation's own.
        event["ask_nation"] = True
    return event


def risk_summary(verdict: Verdict) -> dict[str, Any]:
    """What staff are shown of a flagged message: level, categories and the words that raised it."""
    return {
        "level": verdict.risk.level.value,
        "categories": [c.value for c in verdict.risk.categories],
        "stance": verdict.risk.stance.value,
        "phrases": list(verdict.risk.phrases),
        "pii": [f.kind.value for f in verdict.pii],
        "abuse": list(verdict.abuse),
    }
