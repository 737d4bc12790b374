"""The adviser's console tools on the socket and over HTTP: private notes, warm transfer,
wrap-up, and her end-of-chat feedback (see docs/PROTOCOL.md, "Console tools"); and the
supervisor's: joining a chat, taking it over, the live board.

`install` loads the canned replies and the wrap-up codes (a bad file stops the start, naming
the file), declares the events and error codes on the app's socket routes, and adds the routes.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import FastAPI
from pydantic import Field

from chat.core.documents import DocumentKind
from chat.core.models import Staff
from chat.core.protocol import ClientEventModel, ProtocolError, RowId
from chat.core.services import Services
from chat.core.sockets import SocketRoutes
from chat.core.transport import Connection
from chat.helpline import board, canned, feedback, notes, supervise, takeover, transfer, wrapup
from chat.helpline.console_errors import CONSOLE_ERROR_CODES

NoteText = Annotated[str, Field(min_length=1, max_length=2000)]
Code = Annotated[str, Field(min_length=1, max_length=40)]
ADVISING_ROLES = ("adviser", "supervisor")


class AddNote(ClientEventModel):
    type: Literal["note"]
    conversation_id: RowId
    body: NoteText


class Transfer(ClientEventModel):
    type: Literal["transfer"]
    conversation_id: RowId
    to: Literal["adviser", "supervisor", "specialism"]
    staff_id: RowId | None = None
    specialism: Code | None = None
    note: Annotated[str, Field(max_length=2000)] = ""


class WrapUpEvent(ClientEventModel):
    type: Literal["wrap_up"]
    conversation_id: RowId
    summary: Annotated[str, Field(min_length=1, max_length=1000)]
    outcomes: list[Code] = Field(min_length=1, max_length=20)
    categories: list[Code] = Field(default_factory=list, max_length=20)


class GiveFeedback(ClientEventModel):
    type: Literal["feedback"]
    helped: feedback.Helped = "not_given"
    listened: feedback.Listened = "not_given"
    again: feedback.Again = "not_given"


EVENTS: dict[str, type[ClientEventModel]] = {
    "note": AddNote,
    "transfer": Transfer,
    "wrap_up": WrapUpEvent,
    "feedback": GiveFeedback,
}


def _staff(connection: Connection, ref: str) -> Staff:
    if connection.staff is None or connection.staff.role not in ADVISING_ROLES:
        raise ProtocolError("forbidden", ref=ref)
    return connection.staff


async def on_note(connection: Connection, event: AddNote) -> None:
    staff = _staff(connection, "note")
    await notes.add_note(connection.services, staff, event.conversation_id, event.body)


async def on_transfer(connection: Connection, event: Transfer) -> None:
    staff = _staff(connection, "transfer")
    target = await transfer.transfer(
        connection.services,
        staff,
        event.conversation_id,
        event.to,
        event.staff_id,
        event.note,
        event.specialism,
    )
    connection.send(
        {
            "type": "transfer_done",
            "conversation_id": event.conversation_id,
            "to": target.display_name,
        }
    )


async def on_wrap_up(connection: Connection, event: WrapUpEvent) -> None:
    staff = _staff(connection, "wrap_up")
    await wrapup.wrap_up(
        connection.services,
        staff,
        event.conversation_id,
        event.summary,
        list(event.outcomes),
        list(event.categories),
    )
    connection.send({"type": "wrapped_up", "conversation_id": event.conversation_id})


async def on_feedback(connection: Connection, event: GiveFeedback) -> None:
    if connection.visitor is None:
        raise ProtocolError("forbidden", ref="feedback")
    await feedback.give_feedback(
        connection.services, connection.visitor, event.helped, event.listened, event.again
    )
    connection.send({"type": "feedback_thanks"})


async def after_hello(connection: Connection, resume: dict[int, int]) -> None:
    """An adviser's ended chats still needing a wrap-up come back onto her list."""
    staff = connection.staff
    if staff is None or staff.role not in ADVISING_ROLES:
        return
    waiting = await wrapup.pending(connection.services, staff.id)
    connection.send({"type": "wrapup_pending", "conversations": waiting})
    for conversation_id in waiting:
        await connection.join_stream(conversation_id, resume.get(conversation_id, 0))


def _on_transferred(services: Services) -> object:
    async def moved(event: transfer.ChatTransferred) -> None:
        """On every node: the receiver's consoles join the whole chat, the giver's let go."""
        chat = event.conversation_id
        for connection in services.connections.of_staff(event.to_staff_id):
            connection.writable.add(chat)
            await connection.join_stream(chat, 0)
        for connection in services.connections.of_staff(event.from_staff_id):
            connection.writable.discard(chat)
            connection.send({"type": "transferred_away", "conversation_id": chat})
            await connection.leave_stream(chat)

    return moved


def install(app: FastAPI, services: Services) -> None:
    settings = services.settings
    canned.install(services)
    outcomes_file = settings.outcomes_file
    outcomes = services.documents.register(
        DocumentKind[wrapup.Outcomes](
            name="outcomes",
            default=lambda: wrapup.load_outcomes(outcomes_file),
            parse=lambda body: wrapup.outcomes_from_data(body, "outcomes"),
            body=lambda codes: codes.model_dump(mode="json"),
            summary=lambda codes: f"{len(codes.outcomes)} outcomes",
            appliers=[services.features.replace],
        )
    )
    services.features.add(outcomes)
    routes: SocketRoutes = services.sockets
    routes.add_events(EVENTS)
    routes.add_error_codes(CONSOLE_ERROR_CODES)
    routes.handle(AddNote, on_note)
    routes.handle(Transfer, on_transfer)
    routes.handle(WrapUpEvent, on_wrap_up)
    routes.handle(GiveFeedback, on_feedback)
    routes.on_hello(after_hello)
    services.events.on(transfer.ChatTransferred, _on_transferred(services))  # type: ignore[arg-type]
    supervise.install(services)
    takeover.install(services)
    board.install(services)
    app.include_router(canned.router)
    app.include_router(wrapup.router)
    app.include_router(feedback.router)
    app.include_router(transfer.router)
