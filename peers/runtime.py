"""What the rooms keep per node: loaded data files, bans, and the connections held here.

The database is the truth about who is in which room. This node only remembers which of
those people are connected to it (to deliver news meant for one person, or to take her out
of a room's stream), her standing on each seat (mute, slow mode, sending history), and timers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson

from chat.core.hub import open_envelope
from chat.core.pipeline import Sending
from chat.core.services import Services
from chat.core.uow import Change
from moderation.directory import Directory
from moderation.loaded import Rules
from peers.bans import (
    DAY_SECONDS,
    AddressHasher,
    BanStore,
    MemoryBanStore,
    RedisBanStore,
    RedisKeyRing,
)
from peers.catalogue import Catalogue
from peers.schedule import Schedule

if TYPE_CHECKING:
    from chat.core.transport import Connection

log = logging.getLogger("willow.peers")

# News for one person or one node's share of a room (take her out, close the room) goes to
# every node on this channel; the node that holds the connection acts on it.
CONTROL_CHANNEL = "peers:control"

# Presence kinds (chat/core/presence.py, peers/presence.py): her seat, a room's mentors.
SEAT = "seat"
ROOM = "room"

Registry = dict[int, dict[int, "Connection"]]
ControlHandler = Callable[["RoomsRuntime", dict[str, Any]], Awaitable[None]]
# Control news that changes seats' standing, applied at once (not in a task), so she can
# never hear of a mute or a slow mode before her seat holds it. True when it was one.
StandingHandler = Callable[["RoomsRuntime", dict[str, Any]], bool]


@dataclass
class Tuning:
    """Timings and limits; tests shorten the waits."""

    # A dropped connection keeps her place this long, so a phone changing network does not
    # make her leave and join again in front of everyone.
    participant_grace_seconds: float = 20.0
    # A room stays open this long after its last mentor's connection drops.
    mentor_grace_seconds: float = 120.0
    max_pins: int = 3
    max_mute_minutes: int = 24 * 60
    # A ban is at most one key rotation long, so the address part holds for all of it.
    max_ban_minutes: int = DAY_SECONDS // 60
    max_slow_mode_seconds: int = 600


@dataclass
class Seat:
    """Her place in a room, as this connection holds it."""

    session_id: int
    room_id: str
    participant_id: int
    attach_id: str
    pseudonym: str
    # Keyed hashes of her network address made when she joined; the address itself is
    # never kept. Used only if a mentor bans her.
    address_hashes: tuple[str, ...] = ()
    # Her standing, held here so that her message needs no read before its write: read from
    # the database when she takes the seat, then kept current by the mentors' controls
    # through control news (from whichever node the mentor is on).
    muted_until: datetime | None = None
    slow_mode_seconds: int = 0
    last_message_at: datetime | None = None
    # Her rate history and recent acks for the message pipeline.
    sending: Sending = field(default_factory=Sending)

    @property
    def sender(self) -> str:
        return f"participant:{self.participant_id}"


@dataclass
class MentorSeat:
    session_id: int
    room_id: str


@dataclass
class RoomsRuntime:
    services: Services
    catalogue: Catalogue
    schedule: Schedule
    directory: Directory
    # The app's risk rules and word lists, loaded once from its settings by safeguarding.
    rules: Rules | None = None
    tuning: Tuning = field(default_factory=Tuning)
    # Connections on this node: participant id -> hers (two while a new one replaces an old
    # one), room session id -> its mentors'.
    # (Connections compare by value, so they are kept by identity.)
    participants: dict[int, dict[int, Connection]] = field(default_factory=dict)
    mentors: dict[int, dict[int, Connection]] = field(default_factory=dict)
    control_handler: ControlHandler | None = None
    standing_handler: StandingHandler | None = None
    _hasher: AddressHasher | None = None
    _bans: BanStore | None = None
    _listening: bool = False
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def sample_metrics(self) -> None:
        """People in rooms on this node, for /metrics."""
        members = self.services.metrics.room_members
        members.labels("participant").set(sum(len(held) for held in self.participants.values()))
        members.labels("mentor").set(sum(len(held) for held in self.mentors.values()))

    # --- bans: in the store every node shares when there is one, else this process ---------

    @property
    def hasher(self) -> AddressHasher:
        if self._hasher is None:
            store = self.services.broker.shared_store()
            if store is None:
                self._hasher = AddressHasher()
            else:
                prefix = self.services.settings.broker_prefix + "addrkey:"
                self._hasher = AddressHasher(RedisKeyRing(store, prefix=prefix))
        return self._hasher

    @property
    def bans(self) -> BanStore:
        if self._bans is None:
            store = self.services.broker.shared_store()
            if store is None:
                self._bans = MemoryBanStore()
            else:
                prefix = self.services.settings.broker_prefix + "ban:"
                self._bans = RedisBanStore(store, prefix=prefix)
        return self._bans

    # --- control news between nodes --------------------------------------------------------

    async def listen(self) -> None:
        """Subscribe this node to control news (once, at the first room connection)."""
        if not self._listening:
            self._listening = True
            await self.services.hub.listen(
                CONTROL_CHANNEL, lambda frame: self.on_control(open_envelope(frame)[4])
            )

    async def tell(self, message: dict[str, Any]) -> None:
        """Send control news to every node, this one included."""
        await self.services.publish(CONTROL_CHANNEL, message)

    def tell_after(self, tx: Change, message: dict[str, Any]) -> None:
        """Send control news to every node once `tx` has committed."""
        tx.announce(CONTROL_CHANNEL, message)

    def on_control(self, text: str) -> None:
        try:
            message = orjson.loads(text)
        except orjson.JSONDecodeError:
            log.warning("ignored a control message that is not JSON")
            return
        if not isinstance(message, dict):
            return
        if self.standing_handler is not None and self.standing_handler(self, message):
            return
        if self.control_handler is not None:
            self.spawn(self.control_handler(self, message))

    # --- which connections this node holds -----------------------------------------------

    def attach(self, registry: Registry, key: int, connection: Connection) -> None:
        registry.setdefault(key, {})[id(connection)] = connection

    def detach(self, registry: Registry, key: int, connection: Connection) -> None:
        held = registry.get(key)
        if held is not None:
            held.pop(id(connection), None)
            if not held:
                del registry[key]

    @staticmethod
    def held(registry: Registry, key: int) -> list[Connection]:
        return list(registry.get(key, {}).values())

    # --- background work -------------------------------------------------------------------

    def spawn(self, work: Awaitable[object]) -> None:
        async def run() -> None:
            try:
                await work
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("rooms background task failed")

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def later(self, seconds: float, work: Callable[[], Awaitable[object]]) -> None:
        async def wait_then() -> None:
            await asyncio.sleep(seconds)
            await work()

        self.spawn(wait_then())
