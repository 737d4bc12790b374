"""The appender's PostgreSQL path: a whole batch on the writer's own asyncpg connection.

Through SQLAlchemy's async engine a batch took a pool check-out with its ping, BEGIN, the seq
UPDATE, the INSERT and COMMIT, each a round trip through a greenlet and the engine's
statement cache and coercion: about 1,360 µs of node CPU per message against 700 on SQLite
(bench/RESULTS.md, issue 17). Here a batch is four round trips on one connection the writer
keeps: BEGIN; every stream's guarded seq UPDATE … RETURNING, pipelined (asyncpg's
`fetchmany`: a Bind and Execute per stream, one Sync); every message's INSERT, pipelined the
same way (`executemany`); COMMIT. A touch (when a room participant last wrote) adds one
pipelined round trip.

The statements are built with SQLAlchemy and compiled once for the engine's dialect (asyncpg's
`$n` parameters and their casts), and values go through the dialect's bind processors, so the
SQL, the column types and the JSON encoding (the engine's serializer) are the ones the rest of
Willow reads and writes.

Streams' rows are locked in one order on every node (by guard, then by stream id), so two
nodes writing to the same streams wait for each other and never deadlock.

A connection that failed is dropped, and the next batch makes a new one. When it failed before
COMMIT was sent, nothing of the batch can have been stored, so the batch is tried once more on
a new connection: a connection PostgreSQL closed while the node was quiet costs nobody her
message. Once COMMIT was sent the outcome is unknown, and the appender says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chat.core.batch_sql import BatchStatements
from chat.core.db import Database
from chat.core.models import Stream

if TYPE_CHECKING:
    from chat.core.appender import _Pending, _Plan

# How the writer's connection shows in pg_stat_activity.
APPLICATION_NAME = "willow-appender"
_CLOSE_SECONDS = 5.0


class Refused(Exception):
    """PostgreSQL refused the batch for a constraint (a resend of a stored client_id); nothing
    of it was stored."""


class PgBatchWriter:
    """Writes the appender's batches on its own asyncpg connection, one batch at a time."""

    def __init__(self, db: Database) -> None:
        self._dialect = db.engine.dialect
        self._connect_args = _connect_args(db)
        # asyncpg's Connection; made at the first batch, and again after a failure.
        self._connection: Any = None
        # Inline: without it PostgreSQL's INSERT would return each new id, which nobody reads.
        self._statements = BatchStatements(
            self._dialect, returning=(Stream.id, Stream.last_seq), inline=True
        )

    @staticmethod
    def usable(db: Database) -> bool:
        dialect = db.engine.dialect
        return dialect.name == "postgresql" and dialect.driver == "asyncpg"

    async def store(self, plan: _Plan) -> set[_Pending]:
        """Hand out seqs, insert and touch; returns the messages whose stream refused them.

        Raises Refused (nothing stored) when a message repeats a stored one.
        """
        asyncpg = _asyncpg()
        for attempt in (1, 2):
            connection = await self._connected()
            committing = False
            try:
                async with connection.transaction():
                    closed = await self._write(connection, plan)
                    committing = True
                return closed
            except asyncpg.IntegrityConstraintViolationError:
                # Its detail names the row's key (sender, client_id): not for any log.
                raise Refused from None
            except BaseException as problem:
                dropped = self._drop_unless_usable(connection, problem)
                if dropped and attempt == 1 and not committing and isinstance(problem, Exception):
                    continue
                raise
        raise AssertionError("not reached")

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None or connection.is_closed():
            return
        try:
            await connection.close(timeout=_CLOSE_SECONDS)
        except Exception:
            connection.terminate()

    async def _write(self, connection: Any, plan: _Plan) -> set[_Pending]:
        groups = [(self._statements.update(guard), counts) for guard, counts in plan.by_guard()]
        groups.sort(key=lambda group: group[0].sql)
        last_seqs: dict[int, int] = {}
        for seqs, counts in groups:
            # The UPDATE takes each stream's row lock, so seqs are never handed out twice
            # across nodes; a stream the guard refuses returns no row.
            rows = await connection.fetchmany(
                seqs.sql,
                [
                    seqs.params({"stream_id": stream_id, "count": count})
                    for stream_id, count in sorted(counts.items())
                ],
            )
            last_seqs.update((row[0], row[1]) for row in rows)
        assigned = plan.assign(last_seqs)
        if assigned.rows:
            insert = self._statements.insert
            await connection.executemany(insert.sql, [insert.params(row) for row in assigned.rows])
        for statement, params in assigned.touches.values():
            touch = self._statements.touch(statement)
            await connection.executemany(touch.sql, [touch.params(p) for p in params])
        return assigned.closed

    async def _connected(self) -> Any:
        connection = self._connection
        if connection is None or connection.is_closed():
            self._connection = None
            connection = await _asyncpg().connect(**self._connect_args)
            self._connection = connection
        return connection

    def _drop_unless_usable(self, connection: Any, problem: BaseException) -> bool:
        """Keep the connection only when PostgreSQL answered with an error and rolled back;
        returns whether it was dropped."""
        asyncpg = _asyncpg()
        lost = connection.is_closed() or isinstance(
            problem,
            (OSError, asyncpg.PostgresConnectionError, asyncpg.OperatorInterventionError),
        )
        answered = isinstance(problem, asyncpg.PostgresError)
        if answered and not lost and not connection.is_in_transaction():
            return False
        connection.terminate()
        if self._connection is connection:
            self._connection = None
        return True


def _asyncpg() -> Any:
    # Imported only when PostgreSQL is used, as SQLAlchemy's dialect does.
    import asyncpg  # type: ignore[import-untyped]

    return asyncpg


def _connect_args(db: Database) -> dict[str, Any]:
    """asyncpg.connect's arguments for the engine's URL, read by the dialect as the pool's are."""
    _, params = db.engine.dialect.create_connect_args(db.engine.url)
    args = dict(params)
    # SQLAlchemy's options for its own adapter, not asyncpg's; a URL that turns SQLAlchemy's
    # statement cache off (for a pooler that cannot keep them) turns asyncpg's off too.
    if args.pop("prepared_statement_cache_size", None) == 0:
        args.setdefault("statement_cache_size", 0)
    args.pop("prepared_statement_name_func", None)
    args.pop("async_creator_fn", None)
    args["server_settings"] = {"application_name": APPLICATION_NAME} | dict(
        args.get("server_settings") or {}
    )
    return args
