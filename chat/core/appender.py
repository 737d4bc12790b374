"""Group commit for messages: those that arrive while a write is under way are stored together.

A busy node receives many messages at once. Stored one transaction each, every message costs a
guarded seq update, an insert and a commit. The appender instead takes every message waiting,
hands out their seqs with one guarded UPDATE per kind of stream, inserts them with one
executemany, commits once, and then publishes them in seq order. When the node is quiet a batch
is one message and nothing waits for company: the batch is simply whatever queued up while the
previous one was being written.

A batch that meets a resend (the unique `(stream, sender, client_id)` constraint) is rolled
back and its messages are written one by one, so the resend is answered with the first copy and
the others are stored as usual.

Where a batch is written: a SQLite file's in one hop to a writer thread (sqlite_batch.py);
PostgreSQL's on the writer's own asyncpg connection, a pipelined round trip a step
(pg_batch.py); anything else (an in-memory SQLite database) through SQLAlchemy's engine. All
three run the same statements, built with SQLAlchemy.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Executable, case, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from chat.core.db import Database
from chat.core.models import Event, Stream
from chat.core.outages import failed_with
from chat.core.pg_batch import PgBatchWriter, Refused
from chat.core.sqlite_batch import SqliteBatchWriter
from chat.core.streams import StreamClosed, find_by_client_id

log = logging.getLogger("willow.appender")

# Publishes stored events, in order: (payload, stream id, seq, staff only) each.
PublishStored = Callable[[list[tuple[dict[str, Any], int, int, bool]]], Awaitable[None]]

MAX_BATCH = 500


@dataclass(frozen=True)
class Appended:
    """A message as stored; `duplicate` when its client_id had been stored before."""

    payload: dict[str, Any]
    duplicate: bool


@dataclass(frozen=True)
class Touch:
    """A statement run once per batch with the parameters of every message that asked for it
    (an executemany), such as recording when a room participant last wrote."""

    statement: Executable
    params: dict[str, Any]


@dataclass(eq=False)
class _Pending:
    stream_id: int
    payload: dict[str, Any]
    sender: str
    client_id: str | None
    # Correlated to `streams.id`: true while the stream still takes messages.
    guard: ColumnElement[bool]
    staff_only: bool
    touch: Touch | None
    done: asyncio.Future[Appended] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    def row(self) -> dict[str, Any]:
        return {
            "stream_id": self.stream_id,
            "seq": self.payload["seq"],
            "type": str(self.payload["type"]),
            "sender": self.sender,
            "client_id": self.client_id,
            "audience": "staff" if self.staff_only else "all",
            "payload": self.payload,
        }


class Appender:
    """One per node. `append` returns once the message is committed and published."""

    def __init__(self, db: Database, publish: PublishStored, max_batch: int = MAX_BATCH) -> None:
        self._db = db
        self._publish = publish
        self._max_batch = max_batch
        self._waiting: list[_Pending] = []
        self._writer: asyncio.Task[None] | None = None
        # SQLite (a file): the batch goes to a writer thread in one hop; otherwise SQLAlchemy.
        self._sqlite = SqliteBatchWriter(db) if SqliteBatchWriter.usable(db) else None
        # PostgreSQL: the batch on the writer's own asyncpg connection, not a pooled one.
        self._pg = PgBatchWriter(db) if PgBatchWriter.usable(db) else None
        self.batches = 0
        self.appended = 0

    async def append(
        self,
        stream_id: int,
        payload: dict[str, Any],
        *,
        sender: str,
        client_id: str | None,
        guard: ColumnElement[bool],
        staff_only: bool = False,
        touch: Touch | None = None,
    ) -> Appended:
        """Store `payload` with the stream's next seq (set into it) and publish it.

        Raises StreamClosed when `guard` no longer holds for the stream (and the message was not
        stored before under the same client_id).
        """
        pending = _Pending(stream_id, payload, sender, client_id, guard, staff_only, touch)
        self._waiting.append(pending)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_waiting())
        # A caller that goes away (her socket closed) does not stop the write for the others.
        return await asyncio.shield(pending.done)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.cancel()
            await asyncio.gather(self._writer, return_exceptions=True)
        if self._sqlite is not None:
            await self._sqlite.close()
        if self._pg is not None:
            await self._pg.close()

    async def _write_waiting(self) -> None:
        # Runs while anything waits; the check and the return happen in one step, so an
        # `append` either sees this task running or starts a new one.
        while self._waiting:
            batch = self._waiting[: self._max_batch]
            del self._waiting[: self._max_batch]
            try:
                await self._write(batch)
            except Exception as problem:
                # Not "failed": a commit whose answer was lost may have stored them. Their
                # senders are told to send again with the same client_id (PROTOCOL.md).
                failed_with(problem, log, "storing %d messages: outcome unknown", len(batch))
                for pending in batch:
                    if not pending.done.done():
                        pending.done.set_exception(problem)

    async def _write(self, batch: list[_Pending]) -> None:
        try:
            closed = await self._store(batch)
        except (IntegrityError, sqlite3.IntegrityError, Refused):
            if len(batch) > 1:
                for pending in batch:
                    await self._write([pending])
                return
            await self._answer_resend(batch[0], closed=False)
            return
        self.batches += 1
        stored = [pending for pending in batch if pending not in closed]
        self.appended += len(stored)
        if stored:
            await self._publish(
                [(p.payload, p.stream_id, int(p.payload["seq"]), p.staff_only) for p in stored]
            )
        for pending in stored:
            pending.done.set_result(Appended(pending.payload, duplicate=False))
        for pending in closed:
            await self._answer_resend(pending, closed=True)

    async def _store(self, batch: list[_Pending]) -> set[_Pending]:
        if self._sqlite is not None:
            return await self._sqlite.store(_Plan.of(batch))
        if self._pg is not None:
            return await self._pg.store(_Plan.of(batch))
        async with self._db.write_connection() as connection:
            return await _store(connection, batch)

    async def _answer_resend(self, pending: _Pending, closed: bool) -> None:
        """The first copy of a resent message, or why this one could not be stored."""
        previous = None
        if pending.client_id is not None:
            async with self._db.read() as session:
                previous = await find_by_client_id(
                    session, pending.stream_id, pending.sender, pending.client_id
                )
        if previous is not None:
            pending.done.set_result(Appended(previous, duplicate=True))
        elif closed:
            pending.done.set_exception(StreamClosed(pending.stream_id))
        else:
            pending.done.set_exception(
                RuntimeError(f"stream {pending.stream_id}: message refused by the database")
            )


@dataclass
class _Plan:
    """What a batch asks of the database: how many seqs each stream needs, under its guard."""

    batch: list[_Pending]
    # Streams in arrival order, each with its guard and how many seqs it needs.
    wanted: dict[int, tuple[ColumnElement[bool], int]]

    @classmethod
    def of(cls, batch: list[_Pending]) -> _Plan:
        wanted: dict[int, tuple[ColumnElement[bool], int]] = {}
        for pending in batch:
            guard, count = wanted.get(pending.stream_id, (pending.guard, 0))
            wanted[pending.stream_id] = (guard, count + 1)
        return cls(batch, wanted)

    def by_guard(self) -> list[tuple[ColumnElement[bool], dict[int, int]]]:
        groups: dict[int, tuple[ColumnElement[bool], dict[int, int]]] = {}
        for stream_id, (guard, count) in self.wanted.items():
            groups.setdefault(id(guard), (guard, {}))[1][stream_id] = count
        return list(groups.values())

    def assign(self, last_seqs: dict[int, int]) -> _Assigned:
        """Give each message its seq from the streams' new `last_seq` (absent: refused)."""
        next_seq = {
            stream_id: last_seq - self.wanted[stream_id][1] + 1
            for stream_id, last_seq in last_seqs.items()
        }
        assigned = _Assigned()
        for pending in self.batch:
            seq = next_seq.get(pending.stream_id)
            if seq is None:
                assigned.closed.add(pending)
                continue
            next_seq[pending.stream_id] = seq + 1
            pending.payload["seq"] = seq
            assigned.rows.append(pending.row())
            if pending.touch is not None:
                statement = pending.touch.statement
                group = assigned.touches.setdefault(id(statement), (statement, []))
                group[1].append(pending.touch.params)
        return assigned


@dataclass
class _Assigned:
    rows: list[dict[str, Any]] = field(default_factory=list)
    touches: dict[int, tuple[Executable, list[dict[str, Any]]]] = field(default_factory=dict)
    # Messages whose stream's guard refused them (an ended chat, a closed room).
    closed: set[_Pending] = field(default_factory=set)


async def _store(connection: AsyncConnection, batch: list[_Pending]) -> set[_Pending]:
    """Hand out seqs, insert the batch and run its touches; returns those whose stream closed."""
    plan = _Plan.of(batch)
    last_seqs: dict[int, int] = {}
    for guard, counts in plan.by_guard():
        # The UPDATE takes each stream's row lock on PostgreSQL, so seqs are never handed out
        # twice across nodes; a stream the guard refuses returns no row.
        if len(counts) == 1:
            increment: Any = next(iter(counts.values()))
        else:
            increment = case(counts, value=Stream.id)
        result = await connection.execute(
            update(Stream)
            .where(Stream.id.in_(list(counts)), guard)
            .values(last_seq=Stream.last_seq + increment)
            .returning(Stream.id, Stream.last_seq)
        )
        last_seqs.update((stream_id, last_seq) for stream_id, last_seq in result.all())
    assigned = plan.assign(last_seqs)
    if assigned.rows:
        await connection.execute(insert(Event), assigned.rows)
    for statement, params in assigned.touches.values():
        await connection.execute(statement, params)
    return assigned.closed
