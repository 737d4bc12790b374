"""Who is on the other end of a request or socket: her session, or a staff login."""

from __future__ import annotations

from sqlalchemy import select

from chat.core.clock import aware, now
from chat.core.models import Staff, StaffSession, VisitorSession
from chat.core.security import token_hash
from chat.core.services import Services
from chat.core.settings import Settings

# The staff login cookie (HttpOnly, SameSite=Strict); visitors have no cookie.
COOKIE = "willow_staff"
# With Secure cookies (production) the browser then accepts it only from this host, over
# HTTPS, for the whole site: no subdomain or plain-HTTP page can set or shadow it.
HOST_COOKIE = "__Host-" + COOKIE


def cookie_name(settings: Settings) -> str:
    return HOST_COOKIE if settings.secure_cookies else COOKIE


# Roles that can read any transcript: they need a second factor where the settings say so.
SECOND_FACTOR_ROLES = ("supervisor", "admin")


def second_factor_missing(staff: Staff, settings: Settings) -> bool:
    """Whether this login may do nothing but enrol a second factor (or log out)."""
    return (
        settings.needs_second_factor
        and staff.role in SECOND_FACTOR_ROLES
        and staff.totp_secret is None
    )


async def visitor_by_token(services: Services, token: str) -> VisitorSession | None:
    """Her live session, or None if the token is unknown or she has left."""
    async with services.db.read() as session:
        visitor = await session.scalar(
            select(VisitorSession).where(
                VisitorSession.token_hash
                == token_hash(token, services.settings.effective_secret_key)
            )
        )
    if visitor is None or visitor.ended_at is not None:
        return None
    return visitor


async def staff_for_token(
    services: Services, token: str | None
) -> tuple[Staff, StaffSession] | None:
    """The member of staff and her login, if the token names a live login of an enabled account."""
    if not token:
        return None
    async with services.db.read() as session:
        row = (
            await session.execute(
                select(Staff, StaffSession)
                .join(StaffSession, StaffSession.staff_id == Staff.id)
                .where(
                    StaffSession.token_hash
                    == token_hash(token, services.settings.effective_secret_key)
                )
            )
        ).first()
    if row is None:
        return None
    staff, staff_session = row
    if staff.disabled or aware(staff_session.expires_at) < now():
        return None
    return staff, staff_session
