"""Turn a happening into daily counts, at the moment it happens.

Each happening adds one to a few cells: (day, measure, dimension, value). Values come from
short fixed lists (or are a catalogue room's slug, a wrap-up code from the outcomes file, or an
escalation outcome code from its data file);
anything else counts as "other", so a cell never holds words someone wrote or anything that
points at a person.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator

from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from chat.core.services import Services
from chat.core.tally import Happening
from chat.helpline.choices import LANGUAGES, NATIONS, TOPICS
from chat.reporting.models import ReportCount
from moderation.types import RiskCategory, RiskLevel

Cell = tuple[str, str, str]  # measure, dimension, value
TOTAL: tuple[str, str] = ("total", "all")
NOT_GIVEN, OTHER = "not_given", "other"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Upper bounds in seconds, and the band's name.
SPAN_BANDS = (
    (60, "under_1m"),
    (300, "1_to_5m"),
    (900, "5_to_15m"),
    (1800, "15_to_30m"),
    (3600, "30_to_60m"),
)
LONGEST_BAND = "over_60m"
OUTCOMES = ("talked", "left_waiting")
ENDED_BY = ("visitor", "adviser", "quick_exit")
ESCALATION_LEVELS = ("signpost", "supervisor", "emergency")
CATEGORIES = tuple(category.value for category in RiskCategory)
LEVELS = tuple(level.value for level in RiskLevel)
_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")


def choice(value: str | None, known: Collection[str]) -> str:
    if value is None:
        return NOT_GIVEN
    return value if value in known else OTHER


def slug(value: str | None) -> str:
    if value is None:
        return NOT_GIVEN
    return value if _SLUG.fullmatch(value) else OTHER


def band(seconds: float | None) -> str:
    for limit, name in SPAN_BANDS:
        if seconds is not None and seconds < limit:
            return name
    return LONGEST_BAND


def cells_for(happening: Happening) -> list[Cell]:
    """The cells one happening adds one to; none for a kind reporting does not count."""
    measure_cells = _CELLS.get(happening.kind)
    if measure_cells is None:
        return []
    measure, facts = measure_cells
    found = [(measure, *TOTAL)]
    found += [(measure, dimension, value) for dimension, value in facts(happening)]
    return found


def _contact(happening: Happening) -> Iterator[tuple[str, str]]:
    facts = happening.facts
    yield "date", happening.at.date().isoformat()
    yield "weekday", WEEKDAYS[happening.at.weekday()]
    yield "hour", f"{happening.at.hour:02d}"
    yield "language", choice(facts.get("language"), LANGUAGES)
    yield "topic", choice(facts.get("topic"), TOPICS)
    yield "nation", choice(facts.get("nation"), NATIONS)


def _wait(happening: Happening) -> Iterator[tuple[str, str]]:
    yield "wait", band(happening.seconds)


def _ended(happening: Happening) -> Iterator[tuple[str, str]]:
    outcome = choice(happening.facts.get("outcome"), OUTCOMES)
    yield "outcome", outcome
    yield "by", choice(happening.facts.get("by"), ENDED_BY)
    # Abandonment: how long she had waited when she left without talking.
    yield ("left_after" if outcome == "left_waiting" else "length"), band(happening.seconds)


def _risk(happening: Happening) -> Iterator[tuple[str, str]]:
    yield "category", choice(happening.facts.get("category"), CATEGORIES)
    yield "level", choice(happening.facts.get("level"), LEVELS)


def _escalation(happening: Happening) -> Iterator[tuple[str, str]]:
    yield "level", choice(happening.facts.get("level"), ESCALATION_LEVELS)


def _escalation_closed(happening: Happening) -> Iterator[tuple[str, str]]:
    # The outcome's code (from the fixed list, checked when it was recorded; never the note)
    # within its level: the report reads escalations by level and outcome. No breakdown by
    # code alone: beside the per-level ones it would let a hidden figure be subtracted out.
    level = choice(happening.facts.get("level"), ESCALATION_LEVELS)
    yield "level", level
    if level in ESCALATION_LEVELS:
        yield f"at_{level}", slug(happening.facts.get("code"))


# Her end-of-chat answers (chat/helpline/feedback.py); each question is optional.
FEEDBACK: dict[str, tuple[str, ...]] = {
    "helped": ("yes", "a_little", "no"),
    "listened": ("yes", "partly", "no"),
    "again": ("yes", "maybe", "no"),
}


def _feedback(happening: Happening) -> Iterator[tuple[str, str]]:
    for question, answers in FEEDBACK.items():
        answer = happening.facts.get(question)
        yield question, choice(None if answer == NOT_GIVEN else answer, answers)


def _room(happening: Happening) -> Iterator[tuple[str, str]]:
    yield "room", slug(happening.facts.get("room"))


def _code(happening: Happening) -> Iterator[tuple[str, str]]:
    # A wrap-up's code, one happening per code chosen, so the cells add up to the total.
    yield "code", slug(happening.facts.get("code"))


_CELLS = {
    "contact": ("contacts", _contact),
    "taken": ("waits", _wait),
    "ended": ("outcomes", _ended),
    "risk": ("risk_raised", _risk),
    "escalation": ("escalations", _escalation),
    "escalation_closed": ("escalation_outcomes", _escalation_closed),
    "room_session": ("room_sessions", _room),
    "room_attendance": ("room_attendance", _room),
    "feedback": ("feedback", _feedback),
    "outcome_code": ("wrapup_outcomes", _code),
    "outcome_category": ("wrapup_categories", _code),
}
MEASURES = tuple(measure for measure, _facts in _CELLS.values())
# Breakdowns that split one cell of another breakdown of the same measure: their figures add up
# to that cell, not to the measure's total, and are suppressed against it (report.py).
PARTS: dict[str, tuple[str, str]] = {f"at_{level}": ("level", level) for level in ESCALATION_LEVELS}
_BANDS = (*(name for _limit, name in SPAN_BANDS), LONGEST_BAND)
_UNKNOWN = (NOT_GIVEN, OTHER)
# Every breakdown, with the values it can name (dates, hours and rooms name themselves).
VOCABULARY: dict[str, tuple[str, ...]] = {
    "date": (),
    "weekday": WEEKDAYS,
    "hour": (),
    "language": (*LANGUAGES, *_UNKNOWN),
    "topic": (*TOPICS, *_UNKNOWN),
    "nation": (*NATIONS, *_UNKNOWN),
    "wait": _BANDS,
    "outcome": OUTCOMES,
    "by": (*ENDED_BY, *_UNKNOWN),
    "length": _BANDS,
    "left_after": _BANDS,
    "category": (*CATEGORIES, *_UNKNOWN),
    "level": (*LEVELS, *ESCALATION_LEVELS, *_UNKNOWN),
    "room": _UNKNOWN,
    "code": _UNKNOWN,
    # Escalation outcome codes name themselves (labels from the codes' data file).
    **{f"at_{level}": _UNKNOWN for level in ESCALATION_LEVELS},
    **{question: (*answers, *_UNKNOWN) for question, answers in FEEDBACK.items()},
}


def catalogue_keys() -> set[str]:
    """Every catalogue key the report's charts and CSV may look up."""
    keys = {"reports.fewer_than_5", "reports.withheld"}
    keys |= {f"reports.measure.{measure}" for measure in MEASURES}
    keys |= {f"reports.dimension.{dimension}" for dimension in VOCABULARY}
    keys |= {f"reports.value.{v}" for values in VOCABULARY.values() for v in values}
    return keys


async def count(services: Services, happening: Happening) -> None:
    """Add one to each of the happening's cells for its day, in one statement of its own."""
    if not cells_for(happening):
        return
    async with services.db.write() as session:
        await count_within(session, happening)


async def count_within(session: AsyncSession, happening: Happening) -> None:
    """The same, in the caller's transaction (an action's unit of work: `Tally.note_within`)."""
    cells = cells_for(happening)
    if not cells:
        return
    day = happening.at.date()
    rows = [{"day": day, "measure": m, "dimension": d, "value": v, "count": 1} for m, d, v in cells]
    sqlite = session.get_bind().dialect.name == "sqlite"
    insert = sqlite_insert if sqlite else postgres_insert
    statement = insert(ReportCount).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=["day", "measure", "dimension", "value"],
        set_={"count": ReportCount.count + statement.excluded.count},
    )
    await session.execute(statement)
