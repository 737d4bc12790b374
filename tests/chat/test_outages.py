"""Which failures are an outage of the database or the broker, and what the log says of one."""

from __future__ import annotations

import logging

import pytest
import redis.exceptions
import sqlalchemy.exc

from chat.core.hub import JoinFailed
from chat.core.outages import BROKER, DATABASE, Outages, dependency_of


def test_connection_failures_are_named_by_their_dependency() -> None:
    assert dependency_of(redis.exceptions.ConnectionError("refused")) == BROKER
    assert dependency_of(JoinFailed("s:1")) == BROKER
    lost = sqlalchemy.exc.OperationalError("SELECT 1", {}, ConnectionRefusedError())
    assert dependency_of(lost) == DATABASE


def test_a_mistake_is_not_an_outage() -> None:
    assert dependency_of(ValueError("bad")) is None
    assert dependency_of(KeyError("x")) is None
    # A connection refused by something else (not the database or broker libraries).
    assert dependency_of(ConnectionRefusedError()) is None
    integrity = sqlalchemy.exc.IntegrityError("INSERT", {}, Exception("duplicate"))
    assert dependency_of(integrity) is None


def test_an_outage_is_one_line_when_it_starts_and_one_when_it_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outages = Outages()
    caplog.set_level(logging.WARNING)
    other = logging.getLogger("willow.test")
    for _ in range(500):
        outages.report(redis.exceptions.ConnectionError("refused"), other, "publish failed")
    outages.back(BROKER)
    outages.back(BROKER)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2, lines
    assert lines[0] == "broker unreachable (ConnectionError); counting failures until it returns"
    assert lines[1].startswith("broker reachable again after") and "500 operations" in lines[1]
    assert not any(r.exc_info for r in caplog.records)
    assert (outages.outages[BROKER], outages.failures[BROKER]) == (1, 500)


def test_a_bug_is_still_logged_with_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    outages = Outages()
    try:
        raise ValueError("a bug")
    except ValueError as error:
        outages.report(error, logging.getLogger("willow.test"), "handling failed")
    assert [r.getMessage() for r in caplog.records] == ["handling failed"]
    assert caplog.records[0].exc_info is not None
