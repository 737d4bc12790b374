"""Published session times: loading and refusing schedule files, and the pure queries.

London's clocks go forward at 01:00 UTC on Sunday 29 March 2026 (01:00 GMT becomes
02:00 BST) and back at 01:00 UTC on Sunday 25 October 2026 (02:00 BST becomes 01:00 GMT).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from peers.catalogue import DEFAULT_CATALOGUE_PATH, Catalogue, load_catalogue, parse_catalogue
from peers.schedule import (
    DEFAULT_SCHEDULE_PATH,
    Schedule,
    ScheduleError,
    Session,
    current_session,
    load_schedule,
    next_session,
    sessions_between,
)

LONDON = ZoneInfo("Europe/London")


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    rooms = [
        {
            "id": room_id,
            "name": room_id.title(),
            "description": "A room.",
            "languages": ["en"],
            "audience": "Anyone.",
            "ground_rules": ["Be kind."],
        }
        for room_id in ("evening", "night", "quiet")
    ]
    return parse_catalogue(rooms, Path("rooms.yaml"))


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "schedule.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data), encoding="utf-8")
    return path


def schedule_of(tmp_path: Path, catalogue: Catalogue, **data: Any) -> Schedule:
    return load_schedule(write(tmp_path, data), catalogue)


def refusal(tmp_path: Path, catalogue: Catalogue, data: object) -> str:
    path = write(tmp_path, data)
    with pytest.raises(ScheduleError) as caught:
        load_schedule(path, catalogue)
    message = str(caught.value)
    assert str(path) in message
    return message


def weekly(room: str = "evening", days: list[Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {"room": room, "days": days or ["sunday"], **extra}


def starts(sessions: list[Session]) -> list[datetime]:
    return [session.starts_at for session in sessions]


# --- the shipped schedule -------------------------------------------------------------------


def test_default_schedule_gives_every_default_room_a_weekly_session() -> None:
    rooms = load_catalogue(DEFAULT_CATALOGUE_PATH)
    schedule = load_schedule(DEFAULT_SCHEDULE_PATH, rooms)
    assert schedule.timezone.key == "Europe/London"
    monday = utc(2026, 11, 23)
    for room_id in rooms.ids:
        found = sessions_between(schedule, room_id, monday, monday + timedelta(days=7))
        assert found, room_id


def test_default_night_room_runs_past_midnight() -> None:
    schedule = load_schedule(DEFAULT_SCHEDULE_PATH, load_catalogue(DEFAULT_CATALOGUE_PATH))
    found = next_session(schedule, "night-room", utc(2026, 11, 21, 12))
    assert found is not None
    assert found.ends_at.astimezone(LONDON).date() > found.starts_at.astimezone(LONDON).date()


# --- defaults --------------------------------------------------------------------------------


def test_evening_times_and_london_by_default(tmp_path: Path, catalogue: Catalogue) -> None:
    schedule = schedule_of(tmp_path, catalogue, weekly=[weekly()])
    found = next_session(schedule, "evening", utc(2026, 1, 5))
    assert found == Session("evening", utc(2026, 1, 11, 19), utc(2026, 1, 11, 20, 30))


def test_default_times_can_be_configured(tmp_path: Path, catalogue: Catalogue) -> None:
    schedule = schedule_of(
        tmp_path, catalogue, default_start="18:15", default_end="19:45", weekly=[weekly()]
    )
    found = next_session(schedule, "evening", utc(2026, 1, 5))
    assert found == Session("evening", utc(2026, 1, 11, 18, 15), utc(2026, 1, 11, 19, 45))


def test_empty_file_publishes_no_sessions(tmp_path: Path, catalogue: Catalogue) -> None:
    schedule = load_schedule(write(tmp_path, ""), catalogue)
    assert next_session(schedule, "evening", utc(2026, 1, 1)) is None


def test_unquoted_times_in_yaml_are_read_as_times(tmp_path: Path, catalogue: Catalogue) -> None:
    text = "weekly:\n  - room: evening\n    days: [mon]\n    start: 09:30\n    end: 10:00\n"
    schedule = load_schedule(write(tmp_path, text), catalogue)
    found = next_session(schedule, "evening", utc(2026, 1, 1))
    assert found == Session("evening", utc(2026, 1, 5, 9, 30), utc(2026, 1, 5, 10))


# --- clock changes ---------------------------------------------------------------------------


def test_evening_session_keeps_local_time_when_clocks_go_forward(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    schedule = schedule_of(tmp_path, catalogue, weekly=[weekly()])
    found = sessions_between(schedule, "evening", utc(2026, 3, 21), utc(2026, 4, 1))
    assert starts(found) == [utc(2026, 3, 22, 19), utc(2026, 3, 29, 18)]
    assert [s.starts_at.astimezone(LONDON).hour for s in found] == [19, 19]
    assert all(s.ends_at - s.starts_at == timedelta(minutes=90) for s in found)


def test_evening_session_keeps_local_time_when_clocks_go_back(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    schedule = schedule_of(tmp_path, catalogue, weekly=[weekly()])
    found = sessions_between(schedule, "evening", utc(2026, 10, 17), utc(2026, 10, 28))
    assert starts(found) == [utc(2026, 10, 18, 18), utc(2026, 10, 25, 19)]
    assert [s.starts_at.astimezone(LONDON).hour for s in found] == [19, 19]


def test_start_in_the_skipped_hour_moves_to_when_the_clocks_jump(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    schedule = schedule_of(
        tmp_path, catalogue, weekly=[weekly("night", start="01:30", end="02:30")]
    )
    found = sessions_between(schedule, "night", utc(2026, 3, 28), utc(2026, 3, 30))
    # 02:00 BST to 02:30 BST.
    assert found == [Session("night", utc(2026, 3, 29, 1), utc(2026, 3, 29, 1, 30))]


def test_session_wholly_in_the_skipped_hour_does_not_happen(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    schedule = schedule_of(
        tmp_path, catalogue, weekly=[weekly("night", start="01:10", end="01:50")]
    )
    found = sessions_between(schedule, "night", utc(2026, 3, 20), utc(2026, 4, 6))
    assert starts(found) == [utc(2026, 3, 22, 1, 10), utc(2026, 4, 5, 0, 10)]
    assert next_session(schedule, "night", utc(2026, 3, 28)) == found[1]


def test_repeated_hour_means_its_first_occurrence(tmp_path: Path, catalogue: Catalogue) -> None:
    schedule = schedule_of(
        tmp_path,
        catalogue,
        weekly=[
            weekly("night", start="01:15", end="01:45"),
            weekly("quiet", start="01:30", end="02:30"),
        ],
    )
    window = (utc(2026, 10, 24), utc(2026, 10, 26))
    # 01:15 BST is 00:15 UTC; the second 01:15 (GMT) would be 01:15 UTC.
    assert sessions_between(schedule, "night", *window) == [
        Session("night", utc(2026, 10, 25, 0, 15), utc(2026, 10, 25, 0, 45))
    ]
    # From the first 01:30 (BST) to 02:30 GMT: two hours of real time.
    assert sessions_between(schedule, "quiet", *window) == [
        Session("quiet", utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 2, 30))
    ]


def test_overnight_session_across_the_spring_change(tmp_path: Path, catalogue: Catalogue) -> None:
    entry = weekly("night", ["saturday"], start="23:30", end="01:30", overnight=True)
    schedule = schedule_of(tmp_path, catalogue, weekly=[entry])
    found = sessions_between(schedule, "night", utc(2026, 3, 28), utc(2026, 3, 30))
    # Ends at 01:30 local, which does not exist that night: the clocks jump at 01:00 UTC.
    assert found == [Session("night", utc(2026, 3, 28, 23, 30), utc(2026, 3, 29, 1))]


def test_overnight_session_across_the_autumn_change(tmp_path: Path, catalogue: Catalogue) -> None:
    entry = weekly("night", ["saturday"], start="23:00", end="02:00", overnight=True)
    schedule = schedule_of(tmp_path, catalogue, weekly=[entry])
    found = sessions_between(schedule, "night", utc(2026, 10, 24), utc(2026, 10, 26))
    # 23:00 BST to 02:00 GMT is four hours of real time.
    assert found == [Session("night", utc(2026, 10, 24, 22), utc(2026, 10, 25, 2))]


def test_another_time_zone_and_its_own_clock_change(tmp_path: Path, catalogue: Catalogue) -> None:
    schedule = schedule_of(
        tmp_path, catalogue, timezone="America/New_York", weekly=[weekly(days=["saturday"])]
    )
    found = sessions_between(schedule, "evening", utc(2026, 3, 2), utc(2026, 3, 16))
    # New York moves its clocks on 8 March 2026.
    assert starts(found) == [utc(2026, 3, 8, 0), utc(2026, 3, 14, 23)]


def test_time_zone_without_clock_changes(tmp_path: Path, catalogue: Catalogue) -> None:
    schedule = schedule_of(tmp_path, catalogue, timezone="Asia/Kolkata", weekly=[weekly()])
    found = next_session(schedule, "evening", utc(2026, 3, 25))
    assert found == Session("evening", utc(2026, 3, 29, 13, 30), utc(2026, 3, 29, 15))


# --- one-offs and cancellations --------------------------------------------------------------


def test_one_off_session_on_its_date(tmp_path: Path, catalogue: Catalogue) -> None:
    schedule = schedule_of(
        tmp_path,
        catalogue,
        weekly=[weekly()],
        one_off=[{"room": "evening", "date": "2026-12-24", "start": "16:00", "end": "17:00"}],
    )
    found = sessions_between(schedule, "evening", utc(2026, 12, 21), utc(2026, 12, 28))
    assert starts(found) == [utc(2026, 12, 24, 16), utc(2026, 12, 27, 19)]


def test_one_off_uses_the_default_evening_times(tmp_path: Path, catalogue: Catalogue) -> None:
    schedule = schedule_of(tmp_path, catalogue, one_off=[{"room": "quiet", "date": "2026-07-01"}])
    found = next_session(schedule, "quiet", utc(2026, 6, 1))
    # British Summer Time: 19:00 local is 18:00 UTC.
    assert found == Session("quiet", utc(2026, 7, 1, 18), utc(2026, 7, 1, 19, 30))


def test_next_session_finds_a_one_off_months_away(tmp_path: Path, catalogue: Catalogue) -> None:
    schedule = schedule_of(
        tmp_path,
        catalogue,
        one_off=[{"room": "quiet", "date": "2027-02-14", "start": "12:00", "end": "13:00"}],
    )
    found = next_session(schedule, "quiet", utc(2026, 11, 21))
    assert found == Session("quiet", utc(2027, 2, 14, 12), utc(2027, 2, 14, 13))
    assert next_session(schedule, "quiet", found.starts_at) is None


def test_cancelled_date_has_no_session(tmp_path: Path, catalogue: Catalogue) -> None:
    schedule = schedule_of(
        tmp_path,
        catalogue,
        weekly=[weekly()],
        cancelled=[{"room": "evening", "date": "2026-12-27"}],
    )
    found = sessions_between(schedule, "evening", utc(2026, 12, 19), utc(2027, 1, 5))
    assert starts(found) == [utc(2026, 12, 20, 19), utc(2027, 1, 3, 19)]
    assert current_session(schedule, "evening", utc(2026, 12, 27, 19, 30)) is None
    assert next_session(schedule, "evening", utc(2026, 12, 21)) == found[1]


def test_many_weeks_cancelled_in_a_row(tmp_path: Path, catalogue: Catalogue) -> None:
    sundays = [datetime(2026, 12, 6) + timedelta(weeks=n) for n in range(6)]
    cancelled = [{"room": "evening", "date": f"{day:%Y-%m-%d}"} for day in sundays]
    schedule = schedule_of(tmp_path, catalogue, weekly=[weekly()], cancelled=cancelled)
    found = next_session(schedule, "evening", utc(2026, 12, 1))
    assert found is not None and found.starts_at == utc(2027, 1, 17, 19)


def test_cancelling_one_of_two_sessions_on_a_day(tmp_path: Path, catalogue: Catalogue) -> None:
    schedule = schedule_of(
        tmp_path,
        catalogue,
        weekly=[weekly(start="10:00", end="11:00"), weekly()],
        cancelled=[{"room": "evening", "date": "2026-12-27", "start": "10:00"}],
    )
    found = sessions_between(schedule, "evening", utc(2026, 12, 27), utc(2026, 12, 28))
    assert starts(found) == [utc(2026, 12, 27, 19)]


def test_first_and_last_dates_of_a_weekly_session(tmp_path: Path, catalogue: Catalogue) -> None:
    entry = weekly(first_date="2026-12-06", last_date="2026-12-20")
    schedule = schedule_of(tmp_path, catalogue, weekly=[entry])
    found = sessions_between(schedule, "evening", utc(2026, 11, 1), utc(2027, 1, 31))
    assert starts(found) == [utc(2026, 12, d, 19) for d in (6, 13, 20)]
    assert next_session(schedule, "evening", utc(2026, 11, 1)) == found[0]
    assert next_session(schedule, "evening", utc(2026, 12, 21)) is None


# --- current and next ------------------------------------------------------------------------


def test_current_session_includes_its_start_and_excludes_its_end(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    schedule = schedule_of(tmp_path, catalogue, weekly=[weekly()])
    session = Session("evening", utc(2026, 1, 11, 19), utc(2026, 1, 11, 20, 30))
    assert current_session(schedule, "evening", utc(2026, 1, 11, 18, 59, 59)) is None
    assert current_session(schedule, "evening", utc(2026, 1, 11, 19)) == session
    assert current_session(schedule, "evening", utc(2026, 1, 11, 20, 29, 59)) == session
    assert current_session(schedule, "evening", utc(2026, 1, 11, 20, 30)) is None


def test_overnight_session_is_current_after_midnight(tmp_path: Path, catalogue: Catalogue) -> None:
    entry = weekly("night", ["friday"], start="23:00", end="00:30", overnight=True)
    schedule = schedule_of(tmp_path, catalogue, weekly=[entry])
    found = current_session(schedule, "night", london(2026, 1, 17, 0, 15))
    assert found == Session("night", utc(2026, 1, 16, 23), utc(2026, 1, 17, 0, 30))


def test_next_session_starts_strictly_after_now(tmp_path: Path, catalogue: Catalogue) -> None:
    schedule = schedule_of(tmp_path, catalogue, weekly=[weekly()])
    found = next_session(schedule, "evening", utc(2026, 1, 11, 19))
    assert found is not None and found.starts_at == utc(2026, 1, 18, 19)


def test_window_starting_mid_session_includes_it(tmp_path: Path, catalogue: Catalogue) -> None:
    schedule = schedule_of(tmp_path, catalogue, weekly=[weekly()])
    found = sessions_between(schedule, "evening", utc(2026, 1, 11, 20), utc(2026, 1, 11, 21))
    assert starts(found) == [utc(2026, 1, 11, 19)]
    assert sessions_between(schedule, "evening", utc(2026, 1, 11, 20, 30), utc(2026, 1, 12)) == []


def test_times_in_any_offset_in_and_utc_out(tmp_path: Path, catalogue: Catalogue) -> None:
    schedule = schedule_of(tmp_path, catalogue, weekly=[weekly()])
    paris_time = datetime(2026, 1, 11, 20, 30, tzinfo=timezone(timedelta(hours=1)))
    found = current_session(schedule, "evening", paris_time)
    assert found is not None
    assert found.starts_at.tzinfo is UTC and found.ends_at.tzinfo is UTC


def test_room_without_sessions(tmp_path: Path, catalogue: Catalogue) -> None:
    schedule = schedule_of(tmp_path, catalogue, weekly=[weekly()])
    assert next_session(schedule, "quiet", utc(2026, 1, 1)) is None
    assert current_session(schedule, "quiet", utc(2026, 1, 1)) is None


def test_naive_times_are_refused(tmp_path: Path, catalogue: Catalogue) -> None:
    schedule = schedule_of(tmp_path, catalogue, weekly=[weekly()])
    with pytest.raises(ValueError, match="timezone-aware"):
        next_session(schedule, "evening", datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        sessions_between(schedule, "evening", utc(2026, 1, 1), datetime(2026, 1, 2))


def test_room_not_in_the_catalogue_is_a_key_error(tmp_path: Path, catalogue: Catalogue) -> None:
    schedule = schedule_of(tmp_path, catalogue, weekly=[weekly()])
    with pytest.raises(KeyError):
        current_session(schedule, "nowhere", utc(2026, 1, 1))


# --- bad data --------------------------------------------------------------------------------


def test_unknown_room(tmp_path: Path, catalogue: Catalogue) -> None:
    message = refusal(tmp_path, catalogue, {"weekly": [weekly("evning")]})
    assert "weekly entry 1 (room 'evning'): room 'evning' is not in the room catalogue" in message


@pytest.mark.parametrize("day", ["funday", "", 3, "mo"])
def test_bad_weekday(tmp_path: Path, catalogue: Catalogue, day: object) -> None:
    message = refusal(tmp_path, catalogue, {"weekly": [weekly(days=["monday", day])]})
    assert "weekly entry 1 (room 'evening'): days:" in message
    assert "is not a day of the week" in message


def test_no_days(tmp_path: Path, catalogue: Catalogue) -> None:
    message = refusal(tmp_path, catalogue, {"weekly": [{"room": "evening", "days": []}]})
    assert "days: must be a list of days" in message


def test_day_listed_twice(tmp_path: Path, catalogue: Catalogue) -> None:
    message = refusal(tmp_path, catalogue, {"weekly": [weekly(days=["monday", "Mon"])]})
    assert "listed more than once" in message


def test_missing_days(tmp_path: Path, catalogue: Catalogue) -> None:
    message = refusal(tmp_path, catalogue, {"weekly": [{"room": "evening"}]})
    assert "days: this field is missing" in message


@pytest.mark.parametrize(("start", "end"), [("20:00", "19:00"), ("19:00", "19:00")])
def test_end_not_after_start(tmp_path: Path, catalogue: Catalogue, start: str, end: str) -> None:
    message = refusal(tmp_path, catalogue, {"weekly": [weekly(start=start, end=end)]})
    assert f"end {end} is not after start {start}" in message
    assert "overnight: true" in message


def test_overnight_session_longer_than_a_day(tmp_path: Path, catalogue: Catalogue) -> None:
    entry = weekly(start="19:00", end="20:00", overnight=True)
    assert "must be earlier than its start" in refusal(tmp_path, catalogue, {"weekly": [entry]})


def test_overnight_must_be_true_or_false(tmp_path: Path, catalogue: Catalogue) -> None:
    text = "weekly:\n  - room: evening\n    days: [mon]\n    overnight: yes\n"
    assert "overnight: must be true or false" in refusal(tmp_path, catalogue, text)


@pytest.mark.parametrize("value", ["7pm", "25:00", "19:60", "19.00", 1900, "", "19:00:00"])
def test_malformed_time(tmp_path: Path, catalogue: Catalogue, value: object) -> None:
    message = refusal(tmp_path, catalogue, {"weekly": [weekly(start=value)]})
    assert "start:" in message and "is not a time: write it as HH:MM" in message


@pytest.mark.parametrize("zone", ["Europe/Londn", "", "GMT+1 hour", "../../etc/passwd", 0])
def test_bad_time_zone(tmp_path: Path, catalogue: Catalogue, zone: object) -> None:
    message = refusal(tmp_path, catalogue, {"timezone": zone, "weekly": [weekly()]})
    assert "timezone:" in message and "is not a known time zone" in message


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("2026-02-30", "is not a real date"),
        ("24/12/2026", "write it as YYYY-MM-DD"),
        ("2026-1-5", "write it as YYYY-MM-DD"),
        ("20261224", "write it as YYYY-MM-DD"),
        (20261224, "write it as YYYY-MM-DD"),
    ],
)
def test_malformed_dates(tmp_path: Path, catalogue: Catalogue, value: object, reason: str) -> None:
    data = {
        "one_off": [{"room": "quiet", "date": value}],
        "cancelled": [{"room": "evening", "date": value}],
        "weekly": [weekly(first_date=value)],
    }
    message = refusal(tmp_path, catalogue, data)
    assert message.count(reason) == 3
    assert "one_off entry 1 (room 'quiet'): date:" in message
    assert "cancelled entry 1 (room 'evening'): date:" in message
    assert "weekly entry 1 (room 'evening'): first_date:" in message


def test_unquoted_date_is_understood(tmp_path: Path, catalogue: Catalogue) -> None:
    text = "one_off:\n  - room: quiet\n    date: 2026-07-01\n"
    schedule = load_schedule(write(tmp_path, text), catalogue)
    assert next_session(schedule, "quiet", utc(2026, 6, 1)) is not None


def test_last_date_before_first_date(tmp_path: Path, catalogue: Catalogue) -> None:
    entry = weekly(first_date="2026-12-20", last_date="2026-12-06")
    message = refusal(tmp_path, catalogue, {"weekly": [entry]})
    assert "last_date 2026-12-06 is before first_date 2026-12-20" in message


def test_cancelling_a_day_without_a_session(tmp_path: Path, catalogue: Catalogue) -> None:
    data = {"weekly": [weekly()], "cancelled": [{"room": "evening", "date": "2026-12-25"}]}
    message = refusal(tmp_path, catalogue, data)
    assert "room 'evening' has no weekly session on 2026-12-25 (friday) to cancel" in message


def test_cancelling_a_start_time_that_is_not_scheduled(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    cancel = {"room": "evening", "date": "2026-12-27", "start": "18:00"}
    message = refusal(tmp_path, catalogue, {"weekly": [weekly()], "cancelled": [cancel]})
    assert "no weekly session on 2026-12-27 (sunday) at 18:00 to cancel" in message


def test_cancellation_listed_twice(tmp_path: Path, catalogue: Catalogue) -> None:
    cancel = {"room": "evening", "date": "2026-12-27"}
    message = refusal(tmp_path, catalogue, {"weekly": [weekly()], "cancelled": [cancel, cancel]})
    assert "room 'evening' on 2026-12-27 is listed twice" in message


def test_weekly_sessions_of_one_room_that_overlap(tmp_path: Path, catalogue: Catalogue) -> None:
    entries = [
        weekly(days=["monday", "sunday"]),
        weekly(days=["sunday"], start="20:00", end="21:00"),
    ]
    message = refusal(tmp_path, catalogue, {"weekly": entries})
    assert "two sessions of room 'evening' overlap (19:00-20:30 and 20:00-21:00" in message


def test_overnight_sunday_session_overlapping_monday_morning(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    entries = [
        weekly("night", ["sunday"], start="23:00", end="01:00", overnight=True),
        weekly("night", ["monday"], start="00:30", end="02:00"),
    ]
    assert "overlap" in refusal(tmp_path, catalogue, {"weekly": entries})


def test_different_rooms_may_meet_at_the_same_time(tmp_path: Path, catalogue: Catalogue) -> None:
    schedule = schedule_of(tmp_path, catalogue, weekly=[weekly(), weekly("quiet")])
    assert next_session(schedule, "quiet", utc(2026, 1, 5)) is not None


def test_weekly_sessions_with_separate_date_ranges_may_share_a_time(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    entries = [weekly(last_date="2026-12-31"), weekly(first_date="2027-01-01", end="21:00")]
    schedule = schedule_of(tmp_path, catalogue, weekly=entries)
    found = next_session(schedule, "evening", utc(2027, 1, 1))
    assert found is not None and found.ends_at == utc(2027, 1, 3, 21)


def test_one_off_overlapping_a_weekly_session(tmp_path: Path, catalogue: Catalogue) -> None:
    one_off = {"room": "evening", "date": "2026-12-27", "start": "20:00", "end": "21:00"}
    message = refusal(tmp_path, catalogue, {"weekly": [weekly()], "one_off": [one_off]})
    assert "one_off: room 'evening' on 2026-12-27 20:00-21:00 overlaps another session" in message


def test_one_off_replacing_a_cancelled_weekly_session(tmp_path: Path, catalogue: Catalogue) -> None:
    schedule = schedule_of(
        tmp_path,
        catalogue,
        weekly=[weekly()],
        one_off=[{"room": "evening", "date": "2026-12-27", "start": "20:00", "end": "21:00"}],
        cancelled=[{"room": "evening", "date": "2026-12-27"}],
    )
    found = sessions_between(schedule, "evening", utc(2026, 12, 27), utc(2026, 12, 28))
    assert starts(found) == [utc(2026, 12, 27, 20)]


def test_two_one_offs_that_overlap(tmp_path: Path, catalogue: Catalogue) -> None:
    one_offs = [
        {"room": "quiet", "date": "2026-12-24", "start": "16:00", "end": "17:00"},
        {"room": "quiet", "date": "2026-12-24", "start": "16:30", "end": "18:00"},
    ]
    assert "overlaps another session" in refusal(tmp_path, catalogue, {"one_off": one_offs})


def test_unknown_top_level_key(tmp_path: Path, catalogue: Catalogue) -> None:
    message = refusal(tmp_path, catalogue, {"weekley": [weekly()]})
    assert "unknown key 'weekley'" in message


def test_unknown_field_in_an_entry(tmp_path: Path, catalogue: Catalogue) -> None:
    message = refusal(tmp_path, catalogue, {"weekly": [weekly(strat="19:00")]})
    assert "strat: this field is not known" in message


def test_section_that_is_not_a_list(tmp_path: Path, catalogue: Catalogue) -> None:
    message = refusal(tmp_path, catalogue, {"weekly": weekly()})
    assert "weekly: must be a list of entries" in message


def test_entry_that_is_not_a_mapping(tmp_path: Path, catalogue: Catalogue) -> None:
    message = refusal(tmp_path, catalogue, {"cancelled": ["2026-12-25"]})
    assert "cancelled entry 1: must be a mapping" in message


def test_file_that_is_not_a_mapping(tmp_path: Path, catalogue: Catalogue) -> None:
    assert "must be a mapping" in refusal(tmp_path, catalogue, [weekly()])


def test_bad_yaml(tmp_path: Path, catalogue: Catalogue) -> None:
    message = refusal(tmp_path, catalogue, "weekly:\n  - room: evening\n   days: [mon\n")
    assert "not valid YAML" in message and "line " in message


def test_missing_file(tmp_path: Path, catalogue: Catalogue) -> None:
    with pytest.raises(ScheduleError, match="cannot read the file"):
        load_schedule(tmp_path / "missing.yaml", catalogue)


def test_every_problem_is_listed(tmp_path: Path, catalogue: Catalogue) -> None:
    data = {
        "timezone": "Mars/Olympus",
        "weekly": [weekly("nowhere"), weekly(days=["someday"])],
        "one_off": [{"room": "quiet", "date": "2026-13-01"}],
    }
    message = refusal(tmp_path, catalogue, data)
    assert "4 problem(s)" in message
