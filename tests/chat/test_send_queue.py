"""A socket's send queue: frames go out at once and in order, wait behind a full socket
without holding anyone else up, and a socket that stays full is cut off at the queue's bound.

The socket here is a stand-in for the server's ASGI send, which (like uvicorn's) waits while
the socket's buffer is full; tests/chat/test_protocol.py shows the same through a real server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from chat.core.hub import Member


class Socket:
    """Writes what it is sent; while `full`, a send waits until it drains."""

    def __init__(self) -> None:
        self.written: list[str] = []
        self.writable = asyncio.Event()
        self.writable.set()
        self.broken = False
        self.failures = 0

    async def send(self, text: str) -> None:
        await self.writable.wait()
        if self.broken:
            raise OSError("the client went away")
        self.written.append(text)

    def failed(self) -> None:
        self.failures += 1


def _member(limit: int = 8) -> tuple[Member, Socket]:
    async def fetch_after(*_args: object) -> list[tuple[int, str]]:
        return []

    member, socket = Member(limit, fetch_after), Socket()
    member.queue.attach(socket.send, socket.failed)
    return member, socket


async def _until(done: Callable[[], bool], within: float = 5.0) -> None:
    async def poll() -> None:
        while not done():  # noqa: ASYNC110 (a condition on plain state, not an event)
            await asyncio.sleep(0.001)

    await asyncio.wait_for(poll(), within)


async def test_a_frame_offered_to_a_writable_socket_is_written_before_the_call_returns() -> None:
    member, socket = _member()
    for text in ("one", "two", "three"):
        member.offer(text)
    # Nothing was awaited: each frame went out in the offering call itself.
    assert socket.written == ["one", "two", "three"]
    assert member.queue.empty()


async def test_frames_wait_in_order_behind_a_full_socket_and_go_out_when_it_drains() -> None:
    member, socket = _member()
    socket.writable.clear()
    for n in range(5):
        member.offer(f"m{n}")
    assert socket.written == []
    assert member.queue.qsize() == 4  # the first is under way, waiting for the socket
    await asyncio.sleep(0.01)  # the task that finishes it is waiting too
    socket.writable.set()
    await _until(lambda: len(socket.written) == 5)
    assert socket.written == [f"m{n}" for n in range(5)]
    # Drained: the next frame goes straight out again.
    member.offer("after")
    assert socket.written[-1] == "after"
    assert not member.overflowed


async def test_a_socket_full_for_longer_than_the_queue_holds_is_cut_off_not_waited_for() -> None:
    member, socket = _member(limit=4)
    overflowed: list[bool] = []
    member.on_overflow = lambda: overflowed.append(True)
    socket.writable.clear()
    for n in range(5):  # one under way and four queued: the queue is full, not over
        member.offer(f"m{n}")
    assert not member.overflowed
    member.offer("one too many")
    assert member.overflowed and overflowed == [True]
    assert member.queue.qsize() == 4


async def test_a_send_that_fails_ends_the_connection_once() -> None:
    member, socket = _member()
    socket.broken = True
    member.offer("lost")
    member.offer("also lost")
    assert socket.failures == 1
    assert socket.written == []


async def test_a_send_that_fails_after_waiting_ends_the_connection_once() -> None:
    member, socket = _member()
    socket.writable.clear()
    member.offer("first")
    member.offer("second")
    await asyncio.sleep(0.01)
    socket.broken = True
    socket.writable.set()
    await _until(lambda: socket.failures == 1)
    await asyncio.sleep(0.01)
    assert socket.failures == 1
    assert socket.written == []


async def test_frames_offered_before_the_socket_is_attached_go_out_first_in_order() -> None:
    async def fetch_after(*_args: object) -> list[tuple[int, str]]:
        return []

    member, socket = Member(8, fetch_after), Socket()
    member.offer("welcome")
    member.offer("queue")
    member.queue.attach(socket.send, socket.failed)
    member.offer("message")
    await _until(lambda: len(socket.written) == 3)
    assert socket.written == ["welcome", "queue", "message"]


async def test_a_detached_queue_writes_nothing_more() -> None:
    member, socket = _member()
    socket.writable.clear()
    member.offer("under way")
    member.offer("queued")
    member.queue.detach()
    socket.writable.set()
    await asyncio.sleep(0.05)
    assert socket.written == []
    assert socket.failures == 0


class DirectSocket(Socket):
    """A server that can also write a frame at once, when its buffer takes it."""

    def __init__(self) -> None:
        super().__init__()
        self.direct = 0

    def write(self, text: str) -> bool:
        if not self.writable.is_set():
            return False
        if self.broken:
            raise OSError("the client went away")
        self.written.append(text)
        self.direct += 1
        return True


async def test_a_direct_writer_takes_frames_while_the_socket_takes_them_and_keeps_the_order() -> (
    None
):
    async def fetch_after(*_args: object) -> list[tuple[int, str]]:
        return []

    member, socket = Member(8, fetch_after), DirectSocket()
    member.queue.attach(socket.send, socket.failed, socket.write)
    member.offer("a")
    assert socket.written == ["a"] and socket.direct == 1
    socket.writable.clear()
    member.offer("b")
    member.offer("c")
    socket.writable.set()
    member.offer("d")
    await _until(lambda: len(socket.written) == 4)
    assert socket.written == ["a", "b", "c", "d"]
    assert socket.direct == 1  # b waited for the socket; c and d queued behind it
    await _until(lambda: member.queue.empty())
    member.offer("e")
    assert socket.written[-1] == "e" and socket.direct == 2


async def test_a_direct_write_that_fails_ends_the_connection_once() -> None:
    async def fetch_after(*_args: object) -> list[tuple[int, str]]:
        return []

    member, socket = Member(8, fetch_after), DirectSocket()
    member.queue.attach(socket.send, socket.failed, socket.write)
    socket.broken = True
    member.offer("a")
    member.offer("b")
    await asyncio.sleep(0.01)
    assert socket.failures == 1 and socket.written == []
