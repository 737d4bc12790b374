"""Published session times of the peer-support rooms.

A schedule has weekly sessions (e.g. Mondays and Thursdays 19:00 to 20:30), one-off
sessions on a date, and cancellations of a weekly session on a date. Times are wall-clock
times in one configured IANA time zone (default Europe/London), so a 19:00 session is at
19:00 local time in winter and in summer. The query functions are pure: the caller passes
the current time, and every datetime in or out is timezone-aware (results are in UTC).

Clock changes are resolved one fixed way, for starts and ends alike:

- A wall time that happens twice (clocks go back) means its first occurrence.
- A wall time that never happens (clocks go forward) means the moment the clocks jump,
  so in London a session set for 01:30 to 02:30 on the last Sunday of March runs from
  02:00 to 02:30 BST. A session lying wholly inside the skipped hour does not take place.

Whether a room actually opens (a mentor must be present) is the server's decision; this
module only says when sessions are published.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    model_validator,
)

from peers.catalogue import Catalogue
from peers.datafiles import DataFileProblem, describe_validation_error, read_yaml

DEFAULT_SCHEDULE_PATH = Path(__file__).parent / "data" / "schedule.yaml"
DEFAULT_TIMEZONE = "Europe/London"
DEFAULT_START = time(19, 0)
DEFAULT_END = time(20, 30)

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_NUMBERS = {name: number for number, name in enumerate(WEEKDAYS)} | {
    name[:3]: number for number, name in enumerate(WEEKDAYS)
}
_TIME = re.compile(r"^([0-9]{1,2}):([0-9]{2})$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_TOP_LEVEL_KEYS = ("timezone", "default_start", "default_end", "weekly", "one_off", "cancelled")


class ScheduleError(ValueError):
    """The schedule file is unusable; `problems` lists every fault found."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = tuple(problems)
        listed = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"room schedule {path}: {len(problems)} problem(s):\n{listed}")


# --- parsing the small value types -------------------------------------------------------


def parse_time(value: object) -> time:
    """A wall-clock time written ``HH:MM`` (24-hour clock)."""
    if isinstance(value, time):
        return value
    match = _TIME.match(value) if isinstance(value, str) else None
    if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ValueError(f"{value!r} is not a time: write it as HH:MM, such as '19:00'")
    return time(int(match.group(1)), int(match.group(2)))


def parse_date(value: object) -> date:
    """A calendar date written ``YYYY-MM-DD``."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _DATE.match(value):
        raise ValueError(f"{value!r} is not a date: write it as YYYY-MM-DD, such as '2026-12-24'")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a real date") from None


def parse_weekdays(value: object) -> tuple[int, ...]:
    """Day names (``monday`` or ``mon``, any case) as numbers, Monday being 0."""
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names:
        raise ValueError("must be a list of days, such as [monday, thursday]")
    numbers: list[int] = []
    for name in names:
        number = _DAY_NUMBERS.get(name.strip().lower()) if isinstance(name, str) else None
        if number is None:
            raise ValueError(f"{name!r} is not a day of the week (monday to sunday)")
        if number in numbers:
            raise ValueError(f"{name!r} is listed more than once")
        numbers.append(number)
    return tuple(sorted(numbers))


def parse_timezone(value: object) -> ZoneInfo:
    """An IANA time zone name such as ``Europe/London``."""
    if isinstance(value, str) and value.strip():
        try:
            return ZoneInfo(value.strip())
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    raise ValueError(
        f"{value!r} is not a known time zone: use an IANA name such as 'Europe/London'"
    )


Value = TypeVar("Value")

LocalTime = Annotated[time, BeforeValidator(parse_time)]
LocalDate = Annotated[date, BeforeValidator(parse_date)]
Weekdays = Annotated[tuple[int, ...], BeforeValidator(parse_weekdays)]


# --- the schedule's entries ---------------------------------------------------------------


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    room: str = Field(min_length=1)


class _Timed(_Entry):
    start: LocalTime
    end: LocalTime
    overnight: StrictBool = False

    @model_validator(mode="after")
    def _ends_after_start(self) -> _Timed:
        start, end = f"{self.start:%H:%M}", f"{self.end:%H:%M}"
        if not self.overnight and self.end <= self.start:
            raise ValueError(
                f"end {end} is not after start {start}; for a session that runs past "
                "midnight add 'overnight: true'"
            )
        if self.overnight and self.end >= self.start:
            raise ValueError(
                f"an overnight session ends the next day, so its end ({end}) must be "
                f"earlier than its start ({start})"
            )
        return self

    def local_interval(self, day: date) -> tuple[datetime, datetime]:
        """Naive wall-clock start and end when the session starts on `day`."""
        end_day = day + timedelta(days=1) if self.overnight else day
        return datetime.combine(day, self.start), datetime.combine(end_day, self.end)


class WeeklySession(_Timed):
    """A session every week on the given days, optionally between two dates (inclusive)."""

    days: Weekdays
    first_date: LocalDate | None = None
    last_date: LocalDate | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> WeeklySession:
        if self.first_date and self.last_date and self.last_date < self.first_date:
            raise ValueError(f"last_date {self.last_date} is before first_date {self.first_date}")
        return self

    def runs_on(self, day: date) -> bool:
        return (
            day.weekday() in self.days
            and (self.first_date is None or day >= self.first_date)
            and (self.last_date is None or day <= self.last_date)
        )


class OneOffSession(_Timed):
    """A single extra session on one date."""

    on: LocalDate = Field(alias="date")


class Cancellation(_Entry):
    """A date on which a room's weekly session does not happen (all of them, or one start)."""

    on: LocalDate = Field(alias="date")
    start: LocalTime | None = None

    def cancels(self, session: WeeklySession) -> bool:
        return self.start is None or self.start == session.start


Entry = TypeVar("Entry", bound=_Entry)


@dataclass(frozen=True, slots=True)
class Session:
    """One published session of a room, as aware UTC datetimes."""

    room_id: str
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class _RoomPlan:
    weekly: tuple[WeeklySession, ...] = ()
    one_offs: tuple[OneOffSession, ...] = ()
    cancellations: tuple[Cancellation, ...] = ()

    def local_sessions(self, day: date) -> list[tuple[datetime, datetime]]:
        """Naive wall-clock intervals of the sessions that start on `day`."""
        found = [
            weekly.local_interval(day)
            for weekly in self.weekly
            if weekly.runs_on(day) and not self.cancelled(weekly, day)
        ]
        found += [one.local_interval(day) for one in self.one_offs if one.on == day]
        return found

    def cancelled(self, weekly: WeeklySession, day: date) -> bool:
        return any(c.on == day and c.cancels(weekly) for c in self.cancellations)

    def last_listed_date(self) -> date | None:
        """The latest date the plan mentions; after it the weekly pattern simply repeats."""
        dates = [one.on for one in self.one_offs] + [c.on for c in self.cancellations]
        dates += [weekly.first_date for weekly in self.weekly if weekly.first_date]
        return max(dates, default=None)


@dataclass(frozen=True)
class Schedule:
    """Every room's published sessions, in one time zone."""

    timezone: ZoneInfo
    room_ids: frozenset[str]
    weekly: tuple[WeeklySession, ...] = ()
    one_offs: tuple[OneOffSession, ...] = ()
    cancellations: tuple[Cancellation, ...] = ()
    _plans: dict[str, _RoomPlan] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        plans = {
            room_id: _RoomPlan(
                tuple(w for w in self.weekly if w.room == room_id),
                tuple(o for o in self.one_offs if o.room == room_id),
                tuple(c for c in self.cancellations if c.room == room_id),
            )
            for room_id in self.room_ids
        }
        object.__setattr__(self, "_plans", plans)

    def plan(self, room_id: str) -> _RoomPlan:
        try:
            return self._plans[room_id]
        except KeyError:
            raise KeyError(f"room {room_id!r} is not in the catalogue") from None


# --- queries --------------------------------------------------------------------------------


def sessions_between(
    schedule: Schedule, room_id: str, start: datetime, end: datetime
) -> list[Session]:
    """Sessions of the room that overlap [start, end), earliest first.

    A session already under way at `start` is included. Raises KeyError for a room that is
    not in the catalogue and ValueError for naive datetimes.
    """
    _require_aware(start, end)
    plan = schedule.plan(room_id)
    zone = schedule.timezone
    # A session may start the local day before `start` and still be running (overnight).
    day = start.astimezone(zone).date() - timedelta(days=1)
    last_day = end.astimezone(zone).date()
    found: list[Session] = []
    while day <= last_day:
        for local_start, local_end in plan.local_sessions(day):
            session = _session(room_id, local_start, local_end, zone)
            if session and session.starts_at < end and session.ends_at > start:
                found.append(session)
        day += timedelta(days=1)
    return sorted(found, key=lambda session: (session.starts_at, session.ends_at))


def current_session(schedule: Schedule, room_id: str, now: datetime) -> Session | None:
    """The session running at `now` (start inclusive, end exclusive), if any."""
    running = sessions_between(schedule, room_id, now, now + timedelta(microseconds=1))
    return running[0] if running else None


def next_session(schedule: Schedule, room_id: str, now: datetime) -> Session | None:
    """The first session that starts after `now`, or None if none is published."""
    _require_aware(now)
    plan = schedule.plan(room_id)
    today = now.astimezone(schedule.timezone).date()
    last_listed = plan.last_listed_date() or today
    # After the last date the plan mentions, a weekly session recurs within a week.
    horizon = datetime.combine(max(today, last_listed) + timedelta(days=9), time(), UTC)
    window_start = now
    while window_start < horizon:
        window_end = window_start + timedelta(days=7)
        later = [
            session
            for session in sessions_between(schedule, room_id, window_start, window_end)
            if session.starts_at > now
        ]
        if later:
            return later[0]
        window_start = window_end
    return None


def _require_aware(*moments: datetime) -> None:
    for moment in moments:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("schedule queries need timezone-aware datetimes")


def _session(
    room_id: str, local_start: datetime, local_end: datetime, zone: ZoneInfo
) -> Session | None:
    starts_at, ends_at = to_instant(local_start, zone), to_instant(local_end, zone)
    if ends_at <= starts_at:
        return None  # wholly inside the hour the clocks skip
    return Session(room_id, starts_at, ends_at)


def to_instant(local: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of a naive wall-clock time in `zone`, resolved as the module says."""
    first = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == local:
        return first  # exists; when it happens twice, fold=0 is the first time
    return _clocks_jump_at(local, zone)


def _clocks_jump_at(local: datetime, zone: ZoneInfo) -> datetime:
    """The instant the clocks jump over the nonexistent wall time `local`."""
    # Read with the offset after the jump it lies before the jump; with the offset before
    # it, after. The jump is between them; tz transitions fall on whole seconds.
    before = local.replace(tzinfo=zone, fold=1).astimezone(UTC)
    after = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    old_offset = before.astimezone(zone).utcoffset()
    while after - before > timedelta(seconds=1):
        middle = before + (after - before) / 2
        middle = middle.replace(microsecond=0)
        if middle.astimezone(zone).utcoffset() == old_offset:
            before = middle
        else:
            after = middle
    return after


# --- loading --------------------------------------------------------------------------------


def load_schedule(path: Path, catalogue: Catalogue) -> Schedule:
    """Read and validate a schedule file, raising ScheduleError listing every fault."""
    try:
        data = read_yaml(path)
    except DataFileProblem as exc:
        raise ScheduleError(path, [str(exc)]) from exc
    return parse_schedule(data, path, catalogue)


def parse_schedule(data: object, path: Path, catalogue: Catalogue) -> Schedule:
    """Validate already-parsed YAML data; `path` is only used in messages."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ScheduleError(path, ["the file must be a mapping with keys such as 'weekly:'"])
    problems = [
        f"unknown key {key!r} (expected one of: {', '.join(_TOP_LEVEL_KEYS)})"
        for key in data
        if key not in _TOP_LEVEL_KEYS
    ]
    zone = _setting(data, "timezone", ZoneInfo(DEFAULT_TIMEZONE), parse_timezone, problems)
    defaults = {
        "start": _setting(data, "default_start", DEFAULT_START, parse_time, problems),
        "end": _setting(data, "default_end", DEFAULT_END, parse_time, problems),
    }
    weekly = _entries(data, "weekly", WeeklySession, defaults, catalogue, problems)
    one_offs = _entries(data, "one_off", OneOffSession, defaults, catalogue, problems)
    cancellations = _entries(data, "cancelled", Cancellation, {}, catalogue, problems)
    if not problems:
        problems += _cross_check(weekly, one_offs, cancellations)
    if problems:
        raise ScheduleError(path, problems)
    return Schedule(zone, frozenset(catalogue.ids), weekly, one_offs, cancellations)


def _setting(
    data: dict[Any, Any],
    key: str,
    default: Value,
    parse: Callable[[object], Value],
    problems: list[str],
) -> Value:
    if key not in data:
        return default
    try:
        return parse(data[key])
    except ValueError as exc:
        problems.append(f"{key}: {exc}")
        return default


def _entries(
    data: dict[Any, Any],
    section: str,
    model: type[Entry],
    defaults: Mapping[str, object],
    catalogue: Catalogue,
    problems: list[str],
) -> tuple[Entry, ...]:
    raw = data.get(section)
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.append(f"{section}: must be a list of entries, each starting with '- room: ...'")
        return ()
    parsed: list[Entry] = []
    for number, entry in enumerate(raw, start=1):
        label = _label(section, number, entry)
        if not isinstance(entry, dict):
            problems.append(f"{label}: must be a mapping of field: value, not {entry!r}")
            continue
        try:
            item = model.model_validate({**defaults, **entry})
        except ValidationError as exc:
            problems.extend(f"{label}: {line}" for line in describe_validation_error(exc))
            continue
        if item.room not in catalogue:
            problems.append(f"{label}: room {item.room!r} is not in the room catalogue")
            continue
        parsed.append(item)
    return tuple(parsed)


def _label(section: str, number: int, entry: object) -> str:
    room = entry.get("room") if isinstance(entry, dict) else None
    suffix = f" (room {room!r})" if isinstance(room, str) else ""
    return f"{section} entry {number}{suffix}"


# --- checks across entries -------------------------------------------------------------------


def _cross_check(
    weekly: tuple[WeeklySession, ...],
    one_offs: tuple[OneOffSession, ...],
    cancellations: tuple[Cancellation, ...],
) -> list[str]:
    problems = _weekly_overlaps(weekly)
    for room in {entry.room for entry in (*weekly, *one_offs, *cancellations)}:
        plan = _RoomPlan(
            tuple(w for w in weekly if w.room == room),
            tuple(o for o in one_offs if o.room == room),
            tuple(c for c in cancellations if c.room == room),
        )
        problems += _cancellation_problems(plan)
        problems += _one_off_overlaps(plan)
    return problems


def _cancellation_problems(plan: _RoomPlan) -> list[str]:
    problems: list[str] = []
    seen: set[tuple[date, time | None]] = set()
    for cancel in plan.cancellations:
        at = f" at {cancel.start:%H:%M}" if cancel.start else ""
        if (cancel.on, cancel.start) in seen:
            problems.append(f"cancelled: room {cancel.room!r} on {cancel.on}{at} is listed twice")
        seen.add((cancel.on, cancel.start))
        if not any(w.runs_on(cancel.on) and cancel.cancels(w) for w in plan.weekly):
            problems.append(
                f"cancelled: room {cancel.room!r} has no weekly session on {cancel.on} "
                f"({WEEKDAYS[cancel.on.weekday()]}){at} to cancel"
            )
    return problems


def _one_off_overlaps(plan: _RoomPlan) -> list[str]:
    problems: list[str] = []
    for index, one in enumerate(plan.one_offs):
        start, end = one.local_interval(one.on)
        others = [o.local_interval(o.on) for o in plan.one_offs[index + 1 :]]
        for day in (one.on - timedelta(days=1), one.on, one.on + timedelta(days=1)):
            others += [
                w.local_interval(day)
                for w in plan.weekly
                if w.runs_on(day) and not plan.cancelled(w, day)
            ]
        if any(other_start < end and start < other_end for other_start, other_end in others):
            problems.append(
                f"one_off: room {one.room!r} on {one.on} {one.start:%H:%M}-{one.end:%H:%M} "
                "overlaps another session of the same room; change its time or cancel the "
                "weekly session that day"
            )
    return problems


_WEEK = 7 * 24 * 60


def _weekly_overlaps(weekly: Iterable[WeeklySession]) -> list[str]:
    """Two weekly entries of one room that would run at the same time in some week."""
    entries = list(weekly)
    problems: list[str] = []
    for index, first in enumerate(entries):
        for second in entries[index + 1 :]:
            if (
                first.room == second.room
                and _dates_meet(first, second)
                and any(
                    _minutes_overlap(a, b)
                    for a in _week_minutes(first)
                    for b in _week_minutes(second)
                )
            ):
                problems.append(
                    f"weekly: two sessions of room {first.room!r} overlap "
                    f"({first.start:%H:%M}-{first.end:%H:%M} and "
                    f"{second.start:%H:%M}-{second.end:%H:%M} on a shared day)"
                )
    return problems


def _dates_meet(first: WeeklySession, second: WeeklySession) -> bool:
    starts = [entry.first_date for entry in (first, second) if entry.first_date]
    ends = [_last_day_used(entry) for entry in (first, second) if entry.last_date]
    return not starts or not ends or max(starts) <= min(ends)


def _last_day_used(entry: WeeklySession) -> date:
    assert entry.last_date is not None
    return entry.last_date + timedelta(days=1 if entry.overnight else 0)


def _week_minutes(entry: WeeklySession) -> list[tuple[int, int]]:
    start = entry.start.hour * 60 + entry.start.minute
    end = entry.end.hour * 60 + entry.end.minute + (24 * 60 if entry.overnight else 0)
    return [(day * 24 * 60 + start, day * 24 * 60 + end) for day in entry.days]


def _minutes_overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    # Sunday night's overnight session can meet Monday's, so compare a week apart as well.
    return any(a[0] < b[1] + shift and b[0] + shift < a[1] for shift in (-_WEEK, 0, _WEEK))
