"""Service hours: weekly spans and holidays in the helpline's time zone (pure, no server)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from chat.core.settings import REPO_ROOT
from chat.helpline.hours import HoursError, HoursFile, ServiceHours

UTC = dt.UTC
EXAMPLE = REPO_ROOT / "deploy" / "hours.example.yaml"


def test_without_a_file_it_is_always_open() -> None:
    hours = ServiceHours.load(None)
    at = dt.datetime(2026, 12, 25, 3, tzinfo=UTC)
    assert hours.is_open(at) and hours.next_opening(at) == at


def test_the_shipped_example_across_summer_time_and_holidays() -> None:
    hours = ServiceHours.load(EXAMPLE)
    # Monday 6 July 2026, 09:30 UTC is 10:30 in London (summer time): open.
    assert hours.is_open(dt.datetime(2026, 7, 6, 9, 30, tzinfo=UTC))
    # Monday 7 December 2026, 09:30 UTC is 09:30 in London (winter): closed till 10:00.
    at = dt.datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    assert not hours.is_open(at)
    assert hours.next_opening(at) == dt.datetime(2026, 12, 7, 10, tzinfo=hours.zone)
    # Christmas Eve closes at 16:00; Christmas Day is closed; Boxing Day (Saturday) opens 12:00.
    eve = dt.datetime(2026, 12, 24, 16, 30, tzinfo=UTC)
    assert not hours.is_open(eve)
    assert hours.next_opening(eve) == dt.datetime(2026, 12, 26, 12, tzinfo=hours.zone)
    # Friday runs to midnight.
    assert hours.is_open(dt.datetime(2026, 12, 4, 23, 59, tzinfo=UTC))


def test_nothing_opening_soon_gives_no_time() -> None:
    hours = ServiceHours(HoursFile(weekly={}))
    assert hours.next_opening(dt.datetime(2026, 1, 1, tzinfo=UTC)) is None


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("timezone: Mars/Olympus\n", "timezone: Value error, unknown time zone 'Mars/Olympus'"),
        ("weekly:\n  funday: ['10:00-12:00']\n", "unknown day 'funday'"),
        ("weekly:\n  monday: ['22:00-02:00']\n", "ends before it starts"),
        ("weekly:\n  monday: ['ten till two']\n", "is not a span"),
        ("closed: [not-a-date]\n", "closed.0"),
        ("opening: always\n", "opening: Extra inputs are not permitted"),
        ("weekly: [\n", "not YAML"),
    ],
)
def test_a_bad_file_is_refused_naming_file_and_entry(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "hours.yaml"
    path.write_text(text)
    with pytest.raises(HoursError) as caught:
        ServiceHours.load(path)
    assert str(path) in str(caught.value) and says in str(caught.value)
