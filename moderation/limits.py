"""Length, speed, flood and repeat limits for one sender, as pure functions.

The caller keeps a `SenderHistory` per sender (in memory, next to the connection) and
replaces it with `record(...)` after each message that passed the limits. The history holds
only times, lengths and keyed digests of the normalised text, never the text itself.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from typing import Literal

from moderation.normalize import normalise

Place = Literal["conversation", "room"]

REASON_EMPTY = "empty"
REASON_TOO_LONG = "too_long"
REASON_TOO_FAST = "too_fast"
REASON_REPEATED = "repeated"
LIMIT_REASONS = (REASON_EMPTY, REASON_TOO_LONG, REASON_TOO_FAST, REASON_REPEATED)

# Enough to see any burst the limits below can describe; a Limits asking for more is refused.
HISTORY_CAPACITY = 32

# The key lives only in this process, so a history copied out of memory cannot be used to
# guess short messages from their digests.
_DIGEST_KEY = secrets.token_bytes(16)


@dataclass(frozen=True)
class Limits:
    """Per-sender limits; the defaults suit a person typing on a phone."""

    max_length_conversation: int = 4000
    max_length_room: int = 1000
    window_seconds: float = 10.0
    max_messages_per_window: int = 8
    # Flood: a burst of very short messages ("hi" "hi" "?" "?" ...) in a short time.
    flood_window_seconds: float = 5.0
    flood_short_length: int = 3
    flood_max_short: int = 5
    # The same text again within the window: allowed max_identical times, then refused.
    repeat_window_seconds: float = 60.0
    max_identical: int = 2

    def __post_init__(self) -> None:
        for name in ("window_seconds", "flood_window_seconds", "repeat_window_seconds"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"Limits.{name} must be a positive number of seconds")
        for name in (
            "max_length_conversation",
            "max_length_room",
            "max_messages_per_window",
            "flood_short_length",
            "flood_max_short",
            "max_identical",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Limits.{name} must be a whole number of at least 1")
        for name in ("max_messages_per_window", "flood_max_short", "max_identical"):
            if getattr(self, name) > HISTORY_CAPACITY:
                raise ValueError(f"Limits.{name} must be at most {HISTORY_CAPACITY}")

    def max_length(self, place: Place) -> int:
        return self.max_length_room if place == "room" else self.max_length_conversation


@dataclass(frozen=True)
class HistoryEntry:
    time: float
    digest: bytes
    length: int


@dataclass(frozen=True)
class SenderHistory:
    """The sender's most recent messages, newest last, at most `capacity` of them."""

    entries: tuple[HistoryEntry, ...] = ()
    capacity: int = HISTORY_CAPACITY


def text_digest(text: str) -> bytes:
    """Keyed digest of the normalised text, so trivial variations count as repeats."""
    return hashlib.blake2b(
        normalise(text).encode("utf-8", "ignore"), key=_DIGEST_KEY, digest_size=16
    ).digest()


def record(history: SenderHistory, text: str, now: float) -> SenderHistory:
    """The history with this message added and the oldest dropped beyond capacity."""
    entry = HistoryEntry(time=now, digest=text_digest(text), length=len(text.strip()))
    capacity = max(1, history.capacity)
    entries = (*history.entries, entry)[-capacity:]
    return SenderHistory(entries=entries, capacity=capacity)


def check_limits(
    text: str, history: SenderHistory, limits: Limits, now: float, place: Place
) -> str | None:
    """The reason code of the first limit this message breaks, or None."""
    stripped = text.strip()
    if not stripped:
        return REASON_EMPTY
    if len(text) > limits.max_length(place):
        return REASON_TOO_LONG
    if _too_fast(stripped, history, limits, now):
        return REASON_TOO_FAST
    if _repeated(stripped, history, limits, now):
        return REASON_REPEATED
    return None


def _recent(history: SenderHistory, now: float, window: float) -> list[HistoryEntry]:
    # An entry stamped in the future (clock moved back) still counts as recent.
    return [entry for entry in history.entries if now - entry.time < window]


def _too_fast(text: str, history: SenderHistory, limits: Limits, now: float) -> bool:
    if len(_recent(history, now, limits.window_seconds)) >= limits.max_messages_per_window:
        return True
    if len(text) > limits.flood_short_length:
        return False
    short = [
        entry
        for entry in _recent(history, now, limits.flood_window_seconds)
        if entry.length <= limits.flood_short_length
    ]
    return len(short) >= limits.flood_max_short


def retry_after(text: str, history: SenderHistory, limits: Limits, now: float) -> float:
    """Seconds until a message like `text` would no longer be too fast (0 if it is not)."""
    wait = _wait_for(_recent(history, now, limits.window_seconds), limits.max_messages_per_window)
    wait += limits.window_seconds
    if len(text.strip()) <= limits.flood_short_length:
        short = [
            entry
            for entry in _recent(history, now, limits.flood_window_seconds)
            if entry.length <= limits.flood_short_length
        ]
        flood = _wait_for(short, limits.flood_max_short) + limits.flood_window_seconds
        wait = max(wait, flood)
    return max(0.0, wait - now)


def _wait_for(entries: list[HistoryEntry], allowed: int) -> float:
    """When enough of `entries` have aged out to leave room for one more (minus the window)."""
    excess = len(entries) - allowed + 1
    if excess <= 0:
        return float("-inf")
    return sorted(entry.time for entry in entries)[excess - 1]


def _repeated(text: str, history: SenderHistory, limits: Limits, now: float) -> bool:
    recent = _recent(history, now, limits.repeat_window_seconds)
    if len(recent) < limits.max_identical:
        # Too few recent messages to repeat anything: the digest (a full normalise of the
        # text, the dearest part of the limits) is not needed. Staff keep no history at all.
        return False
    digest = text_digest(text)
    same = [entry for entry in recent if entry.digest == digest]
    return len(same) >= limits.max_identical
