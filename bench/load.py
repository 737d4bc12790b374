"""Open-loop message load over groups of connections (a 1:1 pair is a group of two).

Every message has an intended send time on a fixed schedule. Latency is measured from that
time, not from when the generator got round to sending, so a generator (or server) that
falls behind cannot hide the delay (coordinated omission). How late the generator itself
was is recorded separately as `send_lag`.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from bench.client import Peer, clock, poll_until
from bench.servers import Usage, measuring
from bench.stats import Latencies, generator_verdict, kept_up, lateness_note

BODY = "Thank you for listening. I am not sure where to start, but I wanted to say hello tonight."

# The event loop's timers tick in milliseconds: a shorter sleep would spin and burn the
# generator's core, so at high rates messages go out in 1 ms batches (seen as send_lag).
MIN_SLEEP = 0.001

Frame = Callable[[int, str, str], bytes]


def message_frame(stream: int, client_id: str, body: str) -> bytes:
    """A 1:1 message as Willow reads it; the raw server relays the same bytes unchanged."""
    return orjson.dumps(
        {"type": "message", "conversation_id": stream, "client_id": client_id, "body": body}
    )


@dataclass
class Group:
    """Connections that all hear one stream; `senders` take turns writing to it."""

    members: list[Peer]
    stream: int
    senders: list[Peer] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.senders:
            self.senders = list(self.members)


async def open_loop(rate: float, seconds: float, send: Callable[[int, float], None]) -> int:
    """Call `send(k, intended_time)` for message k at `rate`/s; late calls keep their time."""
    total = max(1, round(rate * seconds))
    interval = 1.0 / rate
    start = clock() + 0.01
    k = 0
    while k < total:
        due = min(total, max(0, math.floor((clock() - start) / interval) + 1))
        while k < due:
            send(k, start + k * interval)
            k += 1
        if k < total:
            await asyncio.sleep(max(MIN_SLEEP, start + k * interval - clock()))
    return total


class MessageLoad:
    """Sends messages into groups on an open-loop schedule and checks every delivery."""

    def __init__(
        self,
        groups: list[Group],
        body: str = BODY,
        frame: Frame = message_frame,
        delivery: str = "message",
    ) -> None:
        self.groups: list[Group] = []
        self.delivery = delivery  # the event type a recipient gets for each message
        self.body = body
        self.frame = frame
        self.prefix = ""
        self.steps = 0
        # client_id -> [intended time, sender, deliveries still expected, actual send time]
        self.pending: dict[str, list[Any]] = {}
        self.latency = Latencies()
        self.from_send = Latencies()
        self.lag = Latencies()
        self.delivered = 0
        self.first_intended = 0.0
        self.last_delivery = 0.0
        self.acks = 0
        self.errors: Counter[str] = Counter()
        self.add(groups)

    def add(self, groups: list[Group]) -> None:
        """More conversations for the next step (a higher rate needs more senders)."""
        self.groups.extend(groups)
        for group in groups:
            for member in group.members:
                member.handler = self.on_event

    @property
    def peers(self) -> list[Peer]:
        return [m for g in self.groups for m in g.members]

    def on_event(self, peer: Peer, event: dict[str, Any], now: float) -> None:
        kind = event.get("type")
        if kind == self.delivery:
            client_id = event.get("client_id")
            entry = self.pending.get(client_id) if isinstance(client_id, str) else None
            if entry is None or entry[1] is peer:
                return  # the sender's own copy, or a straggler from an earlier step
            self.latency.add(now - entry[0])
            self.from_send.add(now - entry[3])
            self.delivered += 1
            self.last_delivery = now
            entry[2] -= 1
            if entry[2] <= 0:
                del self.pending[client_id]  # type: ignore[arg-type]
        elif kind == "ack":
            self.acks += 1
        elif kind == "error":
            self.errors[str(event.get("code"))] += 1

    def send_one(self, k: int, intended: float) -> None:
        groups = self.groups
        group = groups[k % len(groups)]
        sender = group.senders[(k // len(groups)) % len(group.senders)]
        client_id = f"{self.prefix}{k}"
        entry = [intended, sender, len(group.members) - 1, 0.0]
        self.pending[client_id] = entry
        # Each text differs: Willow refuses the same text a third time within a minute.
        sender.send_bytes(self.frame(group.stream, client_id, f"{self.body} {client_id}"))
        entry[3] = sent = clock()
        self.lag.add(sent - intended)

    def begin(self) -> None:
        self.steps += 1
        self.prefix = f"b{self.steps}-"
        self.pending.clear()
        self.latency = Latencies()
        self.from_send = Latencies()
        self.lag = Latencies()
        self.delivered = 0
        self.acks = 0
        self.errors.clear()
        self.first_intended = clock()
        self.last_delivery = self.first_intended

    async def drain(self, seconds: float) -> None:
        await poll_until(lambda: not self.pending, seconds, every=0.01)

    async def warm_up(self, rate: float, seconds: float, drain: float) -> None:
        self.begin()
        await open_loop(rate, seconds, self.send_one)
        await self.drain(drain)

    async def step(self, rate: float, seconds: float, drain: float, usage: Usage) -> dict[str, Any]:
        """One measured load step at `rate` messages/s."""
        peers = self.peers
        gaps0 = sum(p.seqs.missing for p in peers)
        repeats0 = sum(p.seqs.repeats for p in peers)
        self.begin()
        async with measuring(usage):
            sent = await open_loop(rate, seconds, self.send_one)
            await self.drain(drain)
            resources = usage.stop()
        undelivered = sum(int(entry[2]) for entry in self.pending.values())
        span = max(self.last_delivery - self.first_intended, 1e-6)
        latency = self.latency.summary()
        delivered_rate = self.delivered / span
        expected_per_message = (self.delivered + undelivered) / sent if sent else 0
        valid, note = generator_verdict(resources["generator_cpu"])  # type: ignore[arg-type]
        lag = self.lag.summary()
        note = note or lateness_note(lag.get("p99_ms"))
        return {
            "offered_rate": rate,
            "conversations": len(self.groups),
            "seconds": seconds,
            "sent": sent,
            "delivered": self.delivered,
            "undelivered": undelivered,
            "delivered_rate": round(delivered_rate, 1),
            "acks": self.acks,
            "errors": dict(self.errors),
            "seq_missing": sum(p.seqs.missing for p in peers) - gaps0,
            "seq_repeats": sum(p.seqs.repeats for p in peers) - repeats0,
            "latency": latency,
            # From when the message actually went out: apart from latency, the generator's delay.
            "latency_from_send": self.from_send.summary(),
            "send_lag": {"p50_ms": lag.get("p50_ms"), "p99_ms": lag.get("p99_ms")},
            **resources,
            "valid": valid,
            "note": note,
            "kept_up": kept_up(
                rate * expected_per_message, delivered_rate, undelivered, latency.get("p99_ms")
            ),
        }


async def ladder(
    load: MessageLoad,
    rates: tuple[int, ...] | list[int],
    step_seconds: float,
    warmup_seconds: float,
    drain_seconds: float,
    server_pids: list[int],
    grow: Callable[[int], Awaitable[None]] | None = None,
) -> list[dict[str, Any]]:
    """Rising rates until one step does not keep up or the generator saturates.

    `grow(rate)`, if given, adds the conversations a rate needs before its step starts.
    """
    if grow is not None:
        await grow(rates[0])
    if warmup_seconds > 0:
        await load.warm_up(rates[0], warmup_seconds, drain_seconds)
    steps = []
    for rate in rates:
        if grow is not None:
            await grow(rate)
        step = await load.step(rate, step_seconds, drain_seconds, Usage(server_pids))
        steps.append(step)
        if not step["kept_up"] or not step["valid"]:
            break
        await asyncio.sleep(0.3)
    return steps
