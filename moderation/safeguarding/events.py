"""Moderation's client events on the shared socket (see docs/PROTOCOL.md, "Safeguarding")."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, Strict

from chat.core.protocol import ClientEventModel, RowId, Seq
from moderation.types import RiskCategory

Reason = Annotated[str, Field(min_length=1, max_length=1000)]
Note = Annotated[str, Field(max_length=2000)]


class Escalate(ClientEventModel):
    type: Literal["escalate"]
    conversation_id: RowId
    level: Literal["signpost", "supervisor", "emergency"]
    reason: Reason
    consent: Literal["given", "declined", "not_asked"]
    handoff_note: Note = ""
    # A category arrives as its name; strictness would ask for the enum object itself.
    categories: list[Annotated[RiskCategory, Strict(False)]] = Field(
        default_factory=list, max_length=6
    )


class EscalationOutcome(ClientEventModel):
    type: Literal["escalation_outcome"]
    escalation_id: RowId
    # One of the escalation outcome codes (moderation/safeguarding/outcome_codes.py).
    code: Annotated[str, Field(min_length=1, max_length=40)]
    outcome: Annotated[str, Field(max_length=1000)] = ""


class ReportMessage(ClientEventModel):
    type: Literal["report"]
    conversation_id: RowId
    seq: Seq
    reason: Annotated[str, Field(max_length=500)] = ""


EVENTS: dict[str, type[ClientEventModel]] = {
    "escalate": Escalate,
    "escalation_outcome": EscalationOutcome,
    "report": ReportMessage,
}
