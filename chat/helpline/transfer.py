"""Warm transfer: the adviser hands her chat to a named adviser, a specialism or a supervisor,
with a note.

In one commit the chat changes hands, she is told someone else is joining (a `transferred`
event her page words in her language), and a staff-only `transfer_note` keeps who, to whom and
why. Then, on every node (`ChatTransferred`), the receiver's open consoles join the chat from
its first event, so they see the whole of it, and the giver's consoles let it go.

To a specialism: the chat goes to an adviser who holds that specialism (recorded in her profile,
chat/helpline/profile.py), is online and available, trained, reads her language and has a free
place; the least loaded of them. The receiver's staff row is locked before her chats are
counted (`hold_adviser`, as taking the next chat does), so two transfers at once, from any
nodes, never take her past her capacity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chat.core.channels import staff_sender
from chat.core.clock import now
from chat.core.events import DomainEvent
from chat.core.models import Conversation, Staff
from chat.core.presence import STAFF, here_among
from chat.core.protocol import ProtocolError
from chat.core.services import Services
from chat.helpline import board
from chat.helpline.console_errors import ConsoleError
from chat.helpline.conversations import active_count, hold_adviser
from chat.helpline.profile import languages_of
from chat.helpline.routing import SPECIALISMS
from chat.helpline.staff import require_role, services_of

ADVISING_ROLES = ("adviser", "supervisor")


@dataclass(frozen=True)
class ChatTransferred(DomainEvent):
    conversation_id: int
    from_staff_id: int
    to_staff_id: int


def refused(reason: str, message: str) -> ProtocolError:
    return ConsoleError("transfer_refused", message, ref="transfer", extra={"reason": reason})


async def _named(session: AsyncSession, giver: Staff, staff_id: int) -> Staff:
    target = await session.get(Staff, staff_id)
    if target is None or target.disabled or target.role not in ADVISING_ROLES:
        raise refused("unknown", "no adviser or supervisor with that id")
    if target.id == giver.id:
        raise refused("self", "this chat is already yours")
    if not target.available:
        raise refused("away", f"{target.display_name} is not available now")
    return target


async def _any_supervisor(session: AsyncSession, giver: Staff) -> Staff:
    """The available supervisor with the fewest active chats (not the giver)."""
    load = (
        select(func.count())
        .select_from(Conversation)
        .where(Conversation.adviser_id == Staff.id, Conversation.status == "active")
        .scalar_subquery()
    )
    target = await session.scalar(
        select(Staff)
        .where(
            Staff.role == "supervisor",
            Staff.available.is_(True),
            Staff.disabled.is_(False),
            Staff.id != giver.id,
        )
        .order_by(load, Staff.id)
        .limit(1)
    )
    if target is None:
        raise refused("no_supervisor", "no supervisor is available now")
    return target


async def _specialist(
    services: Services, session: AsyncSession, giver: Staff, language: str | None, specialism: str
) -> Staff:
    """The least loaded adviser with this specialism, online, available, trained, reading her
    language, with a free place. Every candidate's row is locked (in id order, so two
    transfers never wait on each other) before the chats are counted."""
    if specialism not in SPECIALISMS:
        raise refused("no_such_specialism", f"unknown specialism {specialism!r}")
    query = (
        select(Staff)
        .where(
            Staff.role.in_(ADVISING_ROLES),
            Staff.available.is_(True),
            Staff.disabled.is_(False),
            Staff.id != giver.id,
        )
        .order_by(Staff.id)
    )
    if services.settings.chats_need_training:
        query = query.where(Staff.trained_at.is_not(None))
    candidates = [
        staff
        for staff in (await session.scalars(query)).all()
        if specialism in (staff.specialisms or [])
        and (language is None or language in languages_of(staff))
    ]
    online = await here_among(session, STAFF, [staff.id for staff in candidates])
    free: list[tuple[int, int, Staff]] = []
    for staff in candidates:
        if staff.id not in online:
            continue
        chats = await active_count(session, await hold_adviser(session, staff.id))
        if chats < staff.capacity:
            free.append((chats, staff.id, staff))
    if not free:
        raise refused("nobody_free", "no adviser with that specialism is free now")
    return min(free, key=lambda found: found[:2])[2]


async def transfer(
    services: Services,
    giver: Staff,
    conversation_id: int,
    to: Literal["adviser", "supervisor", "specialism"],
    staff_id: int | None,
    note: str,
    specialism: str | None = None,
) -> Staff:
    """Hand an active chat to someone else; returns who has it now."""
    async with services.change() as tx:
        session = tx.session
        query = select(Conversation).where(Conversation.id == conversation_id)
        if not services.db.is_sqlite:
            query = query.with_for_update()
        conversation = (await session.execute(query)).scalar_one_or_none()
        if conversation is None or conversation.adviser_id != giver.id:
            raise ProtocolError("not_found", ref="transfer")
        if conversation.status != "active":
            raise ProtocolError("conversation_ended", ref="transfer")
        if to == "adviser":
            if staff_id is None:
                raise ProtocolError("invalid", "name the adviser (staff_id)", ref="transfer")
            target = await _named(session, giver, staff_id)
        elif to == "specialism":
            if specialism is None:
                raise ProtocolError("invalid", "name the specialism", ref="transfer")
            target = await _specialist(services, session, giver, conversation.language, specialism)
        else:
            target = await _any_supervisor(session, giver)
        # A warm transfer may take a supervisor past capacity, never an adviser. Her row is
        # locked first, so a transfer committed meanwhile on any node is counted.
        if (
            target.role == "adviser"
            and await active_count(session, await hold_adviser(session, target.id))
            >= target.capacity
        ):
            raise refused("at_capacity", f"{target.display_name} has as many chats as allowed")
        conversation.adviser_id = target.id
        at = now().isoformat()
        await tx.append(
            conversation_id,
            {
                "type": "transferred",
                "conversation_id": conversation_id,
                "adviser_name": target.display_name,
                "at": at,
            },
        )
        await tx.append(
            conversation_id,
            {
                "type": "transfer_note",
                "conversation_id": conversation_id,
                "from": giver.display_name,
                "from_staff_id": giver.id,
                "to": target.display_name,
                "to_staff_id": target.id,
                "to_role": target.role,
                "note": note,
                "at": at,
            },
            sender=staff_sender(giver.id),
            staff_only=True,
        )
        tx.audit(
            staff_sender(giver.id),
            "conversation.transferred",
            f"conversation:{conversation_id}",
            details={"to": f"staff:{target.id}"},
        )
        tx.emit(ChatTransferred(conversation_id, giver.id, target.id))
        target_id = target.id
        tx.after(lambda: board.note(services, staff={giver.id, target_id}, chats={conversation_id}))
    return target


async def transfer_targets(services: Services, me: Staff) -> list[dict[str, Any]]:
    """Who the adviser may hand a chat to: advisers and supervisors, available first."""
    async with services.db.read() as session:
        load = (
            select(func.count())
            .select_from(Conversation)
            .where(Conversation.adviser_id == Staff.id, Conversation.status == "active")
            .scalar_subquery()
        )
        rows = await session.execute(
            select(Staff, load)
            .where(Staff.role.in_(ADVISING_ROLES), Staff.disabled.is_(False), Staff.id != me.id)
            .order_by(Staff.available.desc(), Staff.display_name)
        )
        return [
            {
                "id": staff.id,
                "name": staff.display_name,
                "role": staff.role,
                "available": staff.available,
                "chats": chats,
                "capacity": staff.capacity,
            }
            for staff, chats in rows.all()
        ]


router = APIRouter(prefix="/api/staff", tags=["transfer"])


@router.get("/specialisms")
async def specialisms(
    _me: Annotated[Staff, Depends(require_role("adviser", "supervisor"))],
) -> list[str]:
    """The specialisms a chat may be handed to (chat/helpline/routing.py)."""
    return list(SPECIALISMS)


@router.get("/transfer-targets")
async def targets(
    request: Request,
    me: Annotated[Staff, Depends(require_role("adviser", "supervisor"))],
) -> list[dict[str, Any]]:
    """Advisers and supervisors this one may hand a chat to, with their load."""
    return await transfer_targets(services_of(request), me)
