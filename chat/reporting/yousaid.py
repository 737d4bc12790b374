"""The "you said, we did" list: what people asked for and what the service changed."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints
from sqlalchemy import delete, select

from chat.core.http import StrictBody
from chat.core.services import Services
from chat.reporting.models import YouSaidWeDid

Language = Literal["en", "pl", "ar", "ur", "bn", "pa", "so"]
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
# A short list on the first screen, not an archive.
MOST_ENTRIES = 20


class Entry(StrictBody):
    language: Language = "en"
    you_said: Line
    we_did: Line


class EntryView(Entry):
    id: Annotated[int, Field(ge=1)]


class ListFull(ValueError):
    """The list already holds as many entries as the first screen can show."""


async def entries(services: Services) -> list[EntryView]:
    async with services.db.read() as session:
        rows = (await session.scalars(select(YouSaidWeDid).order_by(YouSaidWeDid.id.desc()))).all()
    return [
        EntryView.model_validate(
            {"id": r.id, "language": r.language, "you_said": r.you_said, "we_did": r.we_did}
        )
        for r in rows
    ]


async def add(services: Services, entry: Entry) -> EntryView:
    async with services.db.write() as session:
        held = len((await session.scalars(select(YouSaidWeDid.id))).all())
        if held >= MOST_ENTRIES:
            raise ListFull(f"the list holds at most {MOST_ENTRIES} entries; remove one first")
        row = YouSaidWeDid(**entry.model_dump())
        session.add(row)
        await session.flush()
        return EntryView(id=row.id, **entry.model_dump())


async def replace(services: Services, entry_id: int, entry: Entry) -> EntryView | None:
    async with services.db.write() as session:
        row = await session.get(YouSaidWeDid, entry_id)
        if row is None:
            return None
        row.language, row.you_said, row.we_did = entry.language, entry.you_said, entry.we_did
    return EntryView(id=entry_id, **entry.model_dump())


async def remove(services: Services, entry_id: int) -> bool:
    async with services.db.write() as session:
        result = await session.execute(delete(YouSaidWeDid).where(YouSaidWeDid.id == entry_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]
