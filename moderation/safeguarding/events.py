"""Moderation's client events on the shared socket (see docs/PROTOCOL.md, "Safeguarding")."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from chat.core.protocol import ClientEventModel
from moderation.types import RiskCategory

Reason = Annotated[str, Field(min_length=1, max_length=1000)]
Note = Annotated[str, Field(max_length=2000)]


class Escalate(ClientEventModel):
    type: Literal["escalate"]
    conversation_id: int
    level: Literal["signpost", "supervisor", "emergency"]
    reason: Reason
    consent: Literal["given", "declined", "not_asked"]
    handoff_note: Note = ""
    categories: list[RiskCategory] = Field(default_factory=list, max_length=6)


class EscalationOutcome(ClientEventModel):
    type: Literal["escalation_outcome"]
    escalation_id: int
    outcome: Reason


class ReportMessage(ClientEventModel):
    type: Literal["report"]
    conversation_id: int
    seq: int = Field(ge=1)
    reason: Annotated[str, Field(max_length=500)] = ""


EVENTS: dict[str, type[ClientEventModel]] = {
    "escalate": Escalate,
    "escalation_outcome": EscalationOutcome,
    "report": ReportMessage,
}
