"""Continuity: a return code at the end of a chat, and the hand-over when she comes back.

At the end she may take a return code: four words from a list of common simple words, shown
to her once and stored only as a keyed hash (HMAC-SHA256 with a key derived from the server's
secret), so the database alone cannot turn a code back into words or words into a code. With
it are kept the adviser she talked to and, only if she agreed, the hand-over summary (the one
her adviser wrote, or a short one). Nothing else that could identify her is kept, and the row
is deleted with the conversation (retention, "delete my conversation": a foreign key cascade).

Coming back with it, a new conversation joins the queue; the adviser who takes it sees the
hand-over summary (a staff-only `handover` event), and she is offered to wait for the same
adviser (told at once when that adviser is not available). Routing reads that choice with
`preferred_adviser`; chat/helpline/returning.py asks her again when the wait goes on.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, StringConstraints
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chat.core import floods
from chat.core.channels import VISITOR, staff_sender
from chat.core.clock import aware, now
from chat.core.models import Conversation, Event, ReturnCode, ReturnVisit, Staff, VisitorSession
from chat.core.protocol import ERROR_CODES as CORE_ERROR_CODES
from chat.core.protocol import ClientEventModel, ProtocolError, RowId
from chat.core.services import Services
from chat.core.sockets import SocketRoutes
from chat.core.throttle import Rule
from chat.core.transport import Connection
from chat.core.uow import Change
from chat.helpline import conversations as conv
from chat.helpline.opening import admit_or_watch, opening_of
from moderation.types import RiskLevel

WORDS_FILE = Path(__file__).parent / "data" / "return_words.txt"
CODE_WORDS = 4
MIN_WORDS = 1500
SUMMARY_CHARACTERS = 1000
# Guesses at a code: per session, and per network address (many women may share one).
RETURN_TRIES = Rule("return-code", limit=5, window=600)
RETURN_TRIES_PER_ADDRESS = Rule("return-code-address", limit=30, window=3600)
_KEY_LABEL = b"willow return code"

ERROR_CODES = {
    "return_code_unknown": "no conversation has that return code (it may have been deleted)",
    "return_code_taken": "a return code was already given for this conversation",
}

Summary = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=SUMMARY_CHARACTERS)
]


class ContinuityError(ProtocolError):
    codes: ClassVar[Mapping[str, str]] = {**CORE_ERROR_CODES, **ERROR_CODES}


class WordListError(RuntimeError):
    """The return-code word list is missing or too short; the message says which."""


class TakeReturnCode(ClientEventModel):
    """At the end of her chat: a return code, keeping the hand-over summary or not."""

    type: Literal["take_return_code"]
    conversation_id: RowId
    keep_summary: bool


class ComeBack(ClientEventModel):
    """She starts a chat with the return code she was given."""

    type: Literal["come_back"]
    code: str = Field(min_length=1, max_length=200)


class WaitForAdviser(ClientEventModel):
    """Came back with a code: wait for the same adviser (true) or take the next one (false)."""

    type: Literal["wait_for_adviser"]
    conversation_id: RowId
    wait: bool


class HandoverSummary(ClientEventModel):
    """The adviser's hand-over summary, which she sees at the end and may keep with a code."""

    type: Literal["handover_summary"]
    conversation_id: RowId
    summary: Summary


EVENTS: dict[str, type[ClientEventModel]] = {
    "take_return_code": TakeReturnCode,
    "come_back": ComeBack,
    "wait_for_adviser": WaitForAdviser,
    "handover_summary": HandoverSummary,
}


@cache
def load_words(path: Path = WORDS_FILE) -> tuple[str, ...]:
    """The word list, read once: one lower-case word a line, `#` lines are notes."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise WordListError(f"return-code words {path}: {exc}") from exc
    words = tuple(w.strip() for w in lines if w.strip() and not w.startswith("#"))
    bad = [w for w in words if not re.fullmatch(r"[a-z]+", w)]
    if bad or len(set(words)) != len(words) or len(words) < MIN_WORDS:
        raise WordListError(
            f"return-code words {path}: need {MIN_WORDS}+ distinct lower-case words"
            f" (found {len(set(words))}; not words: {bad[:5]})"
        )
    return words


def new_code(words: tuple[str, ...] | None = None) -> list[str]:
    chosen = words or load_words()
    return [secrets.choice(chosen) for _ in range(CODE_WORDS)]


def normalise(code: str) -> str:
    """The words as she may type them back: any case, spaces, dashes or dots between."""
    return "-".join(re.findall(r"[a-z]+", code.lower()))


def code_hash(services: Services, code: str) -> str:
    key = hmac.new(services.settings.effective_secret_key, _KEY_LABEL, hashlib.sha256).digest()
    return hmac.new(key, normalise(code).encode(), hashlib.sha256).hexdigest()


def short_summary(conversation: Conversation, adviser: Staff | None) -> str:
    """For the next adviser when hers wrote none: what the chat's own facts say."""
    day = aware(conversation.ended_at or now()).date().isoformat()
    who = adviser.display_name if adviser else "an adviser"
    topic = conversation.topic or "not given"
    return f"Talked with {who} on {day}. Topic: {topic}. Language: {conversation.language or 'en'}."


async def latest_summary(session: AsyncSession, conversation_id: int) -> str | None:
    found = await session.execute(
        select(Event.payload)
        .where(Event.stream_id == conversation_id, Event.type == "summary")
        .order_by(Event.seq.desc())
        .limit(1)
    )
    payload = found.scalar_one_or_none()
    return None if payload is None else str(payload["summary"])


async def write_summary(
    services: Services, staff: Staff, conversation_id: int, summary: str
) -> dict[str, Any]:
    """Her adviser writes (or rewrites) the hand-over summary; she sees it in the chat."""
    async with services.change() as tx:
        conversation = await tx.session.get(Conversation, conversation_id)
        if conversation is None or conversation.adviser_id != staff.id:
            raise ProtocolError("not_found", ref="handover_summary")
        stored = await tx.append(
            conversation_id,
            {
                "type": "summary",
                "conversation_id": conversation_id,
                "summary": summary,
                "by": staff.display_name,
                "at": now().isoformat(),
            },
            sender=staff_sender(staff.id),
        )
    return stored


async def take_return_code(
    services: Services, visitor_id: int, conversation_id: int, keep_summary: bool
) -> dict[str, Any]:
    """A return code for her ended chat with an adviser; the words are never stored."""
    words = new_code()
    async with services.change() as tx:
        session = tx.session
        conversation = await session.get(Conversation, conversation_id)
        if conversation is None or conversation.visitor_id != visitor_id:
            raise ProtocolError("not_found", ref="take_return_code")
        if conversation.status != "ended" or conversation.adviser_id is None:
            raise ProtocolError(
                "not_found",
                "a return code is for a chat with an adviser that has ended",
                ref="take_return_code",
            )
        taken = await session.scalar(
            select(ReturnCode.id).where(ReturnCode.conversation_id == conversation_id)
        )
        if taken is not None:
            raise ContinuityError("return_code_taken", ref="take_return_code")
        adviser = await session.get(Staff, conversation.adviser_id)
        written = await latest_summary(session, conversation_id)
        summary = (written or short_summary(conversation, adviser)) if keep_summary else None
        session.add(
            ReturnCode(
                code_hash=code_hash(services, " ".join(words)),
                conversation_id=conversation_id,
                adviser_id=conversation.adviser_id,
                summary=summary,
            )
        )
        tx.audit(VISITOR, "return_code.take", f"conversation:{conversation_id}")
    return {
        "type": "return_code",
        "conversation_id": conversation_id,
        "words": words,
        "summary_kept": summary is not None,
    }


async def come_back(services: Services, visitor: VisitorSession, code: str) -> Conversation:
    """She starts a chat with her code: a new conversation in the queue, with the hand-over
    for the adviser who takes her, and the offer to wait for the adviser she had.

    The offer (`returning`) is stored in her conversation in the same unit of work as the
    rest of her arrival, as `return_offer` is: a reload or a resume before she answers shows
    it again, and once she has answered (`waiting_for_adviser`, stored after it) the page
    knows the question is settled."""
    wanted = code_hash(services, code)
    async with services.change() as tx:
        session = tx.session
        found = (
            await session.execute(select(ReturnCode).where(ReturnCode.code_hash == wanted))
        ).scalar_one_or_none()
        if found is None:
            raise ContinuityError("return_code_unknown", ref="come_back")
        conversation = await conv.request_chat(services, visitor, tx=tx)
        adviser = await session.get(Staff, found.adviser_id) if found.adviser_id else None
        usable = adviser is not None and not adviser.disabled
        session.add(
            ReturnVisit(
                conversation_id=conversation.id,
                adviser_id=adviser.id if usable and adviser else None,
                wait_for_adviser=False,
            )
        )
        await tx.append(
            conversation.id,
            {
                "type": "handover",
                "conversation_id": conversation.id,
                "summary": found.summary,
                "previous_adviser": adviser.display_name if adviser else None,
                "at": now().isoformat(),
            },
            staff_only=True,
        )
        await tx.append(
            conversation.id,
            {
                "type": "returning",
                "conversation_id": conversation.id,
                "adviser_name": adviser.display_name if usable and adviser else None,
                "adviser_available": bool(usable and adviser and adviser.available),
                "at": now().isoformat(),
            },
        )
        tx.audit(VISITOR, "return_code.use", f"conversation:{conversation.id}")
    return conversation


async def wait_for_adviser(
    services: Services, visitor_id: int, conversation_id: int, wait: bool
) -> None:
    async with services.change() as tx:
        session = tx.session
        conversation = await session.get(Conversation, conversation_id)
        visit = await session.get(ReturnVisit, conversation_id)
        if (
            conversation is None
            or conversation.visitor_id != visitor_id
            or visit is None
            or visit.adviser_id is None
        ):
            raise ProtocolError("not_found", ref="wait_for_adviser")
        if conversation.status != "waiting":
            raise ProtocolError("conversation_ended", ref="wait_for_adviser")
        adviser = await session.get(Staff, visit.adviser_id)
        at = now()
        visit.wait_for_adviser = wait
        # A new choice: the time before she is asked again counts from now
        # (chat/helpline/returning.py).
        visit.chose_at = at if wait else None
        visit.offered_at = None
        await tx.append(
            conversation_id,
            {
                "type": "waiting_for_adviser",
                "conversation_id": conversation_id,
                "wait": wait,
                "adviser_name": adviser.display_name if adviser else None,
                "at": at.isoformat(),
            },
        )
        tx.after(lambda: conv.publish_queue(services, changed={conversation_id}))


async def preferred_adviser(session: AsyncSession, conversation_id: int) -> int | None:
    """The adviser she chose to wait for, if she came back with a code and chose to wait.

    The hook routing asks: a conversation with a preferred adviser goes to that adviser only.
    """
    visit = await session.get(ReturnVisit, conversation_id)
    if visit is None or not visit.wait_for_adviser:
        return None
    return visit.adviser_id


async def carry_from_room(
    tx: Change, conversation: Conversation, risk_level: str, card: dict[str, Any] | None
) -> None:
    """A mentor moved her from a room: the room's risk for her comes with her (the mentor's
    note is already the conversation's), she is told what is happening, and the helplines card
    she had in the room is hers here too. In the mentor's unit of work."""
    if RiskLevel(risk_level).rank > RiskLevel(conversation.risk_level).rank:
        conversation.risk_level = risk_level
    await tx.append(
        conversation.id,
        {
            "type": "moved_to_adviser",
            "conversation_id": conversation.id,
            "risk_level": conversation.risk_level,
            "at": now().isoformat(),
        },
    )
    if card is not None:
        kept = {k: v for k, v in card.items() if k not in ("seq", "session_id", "stream_id")}
        await tx.append(conversation.id, {**kept, "conversation_id": conversation.id})


# --- the socket -------------------------------------------------------------------------------


def _visitor(connection: Connection, ref: str) -> VisitorSession:
    if connection.visitor is None:
        raise ProtocolError("forbidden", ref=ref)
    return connection.visitor


async def _on_take(connection: Connection, event: TakeReturnCode) -> None:
    visitor = _visitor(connection, "take_return_code")
    if event.conversation_id not in connection.writable:
        raise ProtocolError("not_found", ref="take_return_code")
    answer = await take_return_code(
        connection.services, visitor.id, event.conversation_id, event.keep_summary
    )
    connection.send(answer)


async def _on_come_back(connection: Connection, event: ComeBack) -> None:
    visitor = _visitor(connection, "come_back")
    services = connection.services
    # Closed or full: no queue for her, with or without a code (her code stays good).
    await admit_or_watch(connection, ref="come_back")
    found = connection.address()
    await floods.require(
        services,
        "come_back",
        [
            (RETURN_TRIES, str(visitor.id)),
            (RETURN_TRIES_PER_ADDRESS, found.address if found is not None else None),
        ],
    )
    conversation = await come_back(services, visitor, event.code)
    opening_of(services).forget(connection)
    connection.conversation_id = conversation.id
    connection.writable = {conversation.id}
    # The stored `returning` comes with the rest of her conversation.
    await connection.join_stream(conversation.id, 0)
    position = await conv.queue_position(services, conversation.id)
    if position is not None:
        connection.send(position)


async def _on_wait(connection: Connection, event: WaitForAdviser) -> None:
    visitor = _visitor(connection, "wait_for_adviser")
    if event.conversation_id not in connection.writable:
        raise ProtocolError("not_found", ref="wait_for_adviser")
    # Her choice is stored in her conversation: her sockets hear it, and so does a reload.
    await wait_for_adviser(connection.services, visitor.id, event.conversation_id, event.wait)


async def _on_summary(connection: Connection, event: HandoverSummary) -> None:
    staff = connection.staff
    if staff is None or staff.role not in ("adviser", "supervisor"):
        raise ProtocolError("forbidden", ref="handover_summary")
    await write_summary(connection.services, staff, event.conversation_id, event.summary)


def install(routes: SocketRoutes) -> None:
    load_words()  # a missing or short word list stops the start, not her last screen
    routes.add_events(EVENTS)
    routes.add_error_codes(ERROR_CODES)
    routes.handle(TakeReturnCode, _on_take)
    routes.handle(ComeBack, _on_come_back)
    routes.handle(WaitForAdviser, _on_wait)
    routes.handle(HandoverSummary, _on_summary)
