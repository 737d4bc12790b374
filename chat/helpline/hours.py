"""When advisers answer: weekly hours and holidays in one time zone (pure: no I/O but reading
the file it is given at install, no clock: callers pass the time).

The file (YAML, `WILLOW_HOURS_FILE`; see docs/OPERATIONS.md):

    timezone: Europe/London
    weekly:
      monday: ["10:00-22:00"]
      saturday: ["12:00-16:00", "18:00-24:00"]
    closed:            # whole days closed, in the helpline's time zone
      - 2026-12-25
    special:           # other hours on one date
      2026-12-24: ["10:00-15:00"]

A day not named in `weekly` is closed. Without a file the helpline is always open.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# How far ahead "when it opens" looks before saying it does not know.
LOOK_AHEAD_DAYS = 28

Span = tuple[dt.time, dt.time | None]  # None: until midnight ("24:00")


class HoursError(ValueError):
    """The hours file is wrong; the message names the file and the entry."""


def _span(text: str) -> Span:
    try:
        start_text, end_text = (part.strip() for part in text.split("-"))
        start = dt.time.fromisoformat(start_text)
        end = None if end_text == "24:00" else dt.time.fromisoformat(end_text)
    except ValueError:
        raise ValueError(f"{text!r} is not a span like '09:30-17:00'") from None
    if end is not None and end <= start:
        raise ValueError(f"{text!r} ends before it starts (a span may not cross midnight)")
    return (start, end)


Spans = Annotated[list[str], Field(max_length=8)]


class HoursFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timezone: str = "Europe/London"
    weekly: dict[str, Spans] = {}
    closed: list[dt.date] = []
    special: dict[dt.date, Spans] = {}

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("weekly")
    @classmethod
    def _days(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for day, spans in value.items():
            if day not in DAYS:
                raise ValueError(f"unknown day {day!r} (use {', '.join(DAYS)})")
            for span in spans:
                _span(span)
        return value

    @field_validator("special")
    @classmethod
    def _special(cls, value: dict[dt.date, list[str]]) -> dict[dt.date, list[str]]:
        for spans in value.values():
            for span in spans:
                _span(span)
        return value


class ServiceHours:
    """Is the helpline open at a moment, and when does it next open."""

    def __init__(self, spec: HoursFile | None = None) -> None:
        self.always = spec is None
        self.spec = spec
        spec = spec or HoursFile()
        self.zone = ZoneInfo(spec.timezone)
        self.weekly = {DAYS.index(d): [_span(s) for s in spans] for d, spans in spec.weekly.items()}
        self.closed = set(spec.closed)
        self.special = {d: [_span(s) for s in spans] for d, spans in spec.special.items()}

    @classmethod
    def load(cls, path: Path | None) -> ServiceHours:
        if path is None:
            return cls()
        try:
            raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise HoursError(f"{path}: cannot read: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise HoursError(f"{path}: not YAML: {exc}") from None
        # An empty file names no open hours: closed, as a file naming no days would be.
        return cls.from_data({} if raw is None else raw, str(path))

    @classmethod
    def from_data(cls, raw: Any, label: str) -> ServiceHours:
        """Check already-read data as the file is checked; `label` names it in the error.
        None (no file, or an admin's "always open") means always open."""
        if raw is None:
            return cls()
        try:
            return cls(HoursFile.model_validate(raw))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise HoursError(f"{label}: {where}: {first['msg']}") from None

    def _spans(self, day: dt.date) -> list[Span]:
        if day in self.closed:
            return []
        if day in self.special:
            return self.special[day]
        return self.weekly.get(day.weekday(), [])

    def is_open(self, at: dt.datetime) -> bool:
        if self.always:
            return True
        local = at.astimezone(self.zone)
        clock = local.time().replace(tzinfo=None)
        return any(
            start <= clock and (end is None or clock < end)
            for start, end in self._spans(local.date())
        )

    def next_opening(self, at: dt.datetime) -> dt.datetime | None:
        """When it next opens (aware, in the helpline's zone); `at` itself when open now;
        None when nothing opens within LOOK_AHEAD_DAYS."""
        if self.is_open(at):
            return at.astimezone(self.zone)
        local = at.astimezone(self.zone)
        for offset in range(LOOK_AHEAD_DAYS + 1):
            day = local.date() + dt.timedelta(days=offset)
            for start, _end in sorted(self._spans(day), key=lambda s: s[0]):
                opening = dt.datetime.combine(day, start, tzinfo=self.zone)
                if opening > local:
                    return opening
        return None
