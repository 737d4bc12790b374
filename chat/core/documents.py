"""Edited documents: what an admin changes live (hours, rooms, the directory, outcome codes,
canned replies, retention, branding), one mechanism for every kind.

A kind is registered by the feature that owns it: its shipped default (the data file, or the
file a setting names), the check that file passes at start (so an admin sees the same error
an operator would), and where the node keeps the value in use. A save stores a new row (the
JSON body, who, when); the newest row of a kind wins; a reset stores a row with no body, which
means "the shipped default" again. Every save and reset is audited in the same transaction
and announces `DocumentChanged`, on which every node reads the newest row back and applies it,
so a change is used everywhere without a restart.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic_core import to_jsonable_python
from sqlalchemy import select

from chat.core.events import DocumentChanged
from chat.core.models import EditedDocument

if TYPE_CHECKING:
    from chat.core.services import Services
    from chat.core.uow import Change

log = logging.getLogger("willow.documents")

T = TypeVar("T")
# A body larger than this is refused before it is checked (a form never sends so much).
MAX_BODY_BYTES = 512_000


class DocumentError(ValueError):
    """A body the kind's own check refuses; the message names the entry and the field."""


@dataclass
class DocumentKind(Generic[T]):
    """One editable kind. `parse` is the data file's own check (raise on a bad body);
    `default` is the shipped value; `body` turns a value into the JSON an editor shows;
    `appliers` put a value where this node uses it."""

    name: str
    default: Callable[[], T]
    parse: Callable[[Any], T]
    body: Callable[[T], Any]
    summary: Callable[[T], str] = lambda _value: ""
    appliers: list[Callable[[T], None]] = field(default_factory=list)
    # What the data file alone cannot know (a room open now): raise DocumentError to refuse.
    guard: Callable[[T], Awaitable[None]] | None = None


@dataclass
class Current:
    """The value a node uses for a kind, and where it came from."""

    value: Any
    edited: bool = False
    saved_by: int | None = None
    saved_at: datetime | None = None


class Documents:
    """This node's kinds and the value in use for each (the app's Services owns one)."""

    def __init__(self) -> None:
        self._kinds: dict[str, DocumentKind[Any]] = {}
        self._current: dict[str, Current] = {}

    def register(self, kind: DocumentKind[T]) -> T:
        """Add a kind with its shipped default in use; returns that default."""
        if kind.name in self._kinds:
            raise ValueError(f"document kind {kind.name!r} is already registered")
        self._kinds[kind.name] = kind
        value = kind.default()
        self._current[kind.name] = Current(value)
        return value

    def on_change(self, name: str, applier: Callable[[Any], None]) -> None:
        """Also call `applier` with each new value of kind `name` (another feature's copy)."""
        self._kinds[name].appliers.append(applier)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._kinds)

    def kind(self, name: str) -> DocumentKind[Any] | None:
        return self._kinds.get(name)

    def current(self, name: str) -> Current:
        return self._current[name]

    def value(self, name: str) -> Any:
        return self._current[name].value

    def check(self, name: str, body: Any) -> Any:
        """The kind's own check; DocumentError with its message when the body is refused."""
        kind = self._kinds[name]
        try:
            return kind.parse(body)
        except DocumentError:
            raise
        except ValueError as problem:
            raise DocumentError(str(problem)) from None

    def view(self, name: str) -> dict[str, Any]:
        """What an editor shows: the body in use, the shipped default, who saved it."""
        kind, now_used = self._kinds[name], self._current[name]
        return {
            "kind": name,
            "body": to_jsonable_python(kind.body(now_used.value)),
            "default": to_jsonable_python(kind.body(kind.default())),
            "edited": now_used.edited,
            "saved_by": now_used.saved_by,
            "saved_at": now_used.saved_at.isoformat() if now_used.saved_at else None,
        }

    def _use(self, name: str, current: Current) -> None:
        self._current[name] = current
        for applier in self._kinds[name].appliers:
            applier(current.value)

    async def reload(self, services: Services, name: str) -> None:
        """Read the newest row of a kind and use it (the default when none or reset)."""
        kind = self._kinds.get(name)
        if kind is None:
            return
        async with services.db.read() as session:
            row = await session.scalar(
                select(EditedDocument)
                .where(EditedDocument.kind == name)
                .order_by(EditedDocument.id.desc())
                .limit(1)
            )
        if row is None or row.body is None:
            saved = (row.staff_id, row.saved_at) if row is not None else (None, None)
            self._use(name, Current(kind.default(), False, *saved))
            return
        try:
            value = kind.parse(row.body)
        except ValueError as problem:
            # A version saved before an upgrade changed the check: keep what is in use.
            log.error("edited %s (version %s) fails its check now: %s", name, row.id, problem)
            return
        self._use(name, Current(value, True, row.staff_id, row.saved_at))

    async def reload_all(self, services: Services) -> None:
        for name in self._kinds:
            await self.reload(services, name)


async def save(services: Services, name: str, body: Any, staff_id: int) -> Any:
    """Check `body` as the kind's data file is checked, store it as the newest version,
    audit it and tell every node. Raises DocumentError and stores nothing when refused."""
    documents = services.documents
    value = documents.check(name, body)
    kind = documents.kind(name)
    assert kind is not None
    if kind.guard is not None:
        await kind.guard(value)
    stored = to_jsonable_python(kind.body(value))
    async with services.change() as tx:
        await _store(tx, name, stored, staff_id, "document.saved", kind.summary(value))
    return value


async def reset(services: Services, name: str, staff_id: int) -> None:
    """Back to the shipped default: a version with no body, audited, told to every node."""
    async with services.change() as tx:
        await _store(tx, name, None, staff_id, "document.reset", "back to the shipped default")


async def _store(tx: Change, name: str, body: Any, staff_id: int, action: str, reason: str) -> None:
    row = EditedDocument(kind=name, body=body, staff_id=staff_id)
    tx.session.add(row)
    await tx.session.flush()
    tx.audit(f"staff:{staff_id}", action, f"document:{name}:{row.id}", reason)
    tx.emit(DocumentChanged(kind=name))


def install(services: Services) -> None:
    """Every node reads a changed kind back when told, and all kinds after a broker gap."""

    async def changed(event: DocumentChanged) -> None:
        await services.documents.reload(services, event.kind)

    services.events.on(DocumentChanged, changed)
    services.hub.after_resync(lambda: services.spawn(services.documents.reload_all(services)))
