"""A 1:1 conversation as the message pipeline sees it (chat/core/pipeline.py)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from chat.core import streams
from chat.core.appender import Appended
from chat.core.channels import VISITOR, staff_sender
from chat.core.models import Conversation
from chat.core.pipeline import Place, Sending
from chat.core.transport import Connection
from chat.helpline import board
from chat.helpline import conversations as conv
from moderation.types import RiskLevel, Verdict
from moderation.wording import check_wording


class ConversationPlace(Place):
    """She (or her adviser) writes in a conversation this connection may write in."""

    kind = "conversation"
    stream_key = "conversation_id"

    def __init__(self, connection: Connection, conversation_id: int) -> None:
        self.connection = connection
        self.services = connection.services
        self.stream_id = conversation_id
        self.sending = connection.state(Sending)
        self.visitor = connection.visitor
        if connection.visitor is not None:
            self.sender, self.role = VISITOR, "visitor"
            self.language = connection.visitor.language
        else:
            assert connection.staff is not None
            self.sender, self.role = staff_sender(connection.staff.id), "adviser"
            self.language = None
        # Staff are known and trusted with their pace: only the length limit applies.
        self.limited = connection.visitor is not None
        self._waiting = False

    def ack(self, client_id: str, seq: int, duplicate: bool) -> dict[str, Any]:
        return {
            "type": "ack",
            "conversation_id": self.stream_id,
            "client_id": client_id,
            "seq": seq,
            "duplicate": duplicate,
        }

    def ack_extra(self, verdict: Verdict) -> dict[str, Any]:
        if self.connection.staff is None:
            return {}
        suggestions = check_wording(verdict.body)
        return {"wording": [asdict(s) for s in suggestions]} if suggestions else {}

    async def answered_before(self, client_id: str) -> dict[str, Any] | None:
        async with self.services.db.read() as session:
            stored = await streams.find_by_client_id(
                session, self.stream_id, self.sender, client_id
            )
        return None if stored is None else self.ack(client_id, int(stored["seq"]), True)

    async def append(self, client_id: str, body: str) -> Appended:
        extra: dict[str, Any] = {}
        if self.connection.staff is not None:
            extra["sender_name"] = self.connection.staff.display_name
        label = "visitor" if self.sender == VISITOR else "adviser"
        return await conv.send_message(
            self.services, self.stream_id, self.sender, label, client_id, body, extra
        )

    async def raise_risk(self, session: AsyncSession, level: RiskLevel) -> RiskLevel | None:
        """A flagged chat moves up the queue; her shown level rises with the danger."""
        conversation = await session.get(Conversation, self.stream_id)
        if conversation is None:
            return None
        shown = RiskLevel(conversation.risk_level)
        if level is not RiskLevel.NONE:
            conversation.priority = max(conversation.priority, level.rank)
            if level.rank > shown.rank:
                conversation.risk_level = level.value
            self._waiting = conversation.status == "waiting"
        return shown

    def flag(self, concern: dict[str, Any]) -> dict[str, Any]:
        fields = {k: v for k, v in concern.items() if k != "held_id"}
        return {"type": "flag", "conversation_id": self.stream_id, **fields}

    def alert(self, concern: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "alert",
            "kind": "risk",
            "conversation_id": self.stream_id,
            "at": concern["at"],
            "level": concern["level"],
            "categories": concern["categories"],
            "phrases": concern["phrases"],
        }

    async def risk_noted(self) -> None:
        board.note(self.services, chats={self.stream_id})
        if self._waiting:
            await conv.publish_queue(self.services, changed={self.stream_id})
