"""Room sessions and who is in them: open, close, join, leave, rename.

Each function is an action: a unit of work (chat/core/uow.py) that changes the database in one
committed transaction, then publishes what changed on the room session's stream, so every
node's hub fans it out and a resume replays it from the database. Those that take `tx` join a
caller's open unit of work, so several make one commit.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from chat.core import streams
from chat.core.channels import staff_sender
from chat.core.clock import now
from chat.core.models import Event, Staff, Stream
from chat.core.services import Services
from chat.core.uow import Change
from peers.catalogue import Room
from peers.errors import RoomError
from peers.models import RoomHeldMessage, RoomParticipant, RoomPin, RoomSession
from peers.naming import is_taken, looks_like_staff
from peers.pseudonyms import PseudonymError, new_pseudonym, validate_pseudonym
from peers.runtime import ROOM, RoomsRuntime
from peers.schedule import current_session, next_session

MENTOR_ROLES = ("mentor", "supervisor")
STREAM_KIND = "room"
_NAME_ATTEMPTS = 40
# Why someone left, as mentors see it; the room itself only ever sees "left".
LEAVE_REASONS = ("left", "moved", "removed", "banned", "closed", "timeout")


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every time Willow stores is UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def iso(moment: datetime | None) -> str | None:
    moment = aware(moment)
    return moment.isoformat() if moment is not None else None


def subject(session_id: int) -> str:
    """How the audit log names a room session."""
    return f"room_session:{session_id}"


def participant_sender(participant_id: int) -> str:
    return f"participant:{participant_id}"


def session_ban_key(token_hash: str) -> str:
    """The ban key for her visitor session: a hash of the stored token hash, nothing else."""
    digest = hashlib.sha256(b"willow:room-ban:" + token_hash.encode()).hexdigest()
    return f"session:{digest}"


async def room_event(
    tx: Change,
    session_id: int,
    kind: str,
    fields: dict[str, Any],
    *,
    staff_only: bool = False,
    sender: str = "system",
    client_id: str | None = None,
) -> dict[str, Any]:
    """Store an event of the room session's stream in `tx`; published once it commits."""
    payload = {"type": kind, "stream_id": session_id, **fields}
    return await tx.append(
        session_id, payload, staff_only=staff_only, sender=sender, client_id=client_id
    )


# --- reading ----------------------------------------------------------------------------------


async def open_session_of(db: AsyncSession, room_id: str, lock: bool = False) -> RoomSession | None:
    """The room's open session; `lock` takes its row lock (PostgreSQL) until commit."""
    query = select(RoomSession).where(RoomSession.room_id == room_id, RoomSession.status == "open")
    if lock:
        query = query.with_for_update()
    return (await db.execute(query)).scalar_one_or_none()


async def present_count(db: AsyncSession, session_id: int) -> int:
    count = await db.scalar(
        select(func.count())
        .select_from(RoomParticipant)
        .where(RoomParticipant.session_id == session_id, RoomParticipant.left_at.is_(None))
    )
    return count or 0


async def present_names(db: AsyncSession, session_id: int) -> list[str]:
    rows = await db.scalars(
        select(RoomParticipant.pseudonym).where(
            RoomParticipant.session_id == session_id, RoomParticipant.left_at.is_(None)
        )
    )
    return list(rows)


async def staff_names(db: AsyncSession) -> list[str]:
    return list(await db.scalars(select(Staff.display_name).where(Staff.disabled.is_(False))))


async def pins_of(db: AsyncSession, session_id: int) -> list[dict[str, Any]]:
    """The pinned messages as the room shows them: seq, name and text."""
    rows = await db.execute(
        select(Event.seq, Event.payload)
        .join(RoomPin, (RoomPin.session_id == Event.stream_id) & (RoomPin.seq == Event.seq))
        .where(RoomPin.session_id == session_id)
        .order_by(RoomPin.id)
    )
    return [
        {"message_seq": seq, "name": payload.get("name"), "body": payload.get("body", "")}
        for seq, payload in rows
    ]


def abandoned(room_session: RoomSession, grace_seconds: float, at: datetime) -> bool:
    """Open, but no mentor has been there for longer than the grace period."""
    left = aware(room_session.mentor_left_at)
    return (
        room_session.status == "open"
        and room_session.mentors_present <= 0
        and left is not None
        and at - left >= timedelta(seconds=grace_seconds)
    )


def opening_times(runtime: RoomsRuntime, room_id: str, at: datetime) -> dict[str, str | None]:
    """When the room is published as open now, and when its next session starts."""
    running = current_session(runtime.schedule, room_id, at)
    upcoming = next_session(runtime.schedule, room_id, at)
    return {
        "scheduled_until": iso(running.ends_at) if running else None,
        "opens_at": iso(running.starts_at if running else upcoming.starts_at if upcoming else None),
        "next_ends_at": iso(running.ends_at if running else upcoming.ends_at if upcoming else None),
    }


def room_of(runtime: RoomsRuntime, room_id: str) -> Room:
    room = runtime.catalogue.get(room_id)
    if room is None:
        raise RoomError("not_found", "there is no room with that id")
    return room


def closed_error(runtime: RoomsRuntime, room_id: str, ref: str) -> RoomError:
    times = opening_times(runtime, room_id, now())
    return RoomError("room_closed", ref=ref, room=room_id, opens_at=times["opens_at"])


# --- mentors open and close -------------------------------------------------------------------


@dataclass
class Opened:
    session: RoomSession
    created: bool


async def open_room(runtime: RoomsRuntime, staff_id: int, room_id: str) -> Opened:
    """A trained mentor opens the room, or joins its open session as another mentor."""
    room_of(runtime, room_id)
    services = runtime.services
    async with services.db.read() as db:
        staff = await db.get(Staff, staff_id)
    if staff is None or staff.disabled or staff.role not in MENTOR_ROLES:
        raise RoomError("forbidden", "only mentors and supervisors open rooms", ref="room_open")
    if staff.trained_at is None:
        raise RoomError(
            "forbidden",
            "your training must be recorded by an admin before you can open a room",
            ref="room_open",
        )
    for _attempt in range(3):
        try:
            return await _open_or_join(services, staff, room_id)
        except IntegrityError:
            # Another mentor opened it on another node at the same moment: join hers.
            continue
    raise RoomError("internal", "the room could not be opened; try again", ref="room_open")


async def purge_closed_sessions(services: Services, at: datetime | None = None) -> int:
    """Delete room sessions closed longer ago than the transcript retention period, with
    their messages, participants, held messages, pins and reports; returns how many."""
    cutoff = (at or now()) - timedelta(days=services.settings.transcript_retention_days)
    async with services.db.write() as db:
        expired = list(
            await db.scalars(
                select(RoomSession.id).where(
                    RoomSession.status == "closed", RoomSession.closed_at < cutoff
                )
            )
        )
        if expired:
            # Everything of a session hangs off its stream and goes with it.
            await db.execute(delete(Stream).where(Stream.id.in_(expired)))
    return len(expired)


async def _open_or_join(services: Services, staff: Staff, room_id: str) -> Opened:
    actor = staff_sender(staff.id)
    async with services.change() as tx:
        db = tx.session
        existing = await open_session_of(db, room_id, lock=not services.db.is_sqlite)
        if existing is not None:
            existing.mentors_present += 1
            existing.mentor_left_at = None
            tx.audit(actor, "room.mentor_join", subject(existing.id))
            return Opened(existing, created=False)
        stream = await streams.new_stream(db, STREAM_KIND)
        room_session = RoomSession(
            id=stream.id,
            room_id=room_id,
            status="open",
            opened_by=staff.id,
            opened_at=now(),
            locked=False,
            slow_mode_seconds=0,
            mentors_present=1,
        )
        db.add(room_session)
        await db.flush()
        await room_event(tx, stream.id, "room_opened", {"room": room_id, "at": iso(now())})
        tx.audit(actor, "room.open", subject(stream.id), details={"room": room_id})
        tx.after(lambda: services.tally.note("room_session", room=room_id))
    return Opened(room_session, created=True)


async def mentors_changed(runtime: RoomsRuntime, session_id: int) -> None:
    """A mentor socket came or went (presence): recount; with none left, the room closes
    unless a mentor is back within the grace."""
    if await count_mentors(runtime, session_id) != 0:
        return
    # The presence sweep closes it too (peers/presence.py), even if this node dies meanwhile.
    runtime.later(
        runtime.tuning.mentor_grace_seconds, lambda: close_if_abandoned(runtime, session_id)
    )


async def count_mentors(runtime: RoomsRuntime, session_id: int) -> int | None:
    """The room's mentors are the mentor sockets live nodes hold in it (presence), so a mentor
    who reconnects after her node died counts once. None when the room is not open."""
    async with runtime.services.change() as tx:
        room_session = await tx.session.get(RoomSession, session_id)
        if room_session is None or room_session.status != "open":
            return None
        present = await runtime.services.presence.sockets(tx.session, ROOM, session_id)
        if present != room_session.mentors_present:
            room_session.mentors_present = present
        if present == 0:
            room_session.mentor_left_at = room_session.mentor_left_at or now()
        else:
            room_session.mentor_left_at = None
        return present


async def close_if_abandoned(runtime: RoomsRuntime, session_id: int) -> bool:
    async with runtime.services.db.read() as db:
        room_session = await db.get(RoomSession, session_id)
    if room_session is None or not abandoned(
        room_session, runtime.tuning.mentor_grace_seconds, now()
    ):
        return False
    await close_room(runtime, session_id, "system", "no mentor in the room")
    return True


async def expire_abandoned(runtime: RoomsRuntime) -> int:
    """What the grace timers do, for timers lost with the node that held them: close rooms no
    mentor came back to, and let out women whose connection dropped longer ago than the
    grace. Both are no-ops for what a live timer has already done. Returns how many."""
    at = now()
    grace = timedelta(seconds=runtime.tuning.participant_grace_seconds)
    async with runtime.services.db.read() as db:
        empty = list(
            await db.scalars(
                select(RoomSession.id).where(
                    RoomSession.status == "open",
                    RoomSession.mentors_present <= 0,
                    RoomSession.mentor_left_at.is_not(None),
                )
            )
        )
        dropped = (
            await db.execute(
                select(RoomParticipant.id, RoomParticipant.attach_id).where(
                    RoomParticipant.left_at.is_(None),
                    RoomParticipant.disconnected_at < at - grace,
                )
            )
        ).all()
    done = [await close_if_abandoned(runtime, session_id) for session_id in empty]
    for participant_id, attach_id in dropped:
        left = await leave_room(runtime, participant_id, "timeout", attach_id=attach_id)
        done.append(left is not None)
    return sum(done)


async def close_room(runtime: RoomsRuntime, session_id: int, by: str, reason: str = "") -> bool:
    """Close the session: everyone leaves, held messages are dropped, news goes to all."""
    at = now()
    async with runtime.services.change() as tx:
        db = tx.session
        room_session = await db.get(RoomSession, session_id)
        if room_session is None or room_session.status != "open":
            return False
        room_session.status = "closed"
        room_session.closed_at = at
        room_session.closed_by = by
        room_session.mentors_present = 0
        await db.execute(
            update(RoomParticipant)
            .where(RoomParticipant.session_id == session_id, RoomParticipant.left_at.is_(None))
            .values(left_at=at)
        )
        await db.execute(
            update(RoomHeldMessage)
            .where(RoomHeldMessage.session_id == session_id, RoomHeldMessage.status == "held")
            .values(status="discarded", body="", decided_at=at, decided_by=by)
        )
        await room_event(
            tx,
            session_id,
            "room_closed",
            {
                "room": room_session.room_id,
                "by": "system" if by == "system" else "mentor",
                "at": iso(at),
            },
        )
        tx.audit(by, "room.close", subject(session_id), reason)
        runtime.tell_after(tx, {"op": "close", "session": session_id})
    return True


# --- participants join, leave, rename ---------------------------------------------------------


@dataclass
class Joined:
    session: RoomSession
    participant: RoomParticipant
    present: int
    pins: list[dict[str, Any]]
    # Whether she was already in the room (a reconnection): nobody is told she joined.
    returning: bool


async def join_room(
    runtime: RoomsRuntime,
    visitor_id: int,
    room_id: str,
    attach_id: str,
    address: str | None = None,
    leaving: int | None = None,
) -> Joined:
    """She takes a place in the room's open session (or takes hers back after a drop).

    `address`, when known, bounds the seats taken from one network (peers/network_seats.py).
    `leaving`: her seat in another room, given up in the same commit, so a join that fails
    leaves her where she was.
    """
    room = room_of(runtime, room_id)
    services = runtime.services
    async with services.change() as tx:
        db = tx.session
        if leaving is not None:
            await leave_room(runtime, leaving, "left", tx=tx)
        room_session = await open_session_of(db, room_id, lock=not services.db.is_sqlite)
        if room_session is None:
            raise closed_error(runtime, room_id, "room_join")
        if abandoned(room_session, runtime.tuning.mentor_grace_seconds, now()):
            runtime.spawn(close_if_abandoned(runtime, room_session.id))
            raise closed_error(runtime, room_id, "room_join")
        participant = await db.scalar(
            select(RoomParticipant).where(
                RoomParticipant.session_id == room_session.id,
                RoomParticipant.visitor_id == visitor_id,
            )
        )
        returning = participant is not None and participant.left_at is None
        from_here: tuple[str, set[int]] | None = None
        if participant is not None and participant.removed:
            raise RoomError("removed", ref="room_join")
        if not returning:
            await _check_room_has_space(db, room_session, room.capacity)
            from_here = await _seats_from_network(runtime, db, room_session.id, address)
            participant = await _seat(tx, room_session.id, visitor_id, participant)
            tx.after(lambda: services.tally.note("room_attendance", room=room_id))
        assert participant is not None
        participant.attach_id = attach_id
        participant.disconnected_at = None
        await db.flush()
        if not returning and from_here is not None:
            name, here = from_here
            await runtime.network_seats.hold(name, here | {participant.id})
        present = await present_count(db, room_session.id)
        pins = await pins_of(db, room_session.id)
    return Joined(room_session, participant, present, pins, returning)


async def _seats_from_network(
    runtime: RoomsRuntime, db: AsyncSession, session_id: int, address: str | None
) -> tuple[str, set[int]] | None:
    """Who is present from her network; `room_full` if they hold as many seats as one
    network may. None when it is not counted (no address, or the limit is off)."""
    limit = runtime.services.settings.room_seats_per_address
    if address is None or limit <= 0:
        return None
    name = runtime.network_seats.name(session_id, address)
    members = await runtime.network_seats.members(name)
    present: set[int] = set()
    if members:
        present = set(
            await db.scalars(
                select(RoomParticipant.id).where(
                    RoomParticipant.id.in_(members),
                    RoomParticipant.session_id == session_id,
                    RoomParticipant.left_at.is_(None),
                )
            )
        )
    if len(present) >= limit:
        raise RoomError(
            "room_full", "this room has no more places for your network", ref="room_join"
        )
    return name, present


async def _check_room_has_space(db: AsyncSession, room_session: RoomSession, capacity: int) -> None:
    if room_session.locked:
        raise RoomError("room_locked", ref="room_join")
    if await present_count(db, room_session.id) >= capacity:
        raise RoomError("room_full", ref="room_join")


async def _seat(
    tx: Change, session_id: int, visitor_id: int, previous: RoomParticipant | None
) -> RoomParticipant:
    db = tx.session
    in_use = await present_names(db, session_id)
    staff = await staff_names(db)
    if previous is not None and not is_taken(previous.pseudonym, in_use):
        participant = previous
    else:
        name = _fresh_name(in_use, staff)
        if previous is None:
            participant = RoomParticipant(
                session_id=session_id, visitor_id=visitor_id, pseudonym=name
            )
            db.add(participant)
        else:
            participant = previous
            participant.pseudonym = name
    participant.left_at = None
    participant.joined_at = now()
    await db.flush()
    joined = await room_event(
        tx,
        session_id,
        "room_joined",
        {"participant": participant.id, "name": participant.pseudonym, "at": iso(now())},
    )
    participant.first_seq = int(joined["seq"])
    return participant


def _fresh_name(in_use: list[str], staff: list[str]) -> str:
    for _attempt in range(_NAME_ATTEMPTS):
        name = new_pseudonym()
        if not is_taken(name, in_use) and not looks_like_staff(name, staff):
            return name
    # Thousands of names exist; this only happens with a huge room and a tiny word list.
    return f"{new_pseudonym()} {secrets.randbelow(900) + 100}"


async def leave_room(
    runtime: RoomsRuntime,
    participant_id: int,
    reason: str,
    attach_id: str | None = None,
    tx: Change | None = None,
) -> RoomParticipant | None:
    """She is out of the room. The room sees "<name> left" whatever the reason; the mentors
    see the reason. With `attach_id`, only if that connection still holds her place."""
    async with runtime.services.change(tx) as tx:
        participant = await tx.session.get(RoomParticipant, participant_id)
        if participant is None or participant.left_at is not None:
            return None
        if attach_id is not None and participant.attach_id != attach_id:
            return None
        participant.left_at = now()
        if reason in ("removed", "banned"):
            participant.removed = True
        who = {"participant": participant.id, "name": participant.pseudonym}
        await room_event(tx, participant.session_id, "room_left", {**who, "at": iso(now())})
        await room_event(
            tx,
            participant.session_id,
            "room_participant",
            {**who, "status": reason},
            staff_only=True,
        )
    return participant


async def connection_dropped(runtime: RoomsRuntime, participant_id: int, attach_id: str) -> None:
    """Her connection closed: keep her place for the grace period, then she has left."""
    async with runtime.services.change() as tx:
        result = await tx.session.execute(
            update(RoomParticipant)
            .where(
                RoomParticipant.id == participant_id,
                RoomParticipant.attach_id == attach_id,
                RoomParticipant.left_at.is_(None),
            )
            .values(disconnected_at=now())
        )
        if getattr(result, "rowcount", 0):
            tx.after(
                lambda: runtime.later(
                    runtime.tuning.participant_grace_seconds,
                    lambda: _leave_if_still_gone(runtime, participant_id, attach_id),
                )
            )


async def _leave_if_still_gone(runtime: RoomsRuntime, participant_id: int, attach_id: str) -> None:
    async with runtime.services.db.read() as db:
        participant = await db.get(RoomParticipant, participant_id)
    if participant is None or participant.disconnected_at is None:
        return
    await leave_room(runtime, participant_id, "timeout", attach_id=attach_id)


async def rename(runtime: RoomsRuntime, participant_id: int, wanted: str) -> RoomParticipant:
    """She picks her own name for this session; refused with a reason code if unsuitable."""
    try:
        name = validate_pseudonym(wanted)
    except PseudonymError as exc:
        raise RoomError("name_refused", ref="room_rename", reason=exc.reason.value) from None
    async with runtime.services.change() as tx:
        db = tx.session
        participant = await db.get(RoomParticipant, participant_id)
        if participant is None or participant.left_at is not None:
            raise RoomError("not_in_room", ref="room_rename")
        if looks_like_staff(name, await staff_names(db)):
            raise RoomError("name_refused", ref="room_rename", reason="staff_name")
        others = [
            n for n in await present_names(db, participant.session_id) if n != participant.pseudonym
        ]
        if is_taken(name, others):
            raise RoomError("name_refused", ref="room_rename", reason="taken")
        old, participant.pseudonym = participant.pseudonym, name
        await room_event(
            tx,
            participant.session_id,
            "room_renamed",
            {"participant": participant.id, "old": old, "name": name},
        )
    return participant


def mentor_actor(staff_id: int) -> str:
    return staff_sender(staff_id)
