"""Each node's hub: receives news once per channel and puts the same text on every local queue.

Events that belong to a stream (a conversation or a room) carry the stream id and an
increasing `seq` in a small envelope header, so the hub never parses the JSON body. A
connection keeps the last `seq` it was given per stream: a repeat is dropped, and a gap (news
that overtook other news) is filled from the database before anything later is let through.
So a member receives every event of a stream in order, exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import orjson

from chat.core import outages
from chat.core.broker import Broker
from chat.core.metrics import Metrics

log = logging.getLogger("willow.hub")

# Reads the stored events of a stream after a seq that a reader may see, in order, as
# (seq, encoded text); the flag says whether the reader is staff, the set who she is (for
# events addressed to one person).
FetchAfter = Callable[[int, int, bool, frozenset[str]], Awaitable[list[tuple[int, str]]]]

_NO_STREAM = b"-"
_STAFF_ONLY = b"s"
_ONE = b"o"


def stream_channel(stream_id: int) -> str:
    return f"s:{stream_id}"


def envelope(
    payload: dict[str, object],
    stream_id: int | None = None,
    seq: int | None = None,
    staff_only: bool = False,
    to: str | None = None,
) -> bytes:
    """Encode an event once, with the header the hub reads instead of the body.

    `to` names the one reader an event is for (she alone sees it; others count its seq).
    """
    body = orjson.dumps(payload)
    if stream_id is None or seq is None:
        return _NO_STREAM + b"\n" + body
    audience = f" o {to}" if to is not None else " s" if staff_only else ""
    return f"{stream_id} {seq}{audience}\n".encode() + body


def open_envelope(message: bytes) -> tuple[int | None, int | None, bool, str | None, str]:
    """(stream id, seq, staff only, the one reader it is for, text) from what `envelope` made."""
    header, _, body = message.partition(b"\n")
    if header == _NO_STREAM:
        return None, None, False, None, body.decode()
    parts = header.split(b" ")
    if len(parts) == 4 and parts[2] == _ONE:
        return int(parts[0]), int(parts[1]), False, parts[3].decode(), body.decode()
    return int(parts[0]), int(parts[1]), parts[-1] == _STAFF_ONLY, None, body.decode()


# A member's view of one stream event: its seq and the text to send, or None when the event
# is not for this member (staff only) but still counts in the order.
Pending = tuple[int, str | None]


# Sends one text frame on the socket (the ASGI `websocket.send`, as a coroutine).
SendText = Callable[[str], Coroutine[Any, Any, None]]
# Writes one text frame at once if the socket takes it without waiting; False if it does not.
WriteText = Callable[[str], bool]


class SendQueue:
    """A bounded queue of frames for one socket, and (once `attach`ed) its sender.

    Lighter than asyncio.Queue, which holds three deques from the start: an idle connection
    here holds no deque at all (it is made for a burst and dropped when drained) and at most
    one waiter, which matters at tens of thousands of idle connections (bench: idle).

    Attached to a socket, a frame offered while nothing is queued is written at once, in the
    caller's turn of the event loop, rather than handed to a writer task to wake: the server's
    send completes without waiting unless the socket's buffer is full (the client reads
    slowly). Only then does a task finish that send and write whatever queued meanwhile, in
    order; the queue's bound still cuts off a client that does not catch up. So an idle socket
    has no writer task, and a delivery costs no task switch (bench: rooms, per CPU-second).
    """

    __slots__ = ("_failed", "_getter", "_items", "_room", "_send", "_sending", "_write", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: deque[str] | None = None
        self._getter: asyncio.Future[None] | None = None
        self._room: asyncio.Future[None] | None = None
        self._send: SendText | None = None
        # Writes a frame at once if the socket takes it without waiting (False: it does not).
        self._write: WriteText | None = None
        # The task finishing a send that had to wait, and then writing what queued meanwhile.
        self._sending: asyncio.Task[None] | None = None
        # Told once when a send fails (the socket is gone): the connection ends.
        self._failed: Callable[[], None] | None = None

    def qsize(self) -> int:
        return len(self._items) if self._items is not None else 0

    def empty(self) -> bool:
        return self._items is None

    def attach(
        self, send: SendText, failed: Callable[[], None], write: WriteText | None = None
    ) -> None:
        """Write frames on a socket from now on (what queued before goes first); `write`, when
        the server has it, writes a frame without a coroutine when the socket takes it."""
        self._send, self._failed, self._write = send, failed, write
        if self._items is not None and self._sending is None:
            self._sending = asyncio.get_running_loop().create_task(self._drain())

    def detach(self) -> None:
        """Stop writing (the socket is closing): what is queued stays unsent."""
        self._send = self._failed = self._write = None
        if self._sending is not None:
            self._sending.cancel()
            self._sending = None

    def put_nowait(self, text: str) -> bool:
        """Queue (or write) `text`; False, and nothing queued, when the queue is full."""
        items = self._items
        if items is None:
            if self._send is not None and self._sending is None:
                self._write_now(text)
                return True
            items = self._items = deque()
        elif len(items) >= self.limit:
            return False
        items.append(text)
        getter = self._getter
        if getter is not None and not getter.done():
            getter.set_result(None)
        return True

    async def put(self, text: str) -> None:
        """Queue `text`, waiting for room first."""
        while self.qsize() >= self.limit:
            if self._room is None or self._room.done():
                self._room = asyncio.get_running_loop().create_future()
            await self._room
        self.put_nowait(text)

    async def get(self) -> str:
        """The next frame (only while no socket is attached: tests read a member this way)."""
        while self._items is None:
            self._getter = asyncio.get_running_loop().create_future()
            try:
                await self._getter
            finally:
                self._getter = None
        return self._pop()

    def _pop(self) -> str:
        assert self._items is not None
        text = self._items.popleft()
        if not self._items:
            self._items = None
        room = self._room
        if room is not None and not room.done():
            room.set_result(None)
        return text

    def _write_now(self, text: str) -> None:
        """Run the send up to its first wait, here: it usually completes without one."""
        assert self._send is not None
        write = self._write
        if write is not None:
            try:
                if write(text):
                    return
            except Exception as problem:
                self._fail(problem)
                return
        send = self._send(text)
        try:
            waiting_on = send.send(None)
        except StopIteration:
            return
        except Exception as problem:
            self._fail(problem)
            return
        self._sending = asyncio.get_running_loop().create_task(self._drain(send, waiting_on))

    async def _drain(
        self, send: Coroutine[Any, Any, None] | None = None, waiting_on: Any = None
    ) -> None:
        try:
            if send is not None:
                await _finish(send, waiting_on)
            while self._items is not None and self._send is not None:
                await self._send(self._pop())
        except asyncio.CancelledError:
            raise
        except Exception as problem:
            self._fail(problem)
        finally:
            if self._sending is asyncio.current_task():
                self._sending = None

    def _fail(self, problem: Exception) -> None:
        """The socket is gone (or the server refused the frame): the connection ends."""
        if not isinstance(problem, OSError | RuntimeError):
            # Not the socket closing under us (uvicorn's ClientDisconnected is an OSError).
            log.warning("writing a frame failed: %s", type(problem).__name__)
        failed, self._failed, self._send, self._write = self._failed, None, None, None
        if failed is not None:
            failed()


async def _finish(send: Coroutine[Any, Any, None], waiting_on: Any) -> None:
    """Go on with a coroutine that was started by hand (`send.send(None)`) and is now waiting
    on `waiting_on` (what it yielded: a future, or None for a bare yield), as a task would."""
    try:
        while True:
            if waiting_on is None:
                await asyncio.sleep(0)
            else:
                # What a task does with a future its coroutine yields: take it on (a future
                # still marked as yielded refuses a second `await`), then wait for it.
                waiting_on._asyncio_future_blocking = False
                # Its outcome is the send's to see when it goes on.
                with contextlib.suppress(Exception):
                    try:
                        await waiting_on
                    except asyncio.CancelledError:
                        if not waiting_on.cancelled():
                            raise  # this task was cancelled, not what the send waited on
            waiting_on = send.send(None)
    except StopIteration:
        return
    finally:
        send.close()


class Member:
    """One local websocket: a bounded send queue and what it has been sent so far."""

    __slots__ = (
        "_catching_up",
        "_fetch_after",
        "_tasks",
        "identities",
        "last_seq",
        "on_overflow",
        "overflowed",
        "queue",
        "staff",
    )

    def __init__(
        self,
        queue_size: int,
        fetch_after: FetchAfter,
        staff: bool = False,
        on_overflow: Callable[[], None] | None = None,
    ) -> None:
        self.queue = SendQueue(queue_size)
        # Set once the queue overflowed: the member is too slow and is being cut off.
        self.overflowed = False
        self.on_overflow = on_overflow
        self.staff = staff
        # Who this reader is, for events addressed to one person (e.g. "participant:17").
        self.identities: set[str] = set()
        self.last_seq: dict[int, int] = {}
        self._fetch_after = fetch_after
        self._catching_up: dict[int, list[Pending]] = {}
        # Catch-up tasks under way (made on first use: most sockets never need one).
        self._tasks: set[asyncio.Task[None]] | None = None

    def offer(self, text: str) -> None:
        """Queue without waiting; a member too slow to keep up is disconnected, not awaited."""
        if self.overflowed:
            return
        if not self.queue.put_nowait(text):
            self.overflow()

    def overflow(self) -> None:
        if self.overflowed:
            return
        self.overflowed = True
        if self.on_overflow is not None:
            self.on_overflow()

    def deliver(
        self,
        stream_id: int | None,
        seq: int | None,
        text: str,
        staff_only: bool = False,
        to: str | None = None,
    ) -> None:
        if stream_id is None or seq is None:
            self.offer(text)
            return
        hidden = (staff_only and not self.staff) or (to is not None and to not in self.identities)
        visible: str | None = None if hidden else text
        pending = self._catching_up.get(stream_id)
        if pending is not None:
            pending.append((seq, visible))
            return
        last = self.last_seq.get(stream_id)
        if last is None or seq <= last:
            return
        if seq == last + 1:
            self.last_seq[stream_id] = seq
            if visible is not None:
                self.offer(visible)
            return
        self.catch_up(stream_id, last, [(seq, visible)])

    def catch_up(
        self, stream_id: int, after_seq: int, pending: list[Pending] | None = None
    ) -> asyncio.Task[None]:
        """Send what is stored after `after_seq`, then let live news through again."""
        self.last_seq[stream_id] = after_seq
        self._catching_up[stream_id] = pending or []
        task = asyncio.create_task(self._catch_up(stream_id))
        if self._tasks is None:
            self._tasks = set()
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _catch_up(self, stream_id: int) -> None:
        try:
            for _attempt in range(5):
                stored = await self._fetch_after(
                    stream_id, self.last_seq[stream_id], self.staff, frozenset(self.identities)
                )
                for seq, text in stored:
                    # The database is the truth: a seq it skips is one this member may not see.
                    if seq > self.last_seq[stream_id]:
                        self.last_seq[stream_id] = seq
                        # Our own replay may wait for room; only live fan-out must never wait.
                        await self.queue.put(text)
                if self._drain_pending(stream_id):
                    return
            log.warning("stream %s: gap could not be filled; continuing", stream_id)
            self._catching_up.pop(stream_id, None)
        except Exception as problem:
            outages.failed_with(problem, log, "catch-up failed")
            # Cut off: she reconnects and resumes from what she has.
            self.overflow()

    def _drain_pending(self, stream_id: int) -> bool:
        pending = sorted(self._catching_up[stream_id], key=lambda item: item[0])
        last = self.last_seq[stream_id]
        for index, (seq, text) in enumerate(pending):
            if seq <= last:
                continue
            if seq != last + 1:
                self.last_seq[stream_id] = last
                self._catching_up[stream_id] = pending[index:]
                return False
            last = seq
            if text is not None:
                self.offer(text)
        self.last_seq[stream_id] = last
        del self._catching_up[stream_id]
        return True

    def resync(self) -> None:
        for stream_id, last in list(self.last_seq.items()):
            if stream_id not in self._catching_up:
                self.catch_up(stream_id, last)

    def close(self) -> None:
        for task in list(self._tasks or ()):
            task.cancel()


class JoinFailed(ConnectionError):
    """The node could not subscribe to a channel (the broker is away): the client is told to
    reconnect, and resumes from the database when it does."""

    def __init__(self, channel: str) -> None:
        super().__init__(f"could not subscribe to {channel}")
        self.channel = channel


class Hub:
    """Local fan-out for one node; subscribes to a broker channel while any member needs it."""

    def __init__(self, broker: Broker, metrics: Metrics | None = None) -> None:
        self.broker = broker
        self.metrics = metrics or Metrics()
        self._members: dict[str, set[Member]] = {}
        # Channels this node itself reads (domain events), rather than its members.
        self._listeners: dict[str, Callable[[bytes], None]] = {}
        # What a feature keeps from news between nodes (a room seat's standing) is read
        # again from the database after a resync.
        self._after_resync: list[Callable[[], None]] = []
        # Channels whose subscribe is under way; joiners meanwhile wait for its outcome.
        self._subscribing: dict[str, asyncio.Future[None]] = {}
        broker.set_handler(self._on_message)
        broker.set_reconnect_handler(self.resync)

    def resync(self) -> None:
        """News between nodes may have been lost: every local member catches up."""
        self.metrics.broker_reconnects.inc()
        for member in {m for members in self._members.values() for m in members}:
            member.resync()
        for refresh in self._after_resync:
            refresh()

    def after_resync(self, refresh: Callable[[], None]) -> None:
        self._after_resync.append(refresh)

    def _on_message(self, channel: str, message: bytes) -> None:
        listener = self._listeners.get(channel)
        if listener is not None:
            listener(message)
            return
        members = self._members.get(channel)
        if not members:
            return
        stream_id, seq, staff_only, to, text = open_envelope(message)
        self.metrics.deliveries.inc(len(members))
        for member in tuple(members):
            member.deliver(stream_id, seq, text, staff_only, to)

    async def listen(self, channel: str, listener: Callable[[bytes], None]) -> None:
        """Hand every message on `channel` to `listener`, for as long as the node runs."""
        if channel in self._listeners:
            raise ValueError(f"channel {channel!r} already has a listener")
        self._listeners[channel] = listener
        await self.broker.subscribe(channel)

    async def join(self, channel: str, member: Member) -> None:
        """Add `member` to `channel` once this node is subscribed to it, or raise JoinFailed
        with nothing left behind (a member half joined would never hear the channel)."""
        members = self._members.get(channel)
        if members is not None:
            members.add(member)
            pending = self._subscribing.get(channel)
            if pending is not None:
                # Someone else's subscribe is under way: this join stands or falls with it.
                try:
                    await asyncio.shield(pending)
                except JoinFailed:
                    members.discard(member)
                    raise
            return
        members = self._members[channel] = {member}
        pending = self._subscribing[channel] = asyncio.get_running_loop().create_future()
        try:
            await self.broker.subscribe(channel)
        except BaseException as problem:
            if self._members.get(channel) is members:
                del self._members[channel]
            pending.set_exception(JoinFailed(channel))
            pending.exception()  # retrieved: the joiners that waited have raised it
            if isinstance(problem, Exception):
                raise JoinFailed(channel) from problem
            raise
        else:
            pending.set_result(None)
        finally:
            del self._subscribing[channel]

    async def leave(self, channel: str, member: Member) -> None:
        members = self._members.get(channel)
        if members is None:
            return
        members.discard(member)
        if not members:
            del self._members[channel]
            try:
                await self.broker.unsubscribe(channel)
            except Exception as problem:
                # The broker is away: the subscription goes with its connection, or is renewed
                # on reconnect and then carries news for nobody here, which is dropped.
                outages.failed_with(problem, log, "unsubscribing failed")

    async def join_stream(self, stream_id: int, member: Member, after_seq: int) -> None:
        """Subscribe first, then replay from the database, so nothing falls between the two."""
        await self.join(stream_channel(stream_id), member)
        await member.catch_up(stream_id, after_seq)

    async def publish(self, channel: str, message: bytes) -> None:
        with self.metrics.timing_broker():
            await self.broker.publish(channel, message)

    async def publish_many(self, messages: list[tuple[str, bytes]]) -> None:
        with self.metrics.timing_broker():
            await self.broker.publish_many(messages)

    def member_count(self) -> int:
        return len({m for members in self._members.values() for m in members})

    def has_members(self) -> bool:
        """Anyone here at all (a channel is dropped when its last member leaves), without
        counting thousands of members."""
        return bool(self._members)
