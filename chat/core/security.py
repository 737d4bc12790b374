"""Tokens, password hashes, CSRF, Origin checks and the headers every response carries."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    (b"cache-control", b"no-store"),
]


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str, key: bytes) -> str:
    """Keyed hash of a random token: a database leak does not reveal live tokens."""
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


async def hash_password(password: str) -> str:
    # argon2 is deliberately slow; keep it off the event loop.
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    def _verify() -> bool:
        try:
            return _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(_verify)


# A real hash to verify against when the username is unknown, so timing does not reveal it.
DUMMY_PASSWORD_HASH = _hasher.hash(secrets.token_urlsafe(16))


def origin_allowed(
    origin: str | None, host: str | None, allowed: list[str], scheme: str = "https"
) -> bool:
    """A browser's Origin must be ours: one of the configured origins, or the Host we serve
    with the scheme we serve it over (an http:// page must not talk to an https:// site)."""
    if not origin:
        return False
    if allowed:
        return origin in allowed
    parts = urlsplit(origin)
    return host is not None and parts.netloc == host and parts.scheme == scheme


def csrf_ok(request: Request, expected: str) -> bool:
    sent = request.headers.get("x-csrf-token", "")
    return bool(sent) and hmac.compare_digest(sent, expected)


HSTS = (b"strict-transport-security", b"max-age=31536000")


class SecurityHeaders:
    """Adds the security headers to every HTTP response (pure ASGI, cheap); HSTS if asked."""

    def __init__(self, app: ASGIApp, hsts: bool = False) -> None:
        self.app = app
        self.headers = [*SECURITY_HEADERS, HSTS] if hsts else SECURITY_HEADERS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + self.headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


RequestHandler = Callable[[Request], Awaitable[Response]]
