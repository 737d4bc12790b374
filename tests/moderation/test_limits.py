"""Length, speed, flood and repeat limits for one sender."""

from __future__ import annotations

import dataclasses

import pytest

from moderation.limits import (
    HISTORY_CAPACITY,
    Limits,
    SenderHistory,
    check_limits,
    record,
    retry_after,
)

LIMITS = Limits()


def history_of(*messages: tuple[float, str]) -> SenderHistory:
    history = SenderHistory()
    for when, text in messages:
        history = record(history, text, when)
    return history


def test_ordinary_message_passes() -> None:
    assert check_limits("hello, is anyone there?", SenderHistory(), LIMITS, 0.0, "room") is None


@pytest.mark.parametrize("text", ["", " ", "\n\t  \n"])
def test_empty_or_blank_is_refused(text: str) -> None:
    assert check_limits(text, SenderHistory(), LIMITS, 0.0, "conversation") == "empty"


def test_rooms_allow_shorter_messages_than_conversations() -> None:
    assert check_limits("a" * 1000, SenderHistory(), LIMITS, 0.0, "room") is None
    assert check_limits("a" * 1001, SenderHistory(), LIMITS, 0.0, "room") == "too_long"
    assert check_limits("a" * 4000, SenderHistory(), LIMITS, 0.0, "conversation") is None
    assert check_limits("a" * 4001, SenderHistory(), LIMITS, 0.0, "conversation") == "too_long"


def test_huge_message_is_too_long_not_an_error() -> None:
    assert check_limits("x" * 5_000_000, SenderHistory(), LIMITS, 0.0, "room") == "too_long"


def test_ninth_message_within_ten_seconds_is_too_fast() -> None:
    history = history_of(*((i, f"message number {i}") for i in range(8)))
    assert check_limits("one more thing", history, LIMITS, 8.5, "room") == "too_fast"
    # Once the burst is older than the window she can write again.
    assert check_limits("one more thing", history, LIMITS, 17.5, "room") is None


def test_too_fast_says_when_the_next_message_would_pass() -> None:
    history = history_of(*((i, f"message number {i}") for i in range(8)))
    wait = retry_after("one more thing", history, LIMITS, 8.5)
    # The oldest of the eight (at 0) leaves the ten-second window at 10.
    assert wait == pytest.approx(1.5)
    assert check_limits("one more thing", history, LIMITS, 8.5 + wait, "room") is None
    assert check_limits("one more thing", history, LIMITS, 8.5 + wait - 0.01, "room") == "too_fast"


def test_a_flood_waits_for_its_own_shorter_window() -> None:
    history = history_of(*((i * 0.5, short) for i, short in enumerate(["hi", "?", "x", "ok", "a"])))
    wait = retry_after("?", history, LIMITS, 2.6)
    assert wait == pytest.approx(5.0 - 2.6)
    assert check_limits("?", history, LIMITS, 2.6 + wait, "room") is None
    assert retry_after("a real sentence", history, LIMITS, 2.6) == 0


def test_burst_of_short_messages_is_a_flood() -> None:
    history = history_of(*((i * 0.5, short) for i, short in enumerate(["hi", "?", "x", "ok", "a"])))
    assert check_limits("?", history, LIMITS, 2.6, "room") == "too_fast"
    # A real sentence is not part of the flood.
    assert check_limits("sorry, my phone keeps sending", history, LIMITS, 2.6, "room") is None


def test_same_text_a_third_time_is_repeated() -> None:
    history = history_of((0.0, "is anyone there?"), (20.0, "is anyone there?"))
    assert check_limits("is anyone there?", history, LIMITS, 40.0, "room") == "repeated"
    assert check_limits("hello?", history, LIMITS, 40.0, "room") is None
    assert check_limits("is anyone there?", history, LIMITS, 61.0, "room") is None


def test_repeat_detection_sees_through_case_and_invisible_characters() -> None:
    history = history_of((0.0, "BUY NOW"), (1.0, "buy\u200b now"))
    assert check_limits("Buy Now", history, LIMITS, 2.0, "room") == "repeated"


def test_record_keeps_a_bounded_history_and_does_not_change_the_old_one() -> None:
    empty = SenderHistory()
    history = empty
    for i in range(HISTORY_CAPACITY + 10):
        history = record(history, f"m{i}", float(i))
    assert empty.entries == ()
    assert len(history.entries) == HISTORY_CAPACITY
    assert history.entries[-1].time == HISTORY_CAPACITY + 9


def test_history_holds_no_message_text() -> None:
    history = record(SenderHistory(), "my secret words", 0.0)
    values = [str(value) for value in dataclasses.astuple(history.entries[0])]
    assert not any("secret" in value for value in values)


def test_clock_going_backwards_does_not_break_the_check() -> None:
    history = history_of((100.0, "later message"))
    assert check_limits("earlier?", history, LIMITS, 50.0, "room") is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_length_room", 0),
        ("max_messages_per_window", -1),
        ("window_seconds", 0),
        ("repeat_window_seconds", float("nan")),
        ("max_identical", HISTORY_CAPACITY + 1),
        ("flood_max_short", 2.5),
    ],
)
def test_bad_limits_are_refused_with_the_field_name(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        Limits(**{field: value})  # type: ignore[arg-type]
