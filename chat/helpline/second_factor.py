"""A second factor for staff logins: time-based codes (TOTP) and one-time recovery codes.

Supervisors and admins can read any transcript; in production (or wherever
`WILLOW_SECOND_FACTOR_REQUIRED` says so) they must enrol before they can do anything else.
A code is accepted once: the last accepted time step is kept, so a code seen over a
shoulder cannot be replayed. Recovery codes are stored as keyed hashes and each works once.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import time

import pyotp
from sqlalchemy import or_, select

from chat.core import audit
from chat.core.db import Database
from chat.core.identity import second_factor_missing
from chat.core.models import Staff
from chat.core.sealed import Unreadable, is_sealed, seal, unseal
from chat.core.security import token_hash
from chat.core.services import Services
from chat.core.settings import Settings

log = logging.getLogger("willow.second_factor")
RECOVERY_CODES = 10
ISSUER = "Willow"
_STEP_SECONDS = 30


class SecondFactorError(ValueError):
    """The enrolment cannot go on as asked; the message says why."""


def required(staff: Staff, settings: Settings) -> bool:
    """Whether this account must enrol before it may do anything but enrol."""
    return second_factor_missing(staff, settings)


def _code_step(secret: str, code: str, at: float) -> int | None:
    """The time step the code belongs to (this one or its neighbours), or None."""
    totp = pyotp.TOTP(secret)
    step = int(at // _STEP_SECONDS)
    for candidate in (step, step - 1, step + 1):
        if hmac.compare_digest(totp.at(candidate * _STEP_SECONDS), code):
            return candidate
    return None


def _normalised(code: str) -> str:
    """Spaces and dashes dropped, lower case; anything but ASCII can never be a code."""
    given = "".join(code.split()).replace("-", "").lower()
    return given if given.isascii() else ""


async def begin(services: Services, staff_id: int) -> tuple[str, str]:
    """A new secret to enrol, kept as pending: (secret, otpauth URI for an authenticator app)."""
    secret = pyotp.random_base32()
    async with services.db.write() as session:
        staff = await session.get(Staff, staff_id)
        if staff is None:
            raise SecondFactorError("no such account")
        staff.totp_pending = seal(secret, services.settings.effective_secret_key)
        uri = pyotp.TOTP(secret).provisioning_uri(name=staff.username, issuer_name=ISSUER)
    return secret, uri


async def confirm(services: Services, staff_id: int, code: str) -> list[str]:
    """Turn the pending secret on once a code from it is right; the recovery codes, once."""
    key = services.settings.effective_secret_key
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    async with services.db.write() as session:
        staff = await session.get(Staff, staff_id, with_for_update=True)
        if staff is None or staff.totp_pending is None:
            raise SecondFactorError("start the set-up first")
        pending = unseal(staff.totp_pending, key)
        step = _code_step(pending, _normalised(code), time.time())
        if step is None:
            raise SecondFactorError("that code is not right; check the app's clock and try again")
        staff.totp_secret = seal(pending, key)
        staff.totp_pending, staff.totp_last_step = None, step
        staff.recovery_hashes = [token_hash(c.replace("-", ""), key) for c in codes]
        audit.record(session, f"staff:{staff.id}", "staff.second_factor_on", f"staff:{staff.id}")
    return codes


async def check(services: Services, staff_id: int, code: str) -> bool:
    """Whether the code (TOTP or recovery) is right; each is accepted only once."""
    key = services.settings.effective_secret_key
    given = _normalised(code)
    async with services.db.write() as session:
        staff = await session.scalar(select(Staff).where(Staff.id == staff_id).with_for_update())
        if staff is None or staff.totp_secret is None:
            return False
        try:
            secret = unseal(staff.totp_secret, key)
        except Unreadable:
            log.error("a second-factor secret cannot be read with this WILLOW_SECRET_KEY")
            return False
        step = _code_step(secret, given, time.time()) if given.isdigit() else None
        if step is not None and step > (staff.totp_last_step or -1):
            staff.totp_last_step = step
            return True
        hashed = token_hash(given, key)
        remaining = list(staff.recovery_hashes or [])
        if any(hmac.compare_digest(hashed, h) for h in remaining):
            staff.recovery_hashes = [h for h in remaining if h != hashed]
            audit.record(
                session, f"staff:{staff.id}", "staff.recovery_code_used", f"staff:{staff.id}"
            )
            return True
    return False


async def seal_plain(db: Database, secret_key: bytes) -> int:
    """Encrypt every second-factor secret still stored in plain text; how many were."""
    sealed = 0
    async with db.write() as session:
        rows = await session.scalars(
            select(Staff)
            .where(or_(Staff.totp_secret.is_not(None), Staff.totp_pending.is_not(None)))
            .with_for_update()
        )
        for staff in rows:
            for column in ("totp_secret", "totp_pending"):
                value = getattr(staff, column)
                if value is not None and not is_sealed(value):
                    setattr(staff, column, seal(value, secret_key))
                    sealed += 1
    return sealed
