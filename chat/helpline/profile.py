"""An adviser's routing profile: the languages she reads, her specialisms, her own capacity and
whether her training is recorded. Read and changed by `willow staff profile` and by admins
through `GET`/`PUT /api/admin/staff/{id}/profile` (docs/OPERATIONS.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field, StrictBool, StrictInt
from sqlalchemy import select

from chat.core.http import PathId, StrictBody
from chat.core.models import Staff
from chat.core.services import Services
from chat.helpline import board
from chat.helpline.choices import LANGUAGES
from chat.helpline.routing import DEFAULT_LANGUAGES, SPECIALISMS
from chat.helpline.staff import StaffError, require_role, services_of

router = APIRouter(prefix="/api/admin", tags=["admin"])

MAX_CAPACITY = 40


class ProfileError(ValueError):
    """A profile change names something unknown; the message says what and what is allowed."""


class Profile(BaseModel):
    staff_id: int
    username: str
    languages: list[str]
    # None: never recorded, and she takes chats on any topic.
    specialisms: list[str] | None
    capacity: int
    trained: StrictBool

    @classmethod
    def of(cls, staff: Staff) -> Profile:
        return cls(
            staff_id=staff.id,
            username=staff.username,
            languages=languages_of(staff),
            specialisms=None if staff.specialisms is None else list(staff.specialisms),
            capacity=staff.capacity,
            trained=staff.trained_at is not None,
        )


def languages_of(staff: Staff) -> list[str]:
    return list(staff.languages or sorted(DEFAULT_LANGUAGES))


class ProfileChange(StrictBody):
    """Only the fields given change."""

    languages: Annotated[list[str], Field(min_length=1, max_length=len(LANGUAGES))] | None = None
    specialisms: Annotated[list[str], Field(max_length=len(SPECIALISMS))] | None = None
    capacity: Annotated[StrictInt, Field(ge=1, le=MAX_CAPACITY)] | None = None


def _check(change: ProfileChange) -> None:
    for value in change.languages or []:
        if value not in LANGUAGES:
            raise ProfileError(f"unknown language {value!r} (one of {', '.join(LANGUAGES)})")
    for value in change.specialisms or []:
        if value not in SPECIALISMS:
            raise ProfileError(f"unknown specialism {value!r} (one of {', '.join(SPECIALISMS)})")


async def set_profile(
    services: Services, who: int | str, change: ProfileChange, actor: str
) -> Profile:
    """Change what was given, audited with the new values; nothing changes if any is wrong."""
    _check(change)
    async with services.change() as tx:
        column = Staff.id if isinstance(who, int) else Staff.username
        staff = await tx.session.scalar(select(Staff).where(column == who))
        if staff is None:
            raise StaffError(f"no staff member {who!r}")
        details: dict[str, object] = {}
        if change.languages is not None:
            staff.languages = sorted(set(change.languages))
            details["languages"] = staff.languages
        if change.specialisms is not None:
            staff.specialisms = sorted(set(change.specialisms))
            details["specialisms"] = staff.specialisms
        if change.capacity is not None:
            staff.capacity = change.capacity
            details["capacity"] = staff.capacity
        tx.audit(actor, "staff.profile", f"staff:{staff.id}", details=details)
        profile = Profile.of(staff)
        changed = staff.id
        tx.after(lambda: board.note(services, staff={changed}))
    return profile


async def get_profile(services: Services, who: int | str) -> Profile:
    async with services.db.read() as session:
        column = Staff.id if isinstance(who, int) else Staff.username
        staff = await session.scalar(select(Staff).where(column == who))
    if staff is None:
        raise StaffError(f"no staff member {who!r}")
    return Profile.of(staff)


@router.get("/staff/{staff_id}/profile")
async def read_profile(
    request: Request,
    staff_id: PathId,
    _admin: Annotated[Staff, Depends(require_role("admin"))],
) -> Profile:
    try:
        return await get_profile(services_of(request), staff_id)
    except StaffError as exc:
        raise HTTPException(404, str(exc)) from None


@router.put("/staff/{staff_id}/profile")
async def change_profile(
    request: Request,
    staff_id: PathId,
    body: ProfileChange,
    admin: Annotated[Staff, Depends(require_role("admin"))],
) -> Profile:
    try:
        return await set_profile(services_of(request), staff_id, body, f"staff:{admin.id}")
    except ProfileError as exc:
        raise HTTPException(422, str(exc)) from None
    except StaffError as exc:
        raise HTTPException(404, str(exc)) from None
