"""A woman waiting for the adviser she came back to is never left waiting for ever.

She came back with a return code and chose to wait for the adviser she had
(chat/helpline/continuity.py); routing then gives her chat to that adviser only. When that
adviser has had no free place for `return_wait_seconds` since she chose, or stops being
available (her last socket closed past its grace, she pressed "not available"), she is asked,
in a stored `return_offer`, whether she will keep waiting or talk to the next adviser free.
Nothing changes until she answers (`wait_for_adviser`): she is never moved silently.

The time rule is looked at by the routing round's slow tick (chat/helpline/assign.py); the
adviser going away asks at once, in the unit of work that makes her unavailable.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, select, update

from chat.core.clock import now
from chat.core.models import Conversation, ReturnVisit, Staff
from chat.core.settings import Settings
from chat.core.uow import Change
from chat.helpline import routing


def _waiting_for(*conditions: Any) -> Select[int, int | None, str]:
    """Waiting chats whose woman chose to wait for her adviser, with that adviser's name."""
    return (
        select(ReturnVisit.conversation_id, ReturnVisit.adviser_id, Staff.display_name)
        .join(Conversation, Conversation.id == ReturnVisit.conversation_id)
        .outerjoin(Staff, Staff.id == ReturnVisit.adviser_id)
        .where(
            ReturnVisit.wait_for_adviser.is_(True),
            ReturnVisit.adviser_id.is_not(None),
            Conversation.status == "waiting",
            *conditions,
        )
        .order_by(ReturnVisit.conversation_id)
    )


async def _offer(
    tx: Change, conversation_id: int, name: str | None, reason: str, at: datetime
) -> None:
    await tx.session.execute(
        update(ReturnVisit)
        .where(ReturnVisit.conversation_id == conversation_id)
        .values(offered_at=at)
    )
    await tx.append(
        conversation_id,
        {
            "type": "return_offer",
            "conversation_id": conversation_id,
            "adviser_name": name,
            "reason": reason,
            "at": at.isoformat(),
        },
    )


async def offer_when_away(tx: Change, staff_id: int) -> list[int]:
    """The adviser stopped being available: every woman waiting for her is asked at once, in
    the caller's unit of work. Returns their conversations."""
    at = now()
    rows = (await tx.session.execute(_waiting_for(ReturnVisit.adviser_id == staff_id))).all()
    for conversation_id, _adviser, name in rows:
        await _offer(tx, conversation_id, name, "away", at)
    return [row[0] for row in rows]


async def offer_when_due(
    tx: Change, settings: Settings, team: list[routing.Adviser], at: datetime
) -> list[int]:
    """Women who chose to wait for their adviser `return_wait_seconds` ago, were not asked
    since, and whose adviser still has no free place for them: each is asked once."""
    cutoff = at - timedelta(seconds=settings.return_wait_seconds)
    rows = (
        await tx.session.execute(
            _waiting_for(
                ReturnVisit.offered_at.is_(None),
                ReturnVisit.chose_at.is_not(None),
                ReturnVisit.chose_at <= cutoff,
            ).limit(200)
        )
    ).all()
    asked: list[int] = []
    for conversation_id, adviser_id, name in rows:
        state = "away" if adviser_id is None else routing.adviser_state(adviser_id, team)
        if state == "free":
            continue
        await _offer(tx, conversation_id, name, state, at)
        asked.append(conversation_id)
    return asked
