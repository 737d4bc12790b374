"""Staff accounts, login sessions and role checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, Field, StrictBool
from sqlalchemy import delete, select

from chat.core import audit
from chat.core.clock import now
from chat.core.events import StaffDisabled, StaffLoggedOut
from chat.core.http import PathId, StrictBody
from chat.core.identity import cookie_name, staff_for_token
from chat.core.models import Staff, StaffSession
from chat.core.security import (
    DUMMY_PASSWORD_HASH,
    csrf_ok,
    hash_password,
    new_token,
    token_hash,
    verify_password,
)
from chat.core.services import Services
from chat.core.settings import Settings
from chat.helpline import login_guard, second_factor
from chat.helpline.login_guard import LoginRefused, address_of
from chat.helpline.passwords import password_problem
from chat.helpline.staff_names import (
    NameRefused,
    check_shown_to_participants,
    clean_display_name,
    lookup_username,
    normalise_username,
)

Role = Literal["adviser", "mentor", "supervisor", "admin"]
ROLES: tuple[Role, ...] = ("adviser", "mentor", "supervisor", "admin")

router = APIRouter(prefix="/api/staff", tags=["staff"])
admin_router = APIRouter(prefix="/api/admin", tags=["admin"])


class StaffError(ValueError):
    """A staff account cannot be created as asked; the message says why."""


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def create_staff(
    services: Services,
    username: str,
    role: str,
    password: str,
    display_name: str | None = None,
    actor: str = "cli",
) -> Staff:
    """A new account under its one normalised username; the creation is audited."""
    if role not in ROLES:
        raise StaffError(f"role must be one of {', '.join(ROLES)}")
    try:
        name = normalise_username(username)
        check_shown_to_participants(role, name, display_name)
        shown = clean_display_name(display_name or name)
    except NameRefused as exc:
        raise StaffError(str(exc)) from None
    problem = password_problem(password, name, shown)
    if problem is not None:
        raise StaffError(problem)
    password_hash = await hash_password(password)
    async with services.db.write() as session:
        if await session.scalar(select(Staff.id).where(Staff.username == name)) is not None:
            raise StaffError(f"a staff account named {name!r} already exists")
        staff = Staff(
            username=name,
            display_name=shown,
            password_hash=password_hash,
            role=role,
            capacity=services.settings.adviser_capacity,
            available=False,
        )
        session.add(staff)
        await session.flush()
        audit.record(session, actor, "staff.created", f"staff:{staff.id}", details={"role": role})
    return staff


async def set_training(
    services: Services, who: int | str, trained: bool, actor: str, note: str = ""
) -> Staff:
    """Record or withdraw training for a staff member (by id or username), audited."""
    async with services.db.write() as session:
        column = Staff.id if isinstance(who, int) else Staff.username
        staff = await session.scalar(select(Staff).where(column == who))
        if staff is None:
            raise StaffError(f"no staff member {who!r}")
        staff.trained_at = now() if trained else None
        action = "staff.training" if trained else "staff.training_withdrawn"
        audit.record(session, actor, action, f"staff:{staff.id}", note)
    return staff


async def login(
    services: Services, username: str, password: str, code: str | None, address: str
) -> tuple[Staff, str, str]:
    """Check the limits, the password and the second factor; a new session and CSRF token.

    Raises `LoginRefused` saying why (wrong, code_required, too_many_attempts).
    """
    account = lookup_username(username)
    await login_guard.before_password(services, account, address)
    async with services.db.read() as session:
        staff = await session.scalar(select(Staff).where(Staff.username == account))
    if staff is None or staff.disabled:
        await verify_password(DUMMY_PASSWORD_HASH, password)
        raise await login_guard.failed(services, account)
    if not await verify_password(staff.password_hash, password):
        raise await login_guard.failed(services, account)
    if staff.totp_secret is not None:
        if not code:
            raise login_guard.LoginRefused("code_required")
        if not await second_factor.check(services, staff.id, code):
            raise await login_guard.failed(services, account)
    await login_guard.succeeded(services, account, address)
    token, csrf = new_token(), new_token()
    expires = now() + timedelta(hours=services.settings.staff_session_hours)
    async with services.db.write() as session:
        session.add(
            StaffSession(
                token_hash=token_hash(token, services.settings.effective_secret_key),
                csrf_token=csrf,
                staff_id=staff.id,
                expires_at=expires,
            )
        )
    return staff, token, csrf


async def logout(services: Services, token: str) -> None:
    """End this login; every socket opened with it closes, on every node."""
    hashed = token_hash(token, services.settings.effective_secret_key)
    async with services.change() as tx:
        login = await tx.session.scalar(
            select(StaffSession).where(StaffSession.token_hash == hashed)
        )
        if login is None:
            return
        tx.emit(StaffLoggedOut(staff_id=login.staff_id, login_id=login.id))
        await tx.session.delete(login)


async def disable_staff(services: Services, who: int | str, actor: str, note: str = "") -> Staff:
    """The account may no longer log in; its logins end and its sockets close everywhere."""
    async with services.change() as tx:
        column = Staff.id if isinstance(who, int) else Staff.username
        staff = await tx.session.scalar(select(Staff).where(column == who))
        if staff is None:
            raise StaffError(f"no staff member {who!r}")
        if not staff.disabled:
            tx.audit(actor, "staff.disabled", f"staff:{staff.id}", note)
        staff.disabled = True
        staff.available = False
        await tx.session.execute(delete(StaffSession).where(StaffSession.staff_id == staff.id))
        # Sent again for an account already disabled: a socket may have outlived a crash.
        tx.emit(StaffDisabled(staff_id=staff.id))
    return staff


async def current_staff(request: Request) -> Staff:
    """The logged-in staff member; state-changing requests must also carry the CSRF token."""
    services = services_of(request)
    found = await staff_for_token(services, request.cookies.get(cookie_name(services.settings)))
    if found is None:
        raise HTTPException(401, "log in first")
    staff, staff_session = found
    if request.method not in ("GET", "HEAD", "OPTIONS") and not csrf_ok(
        request, staff_session.csrf_token
    ):
        raise HTTPException(403, "missing or wrong X-CSRF-Token header")
    return staff


def require_role(*roles: Role) -> Callable[[Request], Awaitable[Staff]]:
    async def dependency(request: Request) -> Staff:
        staff = await current_staff(request)
        if second_factor.required(staff, services_of(request).settings):
            raise HTTPException(403, "set up two-step login first")
        if staff.role not in roles:
            raise HTTPException(403, f"this needs the role {' or '.join(roles)}")
        return staff

    return dependency


class LoginRequest(StrictBody):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]
    # The authenticator app's code or a recovery code, when the account has a second factor.
    code: Annotated[str, Field(max_length=32)] | None = None


class StaffView(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    available: bool
    trained: StrictBool
    # Whether a second factor is on, and whether it must be set up before anything else.
    second_factor: StrictBool = False
    second_factor_needed: StrictBool = False
    disabled: StrictBool

    @classmethod
    def of(cls, staff: Staff, settings: Settings | None = None) -> StaffView:
        return cls(
            second_factor=staff.totp_secret is not None,
            second_factor_needed=settings is not None and second_factor.required(staff, settings),
            id=staff.id,
            username=staff.username,
            display_name=staff.display_name,
            role=staff.role,
            available=staff.available,
            trained=staff.trained_at is not None,
            disabled=staff.disabled,
        )


class Me(BaseModel):
    staff: StaffView
    csrf_token: str


@router.post("/login")
async def login_route(request: Request, body: LoginRequest, response: Response) -> Me:
    services = services_of(request)
    try:
        staff, token, csrf = await login(
            services, body.username, body.password, body.code, address_of(request, services)
        )
    except LoginRefused as refused:
        headers = {"Retry-After": str(refused.retry_after)} if refused.retry_after else None
        raise HTTPException(refused.status, refused.code, headers=headers) from None
    response.set_cookie(
        cookie_name(services.settings),
        token,
        httponly=True,
        samesite="strict",
        secure=services.settings.secure_cookies,
        max_age=int(services.settings.staff_session_hours * 3600),
        path="/",
    )
    return Me(staff=StaffView.of(staff, services.settings), csrf_token=csrf)


@router.post("/logout", status_code=204)
async def logout_route(
    request: Request, _staff: Annotated[Staff, Depends(current_staff)]
) -> Response:
    name = cookie_name(services_of(request).settings)
    token = request.cookies.get(name)
    if token:
        await logout(services_of(request), token)
    response = Response(status_code=204)
    response.delete_cookie(name, path="/", secure=name.startswith("__Host-"))
    return response


@router.get("/me")
async def me(request: Request) -> Me:
    services = services_of(request)
    found = await staff_for_token(services, request.cookies.get(cookie_name(services.settings)))
    if found is None:
        raise HTTPException(401, "log in first")
    staff, staff_session = found
    settings = services_of(request).settings
    return Me(staff=StaffView.of(staff, settings), csrf_token=staff_session.csrf_token)


class NewStaff(StrictBody):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    display_name: Annotated[str, Field(min_length=1, max_length=64)]
    role: Role
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class Training(StrictBody):
    trained: StrictBool
    note: Annotated[str, Field(max_length=500)] = ""


@admin_router.post("/staff/{staff_id}/training")
async def record_training(
    request: Request,
    staff_id: PathId,
    body: Training,
    admin: Annotated[Staff, Depends(require_role("admin"))],
) -> StaffView:
    """Record (or withdraw) a staff member's training; untrained mentors cannot open rooms."""
    try:
        staff = await set_training(
            services_of(request), staff_id, body.trained, f"staff:{admin.id}", body.note
        )
    except StaffError as exc:
        raise HTTPException(404, str(exc)) from None
    return StaffView.of(staff)


class Disable(StrictBody):
    note: Annotated[str, Field(max_length=500)] = ""


@admin_router.post("/staff/{staff_id}/disable")
async def disable_route(
    request: Request,
    staff_id: PathId,
    admin: Annotated[Staff, Depends(require_role("admin"))],
    body: Disable | None = None,
) -> StaffView:
    """Disable an account at once: its logins end and its open sockets close on every node."""
    if staff_id == admin.id:
        raise HTTPException(409, "an admin cannot disable their own account")
    try:
        staff = await disable_staff(
            services_of(request), staff_id, f"staff:{admin.id}", body.note if body else ""
        )
    except StaffError as exc:
        raise HTTPException(404, str(exc)) from None
    return StaffView.of(staff)


@admin_router.get("/staff")
async def list_staff(
    request: Request, _admin: Annotated[Staff, Depends(require_role("admin"))]
) -> list[StaffView]:
    async with services_of(request).db.read() as session:
        return [StaffView.of(s) for s in (await session.scalars(select(Staff).order_by(Staff.id)))]


@admin_router.post("/staff", status_code=201)
async def add_staff(
    request: Request, body: NewStaff, admin: Annotated[Staff, Depends(require_role("admin"))]
) -> StaffView:
    try:
        staff = await create_staff(
            services_of(request),
            body.username,
            body.role,
            body.password,
            body.display_name,
            actor=f"staff:{admin.id}",
        )
    except StaffError as exc:
        raise HTTPException(409, str(exc)) from None
    return StaffView.of(staff)
