"""Running staff accounts: the one service layer under the admin page and `willow staff`.

Every change is validated as the accounts' own rules say (chat/helpline/staff_names.py,
passwords.py) and audited with who made it. An admin never sees or chooses anyone's
password: a new account, like a forgotten password, gets a one-time reset code (shown once,
a day), with which the person sets her own. A change of role ends the person's logins, so
no open socket keeps the rights of the role she had; the last active admin cannot be
disabled or given another role.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chat.core.http import PathId, StrictBody
from chat.core.models import Staff
from chat.core.services import Services
from chat.helpline.staff import (
    ROLES,
    Role,
    StaffError,
    StaffView,
    create_staff,
    disable_staff,
    require_role,
    services_of,
)
from chat.helpline.staff_account import RESET_CODE_HOURS, end_logins, issue_reset_code
from chat.helpline.staff_names import (
    NameRefused,
    check_shown_to_participants,
    clean_display_name,
    lookup_username,
)

Who = int | str


class NotFound(StaffError):
    """No such account."""


class Refused(StaffError):
    """The change would leave the service without a way to run it (the last admin)."""


@dataclass(frozen=True)
class NewAccount:
    staff: Staff
    reset_code: str


async def list_accounts(services: Services) -> list[Staff]:
    """Every account, active or disabled, by username."""
    async with services.db.read() as session:
        return list(await session.scalars(select(Staff).order_by(Staff.username)))


async def _find(session: AsyncSession, who: Who) -> Staff:
    column = Staff.id if isinstance(who, int) else Staff.username
    staff = await session.scalar(select(Staff).where(column == who).with_for_update())
    if staff is None:
        raise NotFound(f"no staff member {who!r}")
    return staff


async def _is_last_admin(services: Services, staff: Staff) -> bool:
    if staff.role != "admin" or staff.disabled:
        return False
    async with services.db.read() as session:
        admins = await session.scalar(
            select(func.count())
            .select_from(Staff)
            .where(Staff.role == "admin", Staff.disabled.is_(False))
        )
    return (admins or 0) <= 1


async def create_account(
    services: Services, username: str, role: str, display_name: str | None, actor: str
) -> NewAccount:
    """A new account and the one-time code with which its person sets her first password."""
    # A password nobody knows: the account cannot be used until the code is.
    await create_staff(services, username, role, secrets.token_urlsafe(32), display_name, actor)
    code = await issue_reset_code(services, username, actor)
    async with services.db.read() as session:
        staff = await session.scalar(
            select(Staff).where(Staff.username == lookup_username(username))
        )
    assert staff is not None
    return NewAccount(staff=staff, reset_code=code)


async def reset_code(services: Services, who: Who, actor: str) -> str:
    """A one-time code (a day) to set a new password; it replaces any earlier code."""
    async with services.db.read() as session:
        column = Staff.id if isinstance(who, int) else Staff.username
        username = await session.scalar(select(Staff.username).where(column == who))
    if username is None:
        raise NotFound(f"no staff member {who!r}")
    return await issue_reset_code(services, username, actor)


async def disable(services: Services, who: Who, actor: str, note: str = "") -> Staff:
    """The account can no longer log in; its logins end and its sockets close everywhere."""
    async with services.db.read() as session:
        column = Staff.id if isinstance(who, int) else Staff.username
        staff = await session.scalar(select(Staff).where(column == who))
    if staff is None:
        raise NotFound(f"no staff member {who!r}")
    if await _is_last_admin(services, staff):
        raise Refused("the last active admin cannot be disabled")
    return await disable_staff(services, staff.id, actor, note)


async def change_account(
    services: Services,
    who: Who,
    actor: str,
    role: str | None = None,
    display_name: str | None = None,
) -> Staff:
    """A new role or display name, each audited; a new role ends her logins."""
    if role is not None and role not in ROLES:
        raise StaffError(f"role must be one of {', '.join(ROLES)}")
    async with services.db.read() as session:
        column = Staff.id if isinstance(who, int) else Staff.username
        current = await session.scalar(select(Staff).where(column == who))
    if current is None:
        raise NotFound(f"no staff member {who!r}")
    if role is not None and role != current.role and await _is_last_admin(services, current):
        raise Refused("the last active admin cannot be given another role")
    try:
        shown = clean_display_name(display_name) if display_name is not None else None
        check_shown_to_participants(
            role or current.role, current.username, shown or current.display_name
        )
    except NameRefused as exc:
        raise StaffError(str(exc)) from None
    async with services.change() as tx:
        staff = await _find(tx.session, current.id)
        subject = f"staff:{staff.id}"
        if shown is not None and shown != staff.display_name:
            staff.display_name = shown
            tx.audit(actor, "staff.display_name_changed", subject)
        if role is not None and role != staff.role:
            tx.audit(actor, "staff.role_changed", subject, details={"from": staff.role, "to": role})
            staff.role, staff.available = role, False
            await end_logins(tx, staff.id, None)
    return staff


# The admin page's HTTP (docs/PROTOCOL.md, "Staff accounts"); listing, adding with a
# password, disabling and training stay in chat/helpline/staff.py.
router = APIRouter(prefix="/api/admin/staff", tags=["admin"])
Admin = Annotated[Staff, Depends(require_role("admin"))]


class Invite(StrictBody):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    display_name: Annotated[str, Field(min_length=1, max_length=64)]
    role: Role


class AccountChange(StrictBody):
    role: Role | None = None
    display_name: Annotated[str, Field(min_length=1, max_length=64)] | None = None


class WithCode(BaseModel):
    staff: StaffView
    reset_code: str
    valid_hours: int


def _refused(exc: StaffError) -> HTTPException:
    status = 404 if isinstance(exc, NotFound) else 409
    return HTTPException(status, str(exc))


@router.post("/invite", status_code=201)
async def invite(request: Request, body: Invite, admin: Admin) -> WithCode:
    """A new account with a one-time code (shown once) to set its first password."""
    try:
        made = await create_account(
            services_of(request), body.username, body.role, body.display_name, f"staff:{admin.id}"
        )
    except StaffError as exc:
        raise _refused(exc) from None
    return WithCode(
        staff=StaffView.of(made.staff), reset_code=made.reset_code, valid_hours=RESET_CODE_HOURS
    )


@router.post("/{staff_id}/reset-code")
async def new_reset_code(request: Request, staff_id: PathId, admin: Admin) -> WithCode:
    """A one-time code (shown once, a day) with which she sets a new password."""
    services = services_of(request)
    try:
        code = await reset_code(services, staff_id, f"staff:{admin.id}")
    except StaffError as exc:
        raise _refused(exc) from None
    async with services.db.read() as session:
        staff = await session.get(Staff, staff_id)
    assert staff is not None
    return WithCode(staff=StaffView.of(staff), reset_code=code, valid_hours=RESET_CODE_HOURS)


@router.patch("/{staff_id}")
async def change(
    request: Request, staff_id: PathId, body: AccountChange, admin: Admin
) -> StaffView:
    """A new role and/or display name; an admin cannot change her own role."""
    if body.role is not None and staff_id == admin.id and body.role != admin.role:
        raise HTTPException(409, "an admin cannot change their own role")
    try:
        staff = await change_account(
            services_of(request), staff_id, f"staff:{admin.id}", body.role, body.display_name
        )
    except StaffError as exc:
        raise _refused(exc) from None
    return StaffView.of(staff)
