"""Append events to a stream with the next `seq`, and read them back for a resume."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from chat.core.db import Database
from chat.core.models import Event, Stream

REPLAY_BATCH = 500
# Who may read an event: everyone in the stream, staff only, or the one person its `sender`
# column names (her own helplines card in a room: nobody else in the room sees it).
EVERYONE = "all"
STAFF = "staff"
ONE = "one"


def audience(staff_only: bool, to: str | None) -> str:
    if to is not None:
        return ONE
    return STAFF if staff_only else EVERYONE


class StreamClosed(Exception):
    """The stream is gone, or the condition the caller set for appending no longer holds."""


async def new_stream(session: AsyncSession, kind: str) -> Stream:
    stream = Stream(kind=kind, last_seq=0)
    session.add(stream)
    await session.flush()
    return stream


async def append(
    session: AsyncSession,
    stream_id: int,
    payload: dict[str, Any],
    sender: str = "system",
    client_id: str | None = None,
    staff_only: bool = False,
    to: str | None = None,
) -> dict[str, Any]:
    """Store one event with the stream's next seq (set into `payload`) in the open transaction.

    `to` addresses it to one reader alone (stored with her as its `sender`).
    """
    # The UPDATE takes the stream's row lock on PostgreSQL, so seqs are handed out one at a time.
    result = await session.execute(
        update(Stream)
        .where(Stream.id == stream_id)
        .values(last_seq=Stream.last_seq + 1)
        .returning(Stream.last_seq)
    )
    seq = result.scalar_one_or_none()
    if seq is None:
        raise StreamClosed(stream_id)
    payload["seq"] = seq
    session.add(
        Event(
            stream_id=stream_id,
            seq=seq,
            type=str(payload["type"]),
            sender=to if to is not None else sender,
            client_id=client_id,
            audience=audience(staff_only, to),
            payload=payload,
        )
    )
    await session.flush()
    return payload


async def append_many(
    session: AsyncSession,
    stream_id: int,
    entries: list[tuple[dict[str, Any], bool]],
    sender: str = "system",
) -> list[dict[str, Any]]:
    """Store several events one after another in the open transaction, each (payload, staff
    only) with the stream's next seq: one UPDATE hands out all the seqs and one flush writes
    the events, where `append` for each would take two round trips apiece."""
    result = await session.execute(
        update(Stream)
        .where(Stream.id == stream_id)
        .values(last_seq=Stream.last_seq + len(entries))
        .returning(Stream.last_seq)
    )
    last = result.scalar_one_or_none()
    if last is None:
        raise StreamClosed(stream_id)
    rows = []
    for seq, (payload, staff_only) in enumerate(entries, start=last - len(entries) + 1):
        payload["seq"] = seq
        rows.append(
            {
                "stream_id": stream_id,
                "seq": seq,
                "type": str(payload["type"]),
                "sender": sender,
                "client_id": None,
                "audience": audience(staff_only, None),
                "payload": payload,
            }
        )
    # One executemany: the events are not needed as objects in the session.
    await session.execute(insert(Event), rows)
    return [payload for payload, _ in entries]


async def find_by_client_id(
    session: AsyncSession, stream_id: int, sender: str, client_id: str
) -> dict[str, Any] | None:
    row = await session.execute(
        select(Event.payload).where(
            Event.stream_id == stream_id, Event.sender == sender, Event.client_id == client_id
        )
    )
    return row.scalar_one_or_none()


async def fetch_after(
    db: Database,
    stream_id: int,
    after_seq: int,
    staff: bool = False,
    identities: frozenset[str] = frozenset(),
) -> list[tuple[int, str]]:
    """Every stored event after `after_seq` this reader may see, in order, encoded for the wire.

    Staff-only events are left out for visitors, and events addressed to one person for
    everyone else (`identities` say who this reader is), so seqs may jump; that is expected.
    """
    mine = (Event.audience == ONE) & Event.sender.in_(identities) if identities else None
    out: list[tuple[int, str]] = []
    async with db.read() as session:
        while True:
            query = select(Event.seq, Event.payload).where(
                Event.stream_id == stream_id, Event.seq > after_seq
            )
            if not staff:
                visible = Event.audience == EVERYONE
                query = query.where(visible | mine if mine is not None else visible)
            elif mine is not None:
                query = query.where((Event.audience != ONE) | mine)
            else:
                query = query.where(Event.audience != ONE)
            rows = (await session.execute(query.order_by(Event.seq).limit(REPLAY_BATCH))).all()
            out.extend((seq, orjson.dumps(payload).decode()) for seq, payload in rows)
            if len(rows) < REPLAY_BATCH:
                return out
            after_seq = rows[-1][0]


__all__ = [
    "EVERYONE",
    "ONE",
    "STAFF",
    "IntegrityError",
    "StreamClosed",
    "append",
    "audience",
    "fetch_after",
    "find_by_client_id",
    "new_stream",
]
