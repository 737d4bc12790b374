"""Who takes which waiting chat: a pure function of the queue and the advisers (no I/O).

The order is risk first (her own "I am in danger now" and what she writes both raise the
conversation's `priority`), then time waited, then the conversation id. A chat goes only to an
adviser who is available, trained, below her own capacity, reads the woman's language and,
when the woman named a topic, has that specialism (an adviser whose specialisms were never
recorded takes any topic). When no such adviser frees up within the
configured time, the woman is offered the choice to talk to any adviser (`should_offer`); only
her "yes" (`any_adviser`) relaxes the match, and her language is still shown to the adviser.

Callers (chat/helpline/assign.py) read the rows, call `assign` or `next_for`, and write what
it decided in the same transaction, so the decision never sees a half-made change.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

# The specialisms an adviser may hold; a woman's optional topic names one of them.
SPECIALISMS = (
    "domestic_abuse",
    "substance_use",
    "mental_health",
    "pregnancy_parenting",
    "sex_work",
    "sexual_violence",
    "forced_marriage_honour",
)

# The start screen's topics (chat/helpline/choices.py) and the specialism each asks for; a
# topic not named here ("talk", "other") asks for none.
TOPIC_SPECIALISM = {
    "abuse": "domestic_abuse",
    "drugs": "substance_use",
    "alcohol": "substance_use",
    "children": "pregnancy_parenting",
    "health": "mental_health",
    "sex_work": "sex_work",
    "sexual_violence": "sexual_violence",
    "forced_marriage": "forced_marriage_honour",
}

# An adviser whose profile names no language reads English.
DEFAULT_LANGUAGES = frozenset({"en"})


def specialism_for(topic: str | None) -> str | None:
    return TOPIC_SPECIALISM.get(topic) if topic else None


@dataclass(frozen=True)
class Waiting:
    """One waiting chat as routing sees it."""

    id: int
    risk: int  # the conversation's priority: 0 none … 3 high
    since: float  # when she joined the queue, seconds on any one clock
    language: str | None = None
    specialism: str | None = None
    # She said yes to "talk to any adviser": language and topic no longer restrict.
    any_adviser: bool = False
    # She came back with a return code and chose to wait for the adviser she had: only that
    # adviser takes her (chat/helpline/continuity.py).
    for_adviser: int | None = None


@dataclass(frozen=True)
class Adviser:
    """One adviser as routing sees her."""

    id: int
    capacity: int
    active: int = 0
    available: bool = True
    trained: bool = True
    languages: frozenset[str] = field(default=DEFAULT_LANGUAGES)
    # None: her specialisms were never recorded, and she takes any topic (a generalist).
    specialisms: frozenset[str] | None = field(default_factory=frozenset)

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.active)

    @property
    def can_take(self) -> bool:
        return self.available and self.trained and self.free > 0


def order_key(waiting: Waiting) -> tuple[int, float, int]:
    return (-waiting.risk, waiting.since, waiting.id)


def in_order(queue: Iterable[Waiting]) -> list[Waiting]:
    """Risk first, then the longest wait, then the id (so the order is total)."""
    return sorted(queue, key=order_key)


def matches(waiting: Waiting, adviser: Adviser) -> bool:
    """The adviser reads her language and holds her topic's specialism (or she chose anyone);
    when she waits for the adviser she had, only that adviser matches."""
    if waiting.for_adviser is not None:
        return waiting.for_adviser == adviser.id
    if waiting.any_adviser:
        return True
    languages = adviser.languages or DEFAULT_LANGUAGES
    if waiting.language is not None and waiting.language not in languages:
        return False
    if waiting.specialism is None or adviser.specialisms is None:
        return True
    return waiting.specialism in adviser.specialisms


def could_ever_serve(waiting: Waiting, adviser: Adviser) -> bool:
    """Trained and matching: she could take this chat once she is free and available."""
    return adviser.trained and matches(waiting, adviser)


def _pick(waiting: Waiting, advisers: Iterable[Adviser], used: dict[int, int]) -> Adviser | None:
    """The matching adviser with the most free places left (then fewest chats, then id)."""
    best: Adviser | None = None
    best_key: tuple[int, int, int] | None = None
    for adviser in advisers:
        taken = used.get(adviser.id, 0)
        if not (adviser.available and adviser.trained and adviser.free - taken > 0):
            continue
        if not matches(waiting, adviser):
            continue
        key = (-(adviser.free - taken), adviser.active + taken, adviser.id)
        if best_key is None or key < best_key:
            best, best_key = adviser, key
    return best


def assign(queue: Sequence[Waiting], advisers: Sequence[Adviser]) -> list[tuple[int, int]]:
    """Every (conversation id, adviser id) to make now, in the queue's order.

    Each chat goes to at most one adviser; no adviser goes past her free places; a chat is
    skipped only when no adviser left with a free place matches it, so a lower-risk chat never
    takes a place a higher-risk one could have had.
    """
    used: dict[int, int] = {}
    decided: list[tuple[int, int]] = []
    if not any(adviser.can_take for adviser in advisers):
        return decided
    for waiting in in_order(queue):
        adviser = _pick(waiting, advisers, used)
        if adviser is not None:
            used[adviser.id] = used.get(adviser.id, 0) + 1
            decided.append((waiting.id, adviser.id))
    return decided


def next_for(queue: Sequence[Waiting], adviser: Adviser) -> Waiting | None:
    """The chat this adviser should take next (she pressed "take next"), or None."""
    if not adviser.can_take:
        return None
    for waiting in in_order(queue):
        if matches(waiting, adviser):
            return waiting
    return None


def may_pick(queue: Sequence[Waiting], adviser: Adviser, chosen: int) -> bool:
    """In picking mode an adviser may take any waiting chat that matches her, except that a
    higher-risk chat she matches is never passed over for a lower-risk one."""
    if not adviser.can_take:
        return False
    target = next((w for w in queue if w.id == chosen), None)
    if target is None or not matches(target, adviser):
        return False
    return not any(w.risk > target.risk and matches(w, adviser) for w in queue)


def should_offer(
    waiting: Waiting, advisers: Sequence[Adviser], now: float, match_seconds: float
) -> bool:
    """Time to ask her whether any adviser will do: she has waited `match_seconds`, her
    language or topic keeps out an adviser who is online, and no matching adviser has a free
    place.

    She is asked, never moved silently: only her answer sets `any_adviser`.
    """
    if waiting.any_adviser or now - waiting.since < match_seconds:
        return False
    if waiting.language is None and waiting.specialism is None:
        return False
    online = [a for a in advisers if a.available and a.trained]
    if not any(not matches(waiting, a) for a in online):
        # Every adviser online already matches her: "any adviser" would widen nothing.
        return False
    return not any(a.free > 0 and matches(waiting, a) for a in online)


AdviserState = Literal["free", "busy", "away"]


def adviser_state(adviser_id: int, advisers: Sequence[Adviser]) -> AdviserState:
    """How the adviser a returning woman waits for stands: a free place she could take
    (`free`), available but full (`busy`), or not available, not trained or gone (`away`).

    Only `free` lets her chat start; the other two are why she may be asked whether another
    adviser will do (chat/helpline/returning.py).
    """
    found = next((a for a in advisers if a.id == adviser_id), None)
    if found is None or not (found.available and found.trained):
        return "away"
    return "free" if found.free > 0 else "busy"
