"""Private notes on a chat: for staff only, never sent to her.

A note is a staff-only event in the conversation's stream, so it is kept with the chat,
replayed to any staff member who opens it, left out of everything she is sent or replayed,
and deleted with the transcript when retention purges it.
"""

from __future__ import annotations

from typing import Any

from chat.core.channels import staff_sender
from chat.core.clock import now
from chat.core.models import Conversation, Staff
from chat.core.protocol import ProtocolError
from chat.core.services import Services


async def add_note(
    services: Services, staff: Staff, conversation_id: int, body: str
) -> dict[str, Any]:
    """The adviser who has the chat, or a supervisor, writes a note into it."""
    async with services.change() as tx:
        conversation = await tx.session.get(Conversation, conversation_id)
        if conversation is None or (
            conversation.adviser_id != staff.id and staff.role != "supervisor"
        ):
            raise ProtocolError("not_found", ref="note")
        return await tx.append(
            conversation_id,
            {
                "type": "note",
                "conversation_id": conversation_id,
                "body": body,
                "by": staff.display_name,
                "at": now().isoformat(),
            },
            sender=staff_sender(staff.id),
            staff_only=True,
        )
