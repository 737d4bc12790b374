"""The broker carries news between nodes: `memory://` in one process, `redis://` across several.

A broker delivers each published message once per node to one handler, the node's hub; the
hub does the fan-out to local connections (chat/core/hub.py), so that is written once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from chat.core.outages import BROKER, OUTAGES

log = logging.getLogger("willow.broker")

Handler = Callable[[str, bytes], None]


class Broker(ABC):
    def __init__(self) -> None:
        self._handler: Handler | None = None
        self._on_reconnect: Callable[[], None] | None = None

    def set_handler(self, handler: Handler) -> None:
        self._handler = handler

    def set_reconnect_handler(self, handler: Callable[[], None]) -> None:
        """Called when news may have been missed: the subscriber was reconnected."""
        self._on_reconnect = handler

    def _deliver(self, channel: str, message: bytes) -> None:
        if self._handler is not None:
            self._handler(channel, message)

    async def connect(self) -> None:  # noqa: B027 (optional hook, not abstract)
        """Open connections; called once at start."""

    async def close(self) -> None:  # noqa: B027 (optional hook, not abstract)
        """Release connections; called once at shutdown."""

    @abstractmethod
    async def publish(self, channel: str, message: bytes) -> None: ...

    async def publish_many(self, messages: list[tuple[str, bytes]]) -> None:
        """Publish several messages, in order."""
        for channel, message in messages:
            await self.publish(channel, message)

    @abstractmethod
    async def subscribe(self, channel: str) -> None: ...

    @abstractmethod
    async def unsubscribe(self, channel: str) -> None: ...

    async def ping(self) -> bool:
        return True

    def shared_store(self) -> aioredis.Redis | None:
        """A key store with expiry that every node sees (bans, counters), once connected; None
        when this process is the only node, so its memory is already shared."""
        return None


class MemoryBroker(Broker):
    """One process: publishing is delivering."""

    def __init__(self) -> None:
        super().__init__()
        self._channels: set[str] = set()

    async def publish(self, channel: str, message: bytes) -> None:
        if channel in self._channels:
            self._deliver(channel, message)

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)


# How long a join waits for the subscriber connection to be renewed after Redis was lost.
JOIN_WAIT_SECONDS = 2.0


class RedisBroker(Broker):
    """Redis pub/sub: one subscriber connection per node, channels added as local members join."""

    def __init__(self, url: str, prefix: str = "willow:") -> None:
        super().__init__()
        self._url = url
        self._prefix = prefix
        self._redis: aioredis.Redis | None = None
        self._pubsub: aioredis.client.PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        # The channels this node listens to, to subscribe a new connection to; the lock keeps
        # a subscribe from landing on a connection that is being replaced.
        self._channels: set[str] = set()
        self._channels_lock = asyncio.Lock()
        # Cleared while the subscriber connection is lost: a join waits a moment for the new
        # one (Redis may be back already) and then fails (its client reconnects), rather than
        # reconnect the lost one itself.
        self._listening = asyncio.Event()

    @property
    def redis(self) -> aioredis.Redis:
        if self._redis is None:
            raise RuntimeError("the Redis broker is not connected")
        return self._redis

    async def connect(self) -> None:
        # A pooled connection may have gone stale while Redis restarted: retry once on a new one
        # rather than fail a message that is already stored.
        self._redis = aioredis.from_url(
            self._url,
            retry=Retry(ExponentialBackoff(cap=0.5), retries=2),
            retry_on_error=[RedisConnectionError, RedisTimeoutError],
        )
        await self._redis.ping()
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        # A pub/sub connection needs one subscription before it can be read.
        await self._pubsub.subscribe(self._prefix + "_node")
        self._listening.set()
        self._reader = asyncio.create_task(self._read(), name="willow-redis-reader")

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._pubsub is not None:
            await self._pubsub.aclose()
        if self._redis is not None:
            await self._redis.aclose()

    async def _read(self) -> None:
        assert self._pubsub is not None
        cut = len(self._prefix)
        lost = False
        while True:
            try:
                if lost:
                    # Only once Redis answers again (a connect may return at once, before
                    # it is back): a new connection, subscribed to every channel, catch up.
                    await self.redis.ping()
                    await self._renew_pubsub()
                    lost = False
                    self._listening.set()
                    OUTAGES.back(BROKER)
                    if self._on_reconnect is not None:
                        self._on_reconnect()
                async for item in self._pubsub.listen():
                    if item["type"] == "message":
                        self._deliver(item["channel"].decode()[cut:], item["data"])
            except asyncio.CancelledError:
                raise
            except Exception as problem:
                # Losing Redis for a moment must not kill the node; clients resume from the
                # database once news flows again. An outage is one line, not one per retry.
                OUTAGES.report(problem, log, "redis subscriber failed; retrying")
                lost = True
                self._listening.clear()
                await asyncio.sleep(0.5)

    async def _renew_pubsub(self) -> None:
        """Replace the subscriber connection rather than reconnect it: a join's subscribe may
        be reconnecting the old one at the same moment, and two coroutines reading one
        connection leave it broken for good (every later read fails)."""
        async with self._channels_lock:
            old = self._pubsub
            fresh = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await fresh.subscribe(self._prefix + "_node", *self._channels)
            except BaseException:
                await fresh.aclose()
                raise
            self._pubsub = fresh
        if old is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(old.aclose(), 2)

    async def publish(self, channel: str, message: bytes) -> None:
        await self.redis.publish(self._prefix + channel, message)

    async def publish_many(self, messages: list[tuple[str, bytes]]) -> None:
        if len(messages) == 1:
            await self.publish(*messages[0])
            return
        # One round trip for the batch; Redis keeps the order of a pipeline's commands.
        async with self.redis.pipeline(transaction=False) as pipe:
            for channel, message in messages:
                pipe.publish(self._prefix + channel, message)
            await pipe.execute()

    async def subscribe(self, channel: str) -> None:
        if not self._listening.is_set():
            try:
                await asyncio.wait_for(self._listening.wait(), JOIN_WAIT_SECONDS)
            except TimeoutError:
                raise RedisConnectionError("the redis subscriber connection is lost") from None
        async with self._channels_lock:
            assert self._pubsub is not None
            await self._pubsub.subscribe(self._prefix + channel)
            self._channels.add(self._prefix + channel)

    async def unsubscribe(self, channel: str) -> None:
        async with self._channels_lock:
            assert self._pubsub is not None
            self._channels.discard(self._prefix + channel)
            await self._pubsub.unsubscribe(self._prefix + channel)

    async def ping(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except Exception:
            return False

    def shared_store(self) -> aioredis.Redis:
        return self.redis


def broker_from_url(url: str, prefix: str = "willow:") -> Broker:
    if url.startswith("memory://"):
        return MemoryBroker()
    if url.startswith(("redis://", "rediss://")):
        return RedisBroker(url, prefix=prefix)
    raise ValueError(f"unknown broker URL scheme: {url.split(':', 1)[0]}")
