"""What every action needs: settings, database, broker and this node's hub, built once per app."""

from __future__ import annotations

from dataclasses import dataclass

from chat.broker import Broker, broker_from_url
from chat.db import Database
from chat.hub import Hub, envelope
from chat.settings import Settings
from chat.streams import fetch_after


@dataclass
class Services:
    settings: Settings
    db: Database
    broker: Broker
    hub: Hub

    @classmethod
    def build(cls, settings: Settings) -> Services:
        broker = broker_from_url(settings.broker_url, prefix=settings.broker_prefix)
        return cls(
            settings=settings, db=Database(settings.database_url), broker=broker, hub=Hub(broker)
        )

    async def fetch_after(
        self, stream_id: int, after_seq: int, staff: bool
    ) -> list[tuple[int, str]]:
        return await fetch_after(self.db, stream_id, after_seq, staff)

    async def publish(
        self,
        channel: str,
        payload: dict[str, object],
        stream_id: int | None = None,
        seq: int | None = None,
        staff_only: bool = False,
    ) -> None:
        await self.hub.publish(channel, envelope(payload, stream_id, seq, staff_only))
