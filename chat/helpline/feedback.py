"""Her feedback: an optional end-of-chat form of a few taps, stored apart from the transcript.

What is kept is the day, her page's language and her choices: no conversation, session, staff
member, time of day or words of hers. So it survives the transcript's purge and cannot be
joined back to her or to the chat. One form per session (counted by keyed hash, as floods are).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from sqlalchemy import func, select

from chat.core import floods
from chat.core.clock import now
from chat.core.models import Staff, VisitorSession
from chat.core.protocol import ProtocolError
from chat.core.services import Services
from chat.core.throttle import Rule
from chat.helpline.choices import LANGUAGES
from chat.helpline.conversations import current_conversation
from chat.helpline.models import Feedback
from chat.helpline.staff import require_role, services_of

Helped = Literal["yes", "a_little", "no", "not_given"]
Listened = Literal["yes", "partly", "no", "not_given"]
Again = Literal["yes", "maybe", "no", "not_given"]
ONCE = Rule("feedback", limit=1, window=24 * 3600)


async def give_feedback(
    services: Services, visitor: VisitorSession, helped: str, listened: str, again: str
) -> None:
    """Store her answers if her chat with an adviser has ended; once per session."""
    if {helped, listened, again} == {"not_given"}:
        raise ProtocolError("invalid", "choose at least one answer", ref="feedback")
    conversation = await current_conversation(services, visitor.id)
    if conversation is None or conversation.status != "ended" or conversation.adviser_id is None:
        raise ProtocolError("not_found", "feedback follows a chat with an adviser", ref="feedback")
    await floods.require(services, "feedback", [(ONCE, str(visitor.id))])
    language = visitor.language if visitor.language in LANGUAGES else "en"
    async with services.change() as tx:
        tx.session.add(
            Feedback(
                day=now().date(), language=language, helped=helped, listened=listened, again=again
            )
        )
        # Anonymised daily counts (chat/reporting), like every other figure for funders.
        tx.after(
            lambda: services.tally.note("feedback", helped=helped, listened=listened, again=again)
        )


async def feedback_counts(services: Services) -> dict[str, dict[str, int]]:
    """How many gave each answer, per question (no day finer than the table keeps)."""
    counts: dict[str, dict[str, int]] = {}
    async with services.db.read() as session:
        for name in ("helped", "listened", "again"):
            column = getattr(Feedback, name)
            rows = await session.execute(select(column, func.count()).group_by(column))
            counts[name] = {str(value): int(count) for value, count in rows.all()}
    return counts


router = APIRouter(prefix="/api/staff", tags=["feedback"])


@router.get("/feedback")
async def feedback_summary(
    request: Request,
    _staff: Annotated[Staff, Depends(require_role("supervisor", "admin"))],
) -> dict[str, Any]:
    """Totals of her answers, for supervisors and admins."""
    return await feedback_counts(services_of(request))
