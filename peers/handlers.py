"""A participant's room events on the websocket: join, talk, rename, flag, report, leave.

Registered with chat.core.transport at start (`register`); the mentor's events are in
peers/mentor_handlers.py, news between nodes in peers/control.py.
"""

from __future__ import annotations

import math
import secrets
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from chat.core import floods
from chat.core.clock import now
from chat.core.connections import CLOSE_SESSION_ENDED
from chat.core.models import VisitorSession
from chat.core.sockets import SocketRoutes
from chat.core.uow import Change
from moderation.alerts import helplines_event
from moderation.limits import SenderHistory, record
from moderation.pii import redact
from moderation.pipeline import REASON_PERSONAL_DETAILS, MessageContext, check
from moderation.safeguarding.measures import count_flags
from moderation.types import Action, RiskLevel, Verdict
from peers import controls, mentor_handlers, messages, rooms
from peers.control import handle_control
from peers.errors import RoomError
from peers.events import (
    RoomJoin,
    RoomKnowSomeone,
    RoomLeave,
    RoomMessage,
    RoomRename,
    RoomReport,
    RoomToAdviser,
)
from peers.rooms import aware, iso, participant_sender, session_ban_key
from peers.runtime import RoomsRuntime, Seat
from peers.seats import (
    exit_event,
    follow_conversation,
    leave_mentor_seat,
    leave_seat,
    room_state,
    runtime_of,
    seat_of,
    take_seat,
)

if TYPE_CHECKING:
    from chat.core.transport import Connection


def _visitor(connection: Connection, ref: str) -> VisitorSession:
    if connection.visitor is None:
        raise RoomError("forbidden", "rooms are joined from the visitor page", ref=ref)
    return connection.visitor


async def _address_hashes(connection: Connection, runtime: RoomsRuntime) -> tuple[str, ...]:
    """Keyed hashes of her address, made now; the address itself goes no further.

    Only when the deployment opted in, and only an address a trusted proxy forwarded: a
    proxy's own address, or one anyone could be behind, would ban everyone with her.
    """
    if runtime.services.settings.room_ban_network_seconds <= 0:
        return ()
    address = connection.address()
    if address is None or not address.forwarded:
        return ()
    return await runtime.hasher.hashes(address.address)


async def join(connection: Connection, event: RoomJoin) -> None:
    visitor = _visitor(connection, "room_join")
    if not event.accept_rules:
        raise RoomError("rules_not_accepted", ref="room_join")
    address = connection.address()
    per_address = connection.services.settings.joins_per_address_per_hour
    await floods.require(
        connection.services,
        "room_join",
        [
            (floods.ROOM_JOINS, str(visitor.id)),
            (
                floods.per_address("room-join-address", per_address),
                address.address if address is not None else None,
            ),
        ],
    )
    runtime = runtime_of(connection)
    await runtime.listen()
    room = rooms.room_of(runtime, event.room)
    current = room_state(connection).seat
    if current is not None and current.room_id != room.id:
        await _leave(connection, current, "left")
    hashes = await _address_hashes(connection, runtime)
    if await runtime.bans.is_banned(room.id, [session_ban_key(visitor.token_hash), *hashes]):
        raise RoomError("banned", ref="room_join")
    attach_id = secrets.token_hex(8)
    joined = await rooms.join_room(runtime, visitor.id, room.id, attach_id)
    participant, room_session = joined.participant, joined.session
    seat = Seat(room_session.id, room.id, participant.id, attach_id, participant.pseudonym, hashes)
    await take_seat(connection, seat)
    if joined.returning:
        # An older connection of hers (another tab, a dead phone socket) gives up the place.
        await runtime.tell(
            {
                "op": "detach",
                "participant": participant.id,
                "keep": attach_id,
                "event": exit_event(room.id, "replaced"),
            }
        )
    connection.send(
        {
            "type": "room_welcome",
            "room": room.id,
            "room_name": room.name,
            "direction": room.direction,
            "languages": list(room.languages),
            "rules": list(room.ground_rules),
            "stream_id": room_session.id,
            "participant": participant.id,
            "pseudonym": participant.pseudonym,
            "first_seq": participant.first_seq,
            "locked": room_session.locked,
            "slow_mode_seconds": room_session.slow_mode_seconds,
            "muted_until": iso(controls.muted_until(participant, now())),
            "present": joined.present,
            "pins": joined.pins,
            "returning": joined.returning,
        }
    )
    # She reads from her arrival on, never what the room said before she came.
    await connection.join_stream(room_session.id, max(event.last_seq, participant.first_seq - 1))


async def _leave(connection: Connection, seat: Seat, reason: str) -> None:
    runtime = runtime_of(connection)
    await rooms.leave_room(runtime, seat.participant_id, reason)
    await leave_seat(connection)
    runtime.histories.pop(seat.participant_id, None)
    connection.send(exit_event(seat.room_id, reason))


async def leave(connection: Connection, _event: RoomLeave) -> None:
    await _leave(connection, seat_of(connection, "room_leave"), "left")


async def message(connection: Connection, event: RoomMessage) -> None:
    if connection.staff is not None:
        await mentor_handlers.message(connection, event)
        return
    seat = seat_of(connection, "room_message")
    runtime = runtime_of(connection)
    sender = participant_sender(seat.participant_id)
    previous = await messages.stored_message(runtime, seat.session_id, sender, event.client_id)
    if previous is not None:
        _ack(connection, seat, event.client_id, int(previous["seq"]), duplicate=True)
        return
    standing = await messages.standing(runtime, seat.participant_id, "room_message")
    held = await messages.held_message(runtime, seat.participant_id, event.client_id)
    if held is not None:
        connection.send(_held_event(event.client_id, held.reason, ()))
        return
    verdict = await _moderate(connection, runtime, seat, standing, event)
    count_flags(runtime.services, verdict)
    await _deliver(connection, runtime, seat, standing, event, verdict)


async def _moderate(
    connection: Connection,
    runtime: RoomsRuntime,
    seat: Seat,
    standing: messages.Standing,
    event: RoomMessage,
) -> Verdict:
    room = runtime.catalogue[seat.room_id]
    async with runtime.services.db.read() as db:
        names = await rooms.present_names(db, seat.session_id)
    context = MessageContext(
        place="room",
        sender_role="participant",
        language=room.languages[0],
        now=time.monotonic(),
        history=runtime.histories.get(seat.participant_id, SenderHistory()),
        known_names=frozenset(names),
        rules=runtime.rules,
    )
    verdict = check(event.body, context)
    if (
        event.without_details
        and verdict.action is Action.HOLD
        and verdict.reason == REASON_PERSONAL_DETAILS
    ):
        # She chose to send it without the details: take them out, then look again.
        verdict = check(redact(verdict.body, verdict.pii), replace(context, pii_confirmed=True))
    return verdict


def _refusal(standing: messages.Standing, event: RoomMessage, verdict: Verdict) -> RoomError | None:
    """Why this message cannot go out now, if it cannot."""
    if verdict.action is Action.REFUSE:
        return RoomError(
            "refused", ref="room_message", reason=verdict.reason, client_id=event.client_id
        )
    at = now()
    until = controls.muted_until(standing.participant, at)
    if until is not None:
        return RoomError("muted", ref="room_message", until=iso(until), client_id=event.client_id)
    slow = standing.session.slow_mode_seconds
    last = aware(standing.participant.last_message_at)
    # Slow mode never stops a woman in danger from being heard.
    if slow > 0 and last is not None and verdict.risk.level.rank < RiskLevel.HIGH.rank:
        wait = slow - (at - last).total_seconds()
        if wait > 0:
            return RoomError(
                "slow_mode",
                ref="room_message",
                retry_after=math.ceil(wait),
                client_id=event.client_id,
            )
    return None


async def _deliver(
    connection: Connection,
    runtime: RoomsRuntime,
    seat: Seat,
    standing: messages.Standing,
    event: RoomMessage,
    verdict: Verdict,
) -> None:
    refusal = _refusal(standing, event, verdict)
    if refusal is not None:
        await _after_risk(connection, runtime, seat, standing, verdict, None, None)
        raise refusal
    if verdict.action is Action.HOLD and verdict.reason == REASON_PERSONAL_DETAILS:
        kinds = sorted({finding.kind.value for finding in verdict.pii})
        connection.send(_held_event(event.client_id, REASON_PERSONAL_DETAILS, kinds))
        await _after_risk(connection, runtime, seat, standing, verdict, None, None)
        return
    history = runtime.histories.get(seat.participant_id, SenderHistory())
    runtime.histories[seat.participant_id] = record(history, verdict.body, time.monotonic())
    if verdict.action is Action.HOLD:
        # Held, and the mentors alerted if it shows danger: one commit.
        async with runtime.services.change() as tx:
            held = await messages.hold(runtime, standing, event.client_id, verdict, tx)
            tx.after(lambda: connection.send(_held_event(event.client_id, held.reason, ())))
            await _after_risk(connection, runtime, seat, standing, verdict, None, held.id, tx)
        return
    posted = await messages.post(
        runtime,
        seat.session_id,
        sender=participant_sender(seat.participant_id),
        client_id=event.client_id,
        body=verdict.body,
        participant_id=seat.participant_id,
        name=standing.participant.pseudonym,
        role="participant",
    )
    seq = int(posted.payload["seq"])
    _ack(connection, seat, event.client_id, seq, posted.duplicate)
    if not posted.duplicate:
        await _after_risk(connection, runtime, seat, standing, verdict, seq, None)


def _held_event(
    client_id: str, reason: str, kinds: tuple[str, ...] | list[str]
) -> dict[str, object]:
    return {"type": "held", "client_id": client_id, "reason": reason, "kinds": list(kinds)}


def _ack(connection: Connection, seat: Seat, client_id: str, seq: int, duplicate: bool) -> None:
    connection.send(
        {
            "type": "ack",
            "stream_id": seat.session_id,
            "client_id": client_id,
            "seq": seq,
            "duplicate": duplicate,
        }
    )


async def _after_risk(
    connection: Connection,
    runtime: RoomsRuntime,
    seat: Seat,
    standing: messages.Standing,
    verdict: Verdict,
    message_seq: int | None,
    held_id: int | None,
    tx: Change | None = None,
) -> None:
    """Danger in what she wrote, sent or not: mentors and supervisors are told, she is
    shown the helplines for it. A mention that is not current danger alerts no one."""
    if not verdict.risk.alert:
        return
    visitor = connection.visitor
    room = runtime.catalogue[seat.room_id]
    language = (visitor.language if visitor else None) or room.languages[0]
    nation = visitor.nation if visitor else None
    card = helplines_event(runtime.directory, verdict.risk, nation, language)
    async with runtime.services.change(tx) as tx:
        await messages.alert(runtime, standing, verdict, message_seq, held_id, tx)
        tx.after(lambda: connection.send(card))


async def rename(connection: Connection, event: RoomRename) -> None:
    seat = seat_of(connection, "room_rename")
    participant = await rooms.rename(runtime_of(connection), seat.participant_id, event.pseudonym)
    seat.pseudonym = participant.pseudonym


async def know_someone(connection: Connection, _event: RoomKnowSomeone) -> None:
    seat = seat_of(connection, "room_know_someone")
    await controls.knows_someone(runtime_of(connection), seat.session_id, seat.participant_id)
    connection.send({"type": "room_know_someone_ok", "room": seat.room_id})


async def report(connection: Connection, event: RoomReport) -> None:
    seat = seat_of(connection, "room_report")
    await controls.report(
        runtime_of(connection),
        seat.room_id,
        seat.session_id,
        participant_sender(seat.participant_id),
        event.seq,
        event.reason,
    )
    connection.send({"type": "room_reported", "room": seat.room_id, "message_seq": event.seq})


async def to_adviser(connection: Connection, _event: RoomToAdviser) -> None:
    seat = seat_of(connection, "room_to_adviser")
    runtime = runtime_of(connection)
    room = runtime.catalogue[seat.room_id]
    conversation = await controls.to_adviser(
        runtime,
        participant_sender(seat.participant_id),
        seat.session_id,
        seat.participant_id,
        f"Came from the room “{room.name}” and asked to talk one to one.",
        urgent=False,
    )
    await leave_seat(connection)
    connection.send(exit_event(seat.room_id, "moved", conversation_id=conversation.id))
    await follow_conversation(connection, conversation.id)


async def connection_closed(connection: Connection) -> None:
    """Her connection is gone: keep her place a moment, unless her session ended (then the
    place goes now); a mentor's room closes if no mentor comes back in time."""
    runtime = connection.services.features.find(RoomsRuntime)
    if runtime is None:
        return
    seat = await leave_seat(connection)
    if seat is not None:
        runtime.histories.pop(seat.participant_id, None)
        if connection.closing is not None and connection.closing[0] == CLOSE_SESSION_ENDED:
            await rooms.leave_room(runtime, seat.participant_id, "left", attach_id=seat.attach_id)
        else:
            # A quick exit that lands after the drop is heard as VisitorLeft (peers/lifecycle.py).
            await rooms.connection_dropped(runtime, seat.participant_id, seat.attach_id)
    mentor_seat = leave_mentor_seat(connection)
    if mentor_seat is not None:
        await rooms.mentor_gone(runtime, mentor_seat.session_id)


def register(routes: SocketRoutes) -> None:
    """Hand the room events to the app's socket routes."""
    routes.handle(RoomJoin, join)
    routes.handle(RoomLeave, leave)
    routes.handle(RoomMessage, message)
    routes.handle(RoomRename, rename)
    routes.handle(RoomKnowSomeone, know_someone)
    routes.handle(RoomReport, report)
    routes.handle(RoomToAdviser, to_adviser)
    mentor_handlers.register(routes)
    routes.on_close(connection_closed)


__all__ = ["handle_control", "register"]
