"""Raising a supervisor alert from any feature.

Safeguarding keeps alerts until a supervisor acknowledges them
(moderation/safeguarding/alert_store.py) and installs an `AlertKeeper` that does so; a feature
below it in the layers (the helpline's "I am in danger now") raises its alert through here, so
every alert is kept the same way. Without a keeper the alert is only announced.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from chat.core.channels import SUPERVISORS_CHANNEL
from chat.core.services import Services
from chat.core.uow import Change


@dataclass(frozen=True)
class AlertKeeper:
    keep: Callable[[Change, int, dict[str, Any]], Awaitable[None]]


async def raise_alert(
    services: Services, tx: Change, stream_id: int, payload: dict[str, Any]
) -> None:
    """Raise a supervisor alert in this unit of work; supervisors hear of it after commit."""
    keeper = services.features.find(AlertKeeper)
    if keeper is not None:
        await keeper.keep(tx, stream_id, payload)
    else:
        tx.announce(SUPERVISORS_CHANNEL, payload)
