"""Limits on staff logins: per account and per network address, counted by keyed hash.

An address may try a limited number of logins in a window (a right one is given back), so a
flood of guesses is refused before any password is hashed (and cannot starve real logins of the
hashing threads). An account that gets a few wrong passwords or codes is locked for the rest
of its window, whatever address the guesses come from; a right login clears its count.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from chat.core.addresses import client_address
from chat.core.services import Services
from chat.core.throttle import Rule

# A burst from one address is cut short; a steady trickle is capped over minutes.
LOGIN_BURST = Rule("login-burst", limit=5, window=10)
LOGIN_ADDRESS = Rule("login-address", limit=20, window=300)
LOGIN_ACCOUNT = Rule("login-account", limit=5, window=900)


@dataclass
class LoginRefused(Exception):
    """Why a login is refused: `code` for the page, the HTTP status, and when to retry."""

    code: str
    status: int = 401
    retry_after: int | None = None


def network_of(connection: HTTPConnection, services: Services) -> str | None:
    """The address to count by, or None when a proxy sent no usable header."""
    client = connection.client
    found = client_address(
        client.host if client is not None else None,
        connection.headers.getlist("x-forwarded-for"),
        services.settings.trusted_proxies,
    )
    return found.address if found is not None else None


def address_of(connection: HTTPConnection, services: Services) -> str:
    """For logins, connections a proxy made without the header share one count."""
    return network_of(connection, services) or "unknown"


async def before_password(services: Services, account: str, address: str) -> None:
    """Refuse before any hashing when the address or the account is over its limit."""
    for rule in (LOGIN_BURST, LOGIN_ADDRESS):
        by_address = await services.throttle.hit(rule, address)
        if not by_address.allowed:
            raise LoginRefused("too_many_attempts", 429, by_address.retry_after)
    by_account = await services.throttle.check(LOGIN_ACCOUNT, account)
    if not by_account.allowed:
        raise LoginRefused("too_many_attempts", 429, by_account.retry_after)


async def failed(services: Services, account: str) -> LoginRefused:
    await services.throttle.hit(LOGIN_ACCOUNT, account)
    return LoginRefused("wrong")


async def succeeded(services: Services, account: str, address: str) -> None:
    """A right login clears her account's count and does not count against her address."""
    await services.throttle.reset(LOGIN_ACCOUNT, account)
    for rule in (LOGIN_BURST, LOGIN_ADDRESS):
        await services.throttle.refund(rule, address)
