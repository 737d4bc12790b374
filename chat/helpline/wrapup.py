"""Wrap-up: when a chat is over, the adviser records a short summary, outcome codes and
categories, before the chat may leave her list.

The codes come from a data file a service can replace (data/outcomes.yaml, or
WILLOW_OUTCOMES_FILE), checked at start with a clear error. A wrap-up belongs to the chat and
is purged with it (its row cascades with the conversation).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import exists, select

from chat.core.models import Conversation, Staff
from chat.core.protocol import ProtocolError
from chat.core.services import Services
from chat.helpline.console_errors import ConsoleError
from chat.helpline.models import WrapUp
from chat.helpline.staff import require_role, services_of
from moderation.datafiles import DataFileError, describe_validation_error, load_mapping

OUTCOMES_FILE = Path(__file__).resolve().parent / "data" / "outcomes.yaml"
# An adviser who comes back finds at most this many chats still waiting for a wrap-up.
MAX_PENDING = 50


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Code(_Strict):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
    label: Annotated[str, Field(min_length=1, max_length=80)]


class Outcomes(_Strict):
    min_outcomes: Annotated[int, Field(ge=1, le=10)] = 1
    outcomes: list[Code] = Field(min_length=1, max_length=60)
    categories: list[Code] = Field(min_length=1, max_length=60)

    @model_validator(mode="after")
    def _unique(self) -> Outcomes:
        for kind, codes in (("outcome", self.outcomes), ("category", self.categories)):
            ids = [c.id for c in codes]
            repeated = sorted({i for i in ids if ids.count(i) > 1})
            if repeated:
                raise ValueError(f"{kind} id(s) used twice: {', '.join(repeated)}")
        return self

    def unknown(self, outcomes: list[str], categories: list[str]) -> list[str]:
        known_outcomes = {c.id for c in self.outcomes}
        known_categories = {c.id for c in self.categories}
        return [o for o in outcomes if o not in known_outcomes] + [
            c for c in categories if c not in known_categories
        ]


def load_outcomes(path: Path | None = None) -> Outcomes:
    """Read and check the outcome codes; a bad file raises DataFileError naming it."""
    path = path or OUTCOMES_FILE
    return outcomes_from_data(load_mapping(path), path)


def outcomes_from_data(data: object, label: Path | str) -> Outcomes:
    """Check already-read data as the file is checked (an admin's edit); `label` names it."""
    try:
        return Outcomes.model_validate(data)
    except ValidationError as exc:
        raise DataFileError(label, describe_validation_error(exc)) from None


async def wrap_up(
    services: Services,
    staff: Staff,
    conversation_id: int,
    summary: str,
    outcomes: list[str],
    categories: list[str],
) -> None:
    """Record the wrap-up of an ended chat this adviser had; once only."""
    codes = services.features.get(Outcomes)
    unknown = codes.unknown(outcomes, categories)
    if unknown:
        raise ConsoleError("unknown_code", f"unknown code(s): {', '.join(unknown)}", ref="wrap_up")
    if len(set(outcomes)) < codes.min_outcomes:
        raise ProtocolError(
            "invalid", f"choose at least {codes.min_outcomes} outcome(s)", ref="wrap_up"
        )
    async with services.change() as tx:
        conversation = await tx.session.get(Conversation, conversation_id)
        if conversation is None or conversation.adviser_id != staff.id:
            raise ProtocolError("not_found", ref="wrap_up")
        if conversation.status != "ended":
            raise ConsoleError("not_ended", ref="wrap_up")
        if await tx.session.get(WrapUp, conversation_id) is not None:
            raise ConsoleError("already_wrapped_up", ref="wrap_up")
        tx.session.add(
            WrapUp(
                conversation_id=conversation_id,
                staff_id=staff.id,
                summary=summary,
                outcomes=sorted(set(outcomes)),
                categories=sorted(set(categories)),
            )
        )
        tx.audit(f"staff:{staff.id}", "conversation.wrapped_up", f"conversation:{conversation_id}")
        # Anonymised daily counts (chat/reporting): one per code, never the summary or the chat.
        tx.after(lambda: _count_codes(services, outcomes, categories))


async def _count_codes(services: Services, outcomes: list[str], categories: list[str]) -> None:
    for code in sorted(set(outcomes)):
        await services.tally.note("outcome_code", code=code)
    for code in sorted(set(categories)):
        await services.tally.note("outcome_category", code=code)


async def pending(services: Services, staff_id: int) -> list[int]:
    """Ended chats of this adviser with no wrap-up yet, oldest first: still on her list."""
    async with services.db.read() as session:
        rows = await session.scalars(
            select(Conversation.id)
            .where(
                Conversation.adviser_id == staff_id,
                Conversation.status == "ended",
                ~exists().where(WrapUp.conversation_id == Conversation.id),
            )
            .order_by(Conversation.ended_at.desc(), Conversation.id.desc())
            .limit(MAX_PENDING)
        )
        return sorted(rows.all())


async def wrap_up_of(services: Services, conversation_id: int) -> dict[str, Any] | None:
    async with services.db.read() as session:
        found = await session.get(WrapUp, conversation_id)
    if found is None:
        return None
    return {
        "conversation_id": found.conversation_id,
        "summary": found.summary,
        "outcomes": found.outcomes,
        "categories": found.categories,
    }


router = APIRouter(prefix="/api/staff", tags=["wrap-up"])
Advising = Annotated[Staff, Depends(require_role("adviser", "supervisor", "admin"))]


@router.get("/outcomes")
async def outcome_codes(request: Request, _staff: Advising) -> dict[str, Any]:
    """The codes the wrap-up form offers, as the data file lists them."""
    return services_of(request).features.get(Outcomes).model_dump(mode="json")
