"""The appender's statements, compiled once for the database's dialect.

Both batch writers (chat/core/sqlite_batch.py on sqlite3, chat/core/pg_batch.py on asyncpg)
skip SQLAlchemy's per-statement work on the message path, yet keep its SQL, column types and
JSON encoding: each statement is built with SQLAlchemy and compiled here once, to the driver's
positional SQL, with the dialect's bind processors applied to the values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Dialect, Executable, bindparam, insert, update

from chat.core.models import Event, Stream

_EVENT_COLUMNS = ["stream_id", "seq", "type", "sender", "client_id", "audience", "payload"]


class Compiled:
    """A statement with named bind parameters, compiled once to the dialect's positional SQL."""

    def __init__(
        self, statement: Executable, dialect: Dialect, column_keys: list[str] | None = None
    ) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=column_keys)  # type: ignore[attr-defined]
        self.sql = str(compiled)
        defaults = compiled.params
        self._slots: list[tuple[str, Any, Callable[[Any], Any] | None]] = [
            (name, defaults.get(name), _processor(compiled.binds[name].type, dialect))
            for name in compiled.positiontup
        ]

    def params(self, values: dict[str, Any]) -> tuple[Any, ...]:
        out = []
        for name, default, process in self._slots:
            value = values.get(name, default)
            out.append(process(value) if process is not None and value is not None else value)
        return tuple(out)


class BatchStatements:
    """The event INSERT, each guard's seq UPDATE … RETURNING and each touch, compiled once.

    `returning`: the stream columns the seq UPDATE returns (a writer that reads one stream at
    a time needs only `last_seq`); `inline`: the INSERT returns no new id (nobody reads it).
    """

    def __init__(self, dialect: Dialect, returning: tuple[Any, ...], inline: bool = False) -> None:
        self._dialect = dialect
        self._returning = returning
        statement = insert(Event).inline() if inline else insert(Event)
        self.insert = Compiled(statement, dialect, column_keys=_EVENT_COLUMNS)
        # Guards and touches are module-level statements, so these stay small.
        self._updates: dict[int, Compiled] = {}
        self._touches: dict[int, Compiled] = {}

    def update(self, guard: ColumnElement[bool]) -> Compiled:
        compiled = self._updates.get(id(guard))
        if compiled is None:
            statement = (
                update(Stream)
                .where(Stream.id == bindparam("stream_id"), guard)
                .values(last_seq=Stream.last_seq + bindparam("count"))
                .returning(*self._returning)
            )
            compiled = self._updates[id(guard)] = Compiled(statement, self._dialect)
        return compiled

    def touch(self, statement: Executable) -> Compiled:
        compiled = self._touches.get(id(statement))
        if compiled is None:
            compiled = self._touches[id(statement)] = Compiled(statement, self._dialect)
        return compiled


def _processor(type_: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """How the dialect turns a Python value of this type into what the driver takes."""
    processor: Callable[[Any], Any] | None = type_.dialect_impl(dialect).bind_processor(dialect)
    return processor
