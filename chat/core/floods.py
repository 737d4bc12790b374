"""Limits that keep one person or one network from flooding what others share.

Per visitor session (so a fresh socket does not start her count again) and per network
address (so thousands of sessions from one place do not fill the queue or a room), counted
by keyed hash in chat/core/throttle.py. Per-address limits read the address a named proxy
forwarded (chat/core/addresses.py); the settings can switch each off (0).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chat.core.protocol import ProtocolError
from chat.core.throttle import Rule

if TYPE_CHECKING:
    from chat.core.services import Services

HOUR = 3600
# Per visitor session.
QUEUE_JOINS = Rule("queue-join", limit=5, window=600)
ROOM_JOINS = Rule("room-join", limit=20, window=600)
# As many as the default 1:1 and room limits let one socket send, for the session as a whole.
MESSAGES = Rule("message", limit=8, window=10, hash_kept=True)
# Typing news relayed per session and place: what a person can type, not what a script can.
TYPING = Rule("typing", limit=3, window=2)


def per_address(bucket: str, per_hour: int) -> Rule | None:
    return Rule(bucket, limit=per_hour, window=HOUR) if per_hour > 0 else None


async def allow(services: Services, rule: Rule | None, identity: str | None) -> int | None:
    """None if allowed (or not limited), else the seconds until it is."""
    if rule is None or identity is None:
        return None
    verdict = await services.throttle.hit(rule, identity)
    return None if verdict.allowed else verdict.retry_after


async def require(
    services: Services, ref: str, checks: list[tuple[Rule | None, str | None]]
) -> None:
    """Raise `too_many` (with `retry_after`) if any of the checks is over its limit."""
    for rule, identity in checks:
        wait = await allow(services, rule, identity)
        if wait is not None:
            raise ProtocolError("too_many", ref=ref, extra={"retry_after": wait})
