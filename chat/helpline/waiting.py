"""While she waits: "I am in danger now", and what staff may read before taking her.

Writing while she waits needs nothing of its own: her conversation is writable from the
moment it exists, so what she writes passes the one message pipeline (chat/core/pipeline.py),
whose effects raise her queue priority and alert a supervisor (moderation/safeguarding), and
it is in the stream the adviser who takes her is shown.

"I am in danger now" is her own word for the highest level of risk: one unit of work puts her
first in the queue (the conversation's `priority` and `risk_level`, which the queue is ordered
by), stores the emergency routes from the helplines directory in her conversation (so a reload
shows them again), stores a staff-only flag and alerts supervisors.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from sqlalchemy import select

from chat.core.alerts import raise_alert
from chat.core.channels import VISITOR, staff_sender
from chat.core.clock import now
from chat.core.models import Conversation, Event, Staff, VisitorSession
from chat.core.protocol import ClientEventModel, ProtocolError, RowId
from chat.core.services import Services
from chat.core.sockets import SocketRoutes
from chat.core.transport import Connection
from chat.helpline import board
from chat.helpline import conversations as conv
from chat.helpline.choices import Language, Nation, Topic
from chat.helpline.opening import refuse_without_conversation
from moderation.alerts import helplines_event
from moderation.directory import Directory
from moderation.guidance import guidance_for
from moderation.loaded import ModerationData
from moderation.types import RiskAssessment, RiskCategory, RiskLevel

# Her own word counts as much as the gravest danger anything she wrote can show.
DANGER_LEVEL = RiskLevel.IMMINENT
DANGER_CATEGORIES = (RiskCategory.DOMESTIC_ABUSE_DANGER,)


class DangerNow(ClientEventModel):
    """She says she is in danger now (a button on the page, before or while she waits)."""

    type: Literal["danger_now"]
    conversation_id: RowId


class ReadWaiting(ClientEventModel):
    """An adviser or supervisor reads what a waiting woman has written, before taking her."""

    type: Literal["read_waiting"]
    conversation_id: RowId


EVENTS: dict[str, type[ClientEventModel]] = {"danger_now": DangerNow, "read_waiting": ReadWaiting}
# What a read before taking shows at most: her newest messages.
READ_WAITING_LIMIT = 50
STAFF_ROLES = ("adviser", "supervisor")


def emergency_card(
    directory: Directory, nation: str | None, language: str | None, conversation_id: int
) -> dict[str, object]:
    """The helplines card for immediate danger: the emergency routes first, in her language."""
    risk = RiskAssessment(level=DANGER_LEVEL, categories=DANGER_CATEGORIES)
    card = helplines_event(directory, risk, nation, language)
    card["conversation_id"] = conversation_id
    card["danger_now"] = True
    return card


def _guidance(services: Services) -> list[dict[str, object]]:
    """What the staff guidance says for danger now (the app's loaded file, else the shipped one)."""
    data = services.features.find(ModerationData)
    return guidance_for(DANGER_CATEGORIES, data.guidance if data is not None else None)


async def danger_now(services: Services, visitor_id: int, conversation_id: int) -> bool:
    """She is in danger now: first in the queue, the emergency routes for her, supervisors told.

    Returns False when she had said so already (the card and the alert are not repeated).
    """
    directory = services.features.get(Directory)
    async with services.change() as tx:
        session = tx.session
        conversation = await session.get(Conversation, conversation_id)
        if conversation is None or conversation.visitor_id != visitor_id:
            raise ProtocolError("not_found", ref="danger_now")
        if conversation.status == "ended":
            raise ProtocolError("conversation_ended", ref="danger_now")
        already = RiskLevel(conversation.risk_level) is DANGER_LEVEL and conversation.priority >= (
            DANGER_LEVEL.rank
        )
        if already:
            return False
        conversation.priority = max(conversation.priority, DANGER_LEVEL.rank)
        conversation.risk_level = DANGER_LEVEL.value
        visitor = await session.get(VisitorSession, visitor_id)
        nation = visitor.nation if visitor else None
        language = (visitor.language if visitor else None) or conversation.language
        at = now().isoformat()
        await tx.append(
            conversation_id, emergency_card(directory, nation, language, conversation_id)
        )
        await tx.append(
            conversation_id,
            {
                "type": "flag",
                "conversation_id": conversation_id,
                "message_seq": None,
                "refused": False,
                "level": DANGER_LEVEL.value,
                "categories": [c.value for c in DANGER_CATEGORIES],
                "stance": "current",
                "phrases": [],
                "pii": [],
                "abuse": [],
                "guidance": _guidance(services),
                "danger_now": True,
                "at": at,
            },
            staff_only=True,
        )
        # Kept until a supervisor acknowledges it, as every supervisor alert is.
        await raise_alert(
            services,
            tx,
            conversation_id,
            {
                "type": "alert",
                "kind": "danger_now",
                "conversation_id": conversation_id,
                "at": at,
                "level": DANGER_LEVEL.value,
                "status": conversation.status,
            },
        )
        tx.audit(VISITOR, "conversation.danger_now", f"conversation:{conversation_id}")
        tx.after(lambda: board.note(services, chats={conversation_id}))
        if conversation.status == "waiting":
            tx.after(lambda: conv.publish_queue(services, changed={conversation_id}))
    return True


async def _on_danger_now(connection: Connection, event: DangerNow) -> None:
    visitor = connection.visitor
    if visitor is None:
        raise ProtocolError("forbidden", ref="danger_now")
    # Turned away (closed or full), she has no conversation: no adviser would read it, and
    # she is told so (her page shows the emergency routes instead).
    await refuse_without_conversation(connection, event.conversation_id)
    if event.conversation_id not in connection.writable:
        raise ProtocolError("not_found", ref="danger_now")
    first = await danger_now(connection.services, visitor.id, event.conversation_id)
    connection.send(
        {"type": "danger_noted", "conversation_id": event.conversation_id, "repeat": not first}
    )
    if not first:
        # She pressed again (or reloaded): the routes are shown to her again, not stored twice.
        directory = connection.services.features.get(Directory)
        card = emergency_card(directory, visitor.nation, visitor.language, event.conversation_id)
        connection.send(card)


async def waiting_messages(
    services: Services, staff: Staff, conversation_id: int
) -> list[dict[str, Any]]:
    """Her messages in a conversation still waiting, oldest first; the read is audited.

    Once, not a subscription: an adviser who does not take her hears nothing more of it.
    """
    async with services.db.read() as session:
        conversation = await session.get(Conversation, conversation_id)
        if conversation is None or conversation.status != "waiting":
            raise ProtocolError(
                "not_found", "nobody is waiting in this conversation", ref="read_waiting"
            )
        rows = (
            await session.execute(
                select(Event.payload)
                .where(
                    Event.stream_id == conversation_id,
                    Event.type == "message",
                    Event.sender == VISITOR,
                )
                .order_by(Event.seq.desc())
                .limit(READ_WAITING_LIMIT)
            )
        ).scalars()
        messages = list(rows)[::-1]
    async with services.change() as tx:
        tx.audit(
            staff_sender(staff.id), "transcript.view_waiting", f"conversation:{conversation_id}"
        )
    return messages


async def _on_read_waiting(connection: Connection, event: ReadWaiting) -> None:
    staff = connection.staff
    if staff is None or staff.role not in STAFF_ROLES:
        raise ProtocolError("forbidden", ref="read_waiting")
    messages = await waiting_messages(connection.services, staff, event.conversation_id)
    connection.send(
        {"type": "waiting_messages", "conversation_id": event.conversation_id, "messages": messages}
    )


# The helplines a waiting woman is shown, by the topic she chose (none: someone to talk to).
TOPIC_CATEGORIES: dict[str, tuple[str, ...]] = {
    "abuse": ("domestic_abuse_danger",),
    "drugs": ("drugs",),
    "alcohol": ("alcohol",),
    "children": ("parenting",),
    "health": ("mental_health",),
    "sexual_violence": ("sexual_violence",),
    "forced_marriage": ("forced_marriage_honour",),
    "sex_work": ("sex_work",),
}
# The same choices as the first screen's (a topic without its own helplines: someone to talk to).
WaitingLanguage = Language
WaitingTopic = Topic
WaitingNation = Nation

router = APIRouter(prefix="/api/visitor", tags=["visitor"])


@router.get("/helplines")
async def waiting_helplines(
    request: Request,
    language: WaitingLanguage = "en",
    topic: WaitingTopic | None = None,
    nation: WaitingNation | None = None,
    emergency: bool = False,
) -> dict[str, Any]:
    """Helplines to show her while she waits: asks for no token and keeps nothing.

    `emergency`: the directory's emergency routes first (the closed screen lists them)."""
    directory = request.app.state.services.features.get(Directory)
    categories = (*TOPIC_CATEGORIES.get(topic or "", ()), "emotional_support")
    level = DANGER_LEVEL if emergency else RiskLevel.LOW
    found = directory.for_visitor(categories, nation, language, level)
    return {
        "helplines": [
            h.model_dump(mode="json", exclude_none=True, exclude={"translations"}) for h in found
        ]
    }


def install(routes: SocketRoutes) -> None:
    routes.add_events(EVENTS)
    routes.handle(DangerNow, _on_danger_now)
    routes.handle(ReadWaiting, _on_read_waiting)
