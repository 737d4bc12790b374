"""Value types shared by every stage of the moderation pipeline.

They are plain frozen dataclasses and enums so that the pipeline stays pure: a stage takes
text and context and returns one of these, with no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class RiskLevel(StrEnum):
    NONE = "none"
    LOW = "low"
    HIGH = "high"
    IMMINENT = "imminent"

    @property
    def rank(self) -> int:
        return _LEVEL_RANK[self]


_LEVEL_RANK = {RiskLevel.NONE: 0, RiskLevel.LOW: 1, RiskLevel.HIGH: 2, RiskLevel.IMMINENT: 3}


def highest_level(levels: list[RiskLevel] | tuple[RiskLevel, ...]) -> RiskLevel:
    """The most serious of several levels (none for an empty list)."""
    return max(levels, key=lambda level: level.rank, default=RiskLevel.NONE)


class RiskCategory(StrEnum):
    SUICIDE_SELF_HARM = "suicide_self_harm"
    DOMESTIC_ABUSE_DANGER = "domestic_abuse_danger"
    CHILD_SAFEGUARDING = "child_safeguarding"
    OVERDOSE_MEDICAL = "overdose_medical"
    SEXUAL_VIOLENCE = "sexual_violence"
    FORCED_MARRIAGE_HONOUR = "forced_marriage_honour"


@dataclass(frozen=True)
class RiskMatch:
    """One phrase that raised a risk, as the staff member will see it."""

    category: RiskCategory
    level: RiskLevel
    phrase: str


class Stance(StrEnum):
    """How she speaks of a risk: as happening to someone now, or as a mention of it."""

    NONE = "none"  # no risk in the message
    CURRENT = "current"
    NEGATED = "negated"  # "I would never hurt myself"
    QUESTION = "question"  # "what do you do about forced marriage?"
    PAST = "past"  # "years ago I tried..., now I'm well"
    FICTION = "fiction"  # a television drama, the news
    JOKE = "joke"  # "my mum will kill me haha"


@dataclass(frozen=True)
class RiskAssessment:
    level: RiskLevel = RiskLevel.NONE
    categories: tuple[RiskCategory, ...] = ()
    matches: tuple[RiskMatch, ...] = ()
    stance: Stance = Stance.NONE
    # The languages whose rules were read, as detected from the message.
    languages: tuple[str, ...] = ()

    @property
    def flagged(self) -> bool:
        return self.level is not RiskLevel.NONE

    @property
    def phrases(self) -> tuple[str, ...]:
        """The words that raised it, each once (one phrase can carry two categories)."""
        return tuple(dict.fromkeys(m.phrase for m in self.matches))

    @property
    def alert(self) -> bool:
        """Current danger: a supervisor is alerted and she is shown the helplines card.

        Anything flagged below this (a mention that is negated, asked about, past, fiction
        or a joke) is a note for staff only.
        """
        return self.level.rank >= RiskLevel.HIGH.rank


NO_RISK = RiskAssessment()


class PiiKind(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    POSTCODE = "postcode"
    ADDRESS = "address"
    HANDLE = "handle"
    NAME = "name"  # a person's full name, looked for in rooms only


@dataclass(frozen=True)
class PiiFinding:
    kind: PiiKind
    start: int
    end: int
    text: str


class Action(StrEnum):
    DELIVER = "deliver"
    FLAG = "deliver_flag"
    HOLD = "hold"
    REFUSE = "refuse"


@dataclass(frozen=True)
class Verdict:
    """What to do with one message, and why.

    `reason` is a code from the language catalogue (e.g. ``too_long``), never free text, so
    the sender sees it in her own language. `body` is the text to store and deliver.
    """

    action: Action
    body: str
    reason: str | None = None
    risk: RiskAssessment = NO_RISK
    pii: tuple[PiiFinding, ...] = ()
    abuse: tuple[str, ...] = field(default=())
