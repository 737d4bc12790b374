"""A staff member's own account: set up the second factor, change the password, use a reset code.

These routes need only a login (not a role), so a supervisor who must still enrol a second
factor can reach them; everything else waits until she has.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy import delete, select

from chat.core import audit
from chat.core.clock import aware, now
from chat.core.events import StaffLoggedOut
from chat.core.http import StrictBody
from chat.core.identity import cookie_name
from chat.core.models import Staff, StaffSession
from chat.core.security import hash_password, new_token, token_hash, verify_password
from chat.core.services import Services
from chat.core.uow import Change
from chat.helpline import login_guard, second_factor
from chat.helpline.passwords import password_problem
from chat.helpline.staff import current_staff, services_of
from chat.helpline.staff_names import lookup_username

router = APIRouter(prefix="/api/staff", tags=["staff"])
LoggedIn = Annotated[Staff, Depends(current_staff)]
RESET_CODE_HOURS = 24
Password = Annotated[str, Field(min_length=1, max_length=1024)]


class Enrolment(BaseModel):
    secret: str
    uri: str


class Code(StrictBody):
    code: Annotated[str, Field(min_length=1, max_length=32)]


class RecoveryCodes(BaseModel):
    recovery_codes: list[str]


class PasswordChange(StrictBody):
    current_password: Password
    new_password: Password


class PasswordReset(StrictBody):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    reset_code: Annotated[str, Field(min_length=1, max_length=64)]
    new_password: Password


@router.post("/second-factor/begin")
async def begin_second_factor(request: Request, staff: LoggedIn) -> Enrolment:
    """A new secret for her authenticator app; nothing changes until she confirms a code."""
    secret, uri = await second_factor.begin(services_of(request), staff.id)
    return Enrolment(secret=secret, uri=uri)


@router.post("/second-factor/confirm")
async def confirm_second_factor(request: Request, body: Code, staff: LoggedIn) -> RecoveryCodes:
    try:
        codes = await second_factor.confirm(services_of(request), staff.id, body.code)
    except second_factor.SecondFactorError as exc:
        raise HTTPException(400, str(exc)) from None
    return RecoveryCodes(recovery_codes=codes)


@router.post("/password", status_code=204)
async def change_password(request: Request, body: PasswordChange, staff: LoggedIn) -> None:
    """Change her own password: the current one is asked again, other logins end."""
    services = services_of(request)
    if not await verify_password(staff.password_hash, body.current_password):
        # Counted like a wrong login: a borrowed session cannot guess her password freely.
        await login_guard.failed(services, staff.username.lower())
        raise HTTPException(403, "the current password is not right")
    problem = password_problem(body.new_password, staff.username, staff.display_name)
    if problem is not None:
        raise HTTPException(422, problem)
    new_hash = await hash_password(body.new_password)
    keep = token_hash(
        request.cookies.get(cookie_name(services.settings), ""),
        services.settings.effective_secret_key,
    )
    async with services.change() as tx:
        row = await tx.session.get(Staff, staff.id)
        assert row is not None
        row.password_hash = new_hash
        row.reset_hash = row.reset_expires_at = None
        await end_logins(tx, staff.id, keep)
        tx.audit(f"staff:{staff.id}", "staff.password_changed", f"staff:{staff.id}")


async def end_logins(tx: Change, staff_id: int, keep: str | None) -> None:
    """Every login of hers but `keep` (the one changing the password) ends, and the sockets
    opened with them close on every node (one `StaffLoggedOut` each, after the commit)."""
    query = select(StaffSession.id).where(StaffSession.staff_id == staff_id)
    if keep is not None:
        query = query.where(StaffSession.token_hash != keep)
    ended = list(await tx.session.scalars(query))
    if ended:
        await tx.session.execute(delete(StaffSession).where(StaffSession.id.in_(ended)))
    for login_id in ended:
        tx.emit(StaffLoggedOut(staff_id=staff_id, login_id=login_id))


async def issue_reset_code(services: Services, username: str, actor: str) -> str:
    """A one-time code to set a new password, valid for a day; only its hash is kept."""
    code = new_token()
    async with services.db.write() as session:
        staff = await session.scalar(
            select(Staff).where(Staff.username == lookup_username(username))
        )
        if staff is None:
            raise LookupError(f"no staff member {username!r}")
        staff.reset_hash = token_hash(code, services.settings.effective_secret_key)
        staff.reset_expires_at = now() + timedelta(hours=RESET_CODE_HOURS)
        audit.record(session, actor, "staff.password_reset_issued", f"staff:{staff.id}")
    return code


@router.post("/password/reset", status_code=204)
async def reset_password(request: Request, body: PasswordReset) -> None:
    """Set a new password with a one-time reset code an admin gave her; every login ends."""
    services = services_of(request)
    account = lookup_username(body.username)
    try:
        await login_guard.before_password(
            services, account, login_guard.address_of(request, services)
        )
    except login_guard.LoginRefused as refused:
        headers = {"Retry-After": str(refused.retry_after)} if refused.retry_after else None
        raise HTTPException(refused.status, refused.code, headers=headers) from None
    hashed = token_hash(body.reset_code, services.settings.effective_secret_key)
    async with services.db.read() as session:
        staff = await session.scalar(select(Staff).where(Staff.username == account))
    until = aware(staff.reset_expires_at) if staff and staff.reset_expires_at else None
    if staff is None or staff.reset_hash != hashed or until is None or until < now():
        await login_guard.failed(services, account)
        raise HTTPException(403, "that reset code is not right or has expired")
    problem = password_problem(body.new_password, staff.username, staff.display_name)
    if problem is not None:
        raise HTTPException(422, problem)
    new_hash = await hash_password(body.new_password)
    async with services.change() as tx:
        row = await tx.session.get(Staff, staff.id)
        assert row is not None
        if row.reset_hash != hashed:
            raise HTTPException(403, "that reset code is not right or has expired")
        row.password_hash = new_hash
        row.reset_hash = row.reset_expires_at = None
        await end_logins(tx, staff.id, None)
        tx.audit(f"staff:{staff.id}", "staff.password_reset", f"staff:{staff.id}")
