"""How big and how long each scenario runs: a short run for every day, a full run for the report."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    step_seconds: float  # one measured load step
    warmup_seconds: float
    drain_seconds: float  # longest wait for stragglers after a step's last send
    # 1:1 conversations with persistence, Willow and the raw server
    pairs: int
    one_to_one_rates: tuple[int, ...]  # offered messages/s, rising until one does not keep up
    raw_rates: tuple[int, ...]
    # group rooms: member counts, and offered deliveries/s (messages/s times listeners)
    room_sizes: tuple[int, ...]
    room_delivery_rates: tuple[int, ...]
    room_members_total: int  # rooms of one size together hold about this many members
    # two nodes over Redis and PostgreSQL
    two_node_pairs: int
    two_node_rate: int
    redis_requests: int
    # 1% of clients stop reading
    stalled_pairs: int
    stalled_rate: int
    stalled_flood_rate: int  # messages/s into each stalled client's conversation
    stalled_body_bytes: int  # Willow refuses conversation messages over 4,000 characters
    stalled_queue_size: int  # WILLOW_SEND_QUEUE_SIZE for this scenario (Willow's default: 256)
    # Each phase; a stalled socket only pushes back once the kernel holds ~4 MiB for it
    # (Linux tcp_wmem), so seeing the cut-off needs more than that offered per stalled client.
    stalled_seconds: float
    # reconnect storm
    reconnect_pairs: int
    reconnect_rate: int
    # idle connections
    idle_connections: int
    # queue routing: arrivals/s, advisers taking chats as they come
    routing_rates: tuple[int, ...]
    routing_advisers: int
    # a surge: women joining at 50/s while every adviser is full (bench/scenarios/surge.py)
    surge_women: int
    surge_advisers: int


SHORT = Profile(
    name="short",
    step_seconds=3.0,
    warmup_seconds=1.0,
    drain_seconds=3.0,
    pairs=100,
    one_to_one_rates=(100, 250, 500, 1000, 2000, 5000),
    raw_rates=(1000, 2000, 4000, 8000, 16000),
    room_sizes=(10, 50, 200),
    room_delivery_rates=(5_000, 15_000, 30_000),
    room_members_total=200,
    two_node_pairs=40,
    two_node_rate=50,
    redis_requests=20_000,
    stalled_pairs=100,
    stalled_rate=60,
    stalled_flood_rate=30,
    stalled_body_bytes=3_000,
    # Small, so a stalled reader overflows within the short run without flooding the server.
    stalled_queue_size=32,
    stalled_seconds=6.0,
    reconnect_pairs=200,
    reconnect_rate=200,
    idle_connections=2_000,
    routing_rates=(10, 25, 50, 100),
    routing_advisers=4,
    surge_women=1_000,
    surge_advisers=2,
)

FULL = Profile(
    name="full",
    step_seconds=15.0,
    warmup_seconds=3.0,
    drain_seconds=10.0,
    pairs=500,
    one_to_one_rates=(100, 250, 500, 1000, 2000, 3000, 5000, 7500, 10000),
    raw_rates=(1000, 2000, 5000, 10000, 20000, 40000),
    room_sizes=(10, 50, 200),
    room_delivery_rates=(5_000, 15_000, 30_000, 60_000, 100_000),
    room_members_total=400,
    two_node_pairs=100,
    two_node_rate=200,
    redis_requests=200_000,
    stalled_pairs=200,
    stalled_rate=100,
    stalled_flood_rate=30,
    stalled_body_bytes=3_900,
    stalled_queue_size=256,
    stalled_seconds=60.0,  # 30 msg/s × 3,900 B × 60 s ≈ 7 MB per stalled client
    reconnect_pairs=1000,
    reconnect_rate=500,
    idle_connections=20_000,
    routing_rates=(10, 25, 50, 100, 200),
    routing_advisers=8,
    surge_women=5_000,
    surge_advisers=4,
)

# What the smoke test runs: a few pairs at a tiny rate for about two seconds.
SMOKE = Profile(
    name="smoke",
    step_seconds=2.0,
    warmup_seconds=0.2,
    drain_seconds=3.0,
    pairs=4,
    one_to_one_rates=(20,),
    raw_rates=(20,),
    room_sizes=(10,),
    room_delivery_rates=(200,),
    room_members_total=10,
    two_node_pairs=2,
    two_node_rate=10,
    redis_requests=1_000,
    stalled_pairs=4,
    stalled_rate=20,
    stalled_flood_rate=10,
    stalled_body_bytes=500,
    stalled_queue_size=8,
    stalled_seconds=3.0,
    reconnect_pairs=4,
    reconnect_rate=10,
    idle_connections=20,
    routing_rates=(5,),
    routing_advisers=2,
    surge_women=100,
    surge_advisers=1,
)

PROFILES = {p.name: p for p in (SHORT, FULL, SMOKE)}
