"""When the database or the broker goes away: one line when it goes, one when it returns.

An outage of PostgreSQL or Redis makes every operation that needs it fail at once; logged one
traceback each, a 5-second Redis outage wrote thousands of lines. Instead each failure that
is an outage (a connection refused, reset or timed out, a server shutting down) is counted
here, and the log says only:

    willow.outages WARNING broker unreachable (ConnectionError); counting failures until it returns
    willow.outages WARNING broker reachable again after 5.2 s; 812 operations failed meanwhile

A failure that is not an outage is still logged with its traceback, as before. While a
dependency is down the node probes it every half second (the probes the app registers), so
the second line comes even when nothing else touches it. The figures are metrics too
(`willow_dependency_up`, `willow_dependency_failures`, `willow_dependency_outages`), labelled by
the dependency's name only.

State is per process, as logging is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from types import TracebackType

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger("willow.outages")

DATABASE = "database"
BROKER = "broker"
DEPENDENCIES = (DATABASE, BROKER)
PROBE_SECONDS = 0.5

Probe = Callable[[], Awaitable[bool]]

# Where a failure was raised tells whose it is: the first library module in its traceback.
_MODULES = (("redis", BROKER), ("asyncpg", DATABASE), ("sqlalchemy", DATABASE))


def _library_of_module(module: str) -> str | None:
    for prefix, dependency in _MODULES:
        if module == prefix or module.startswith(prefix + "."):
            return dependency
    return None


def _library_of(traceback: TracebackType | None) -> str | None:
    found = None
    while traceback is not None:
        module = str(traceback.tb_frame.f_globals.get("__name__", ""))
        for prefix, dependency in _MODULES:
            if module == prefix or module.startswith(prefix + "."):
                found = dependency
        traceback = traceback.tb_next
    return found


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen and len(seen) < 16:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _is_connection_failure(error: BaseException) -> bool:
    """A failure to reach a server, as opposed to a mistake in what was asked of it."""
    import asyncpg  # type: ignore[import-untyped]
    import redis.exceptions
    import sqlalchemy.exc

    if isinstance(error, (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)):
        return True
    if isinstance(error, sqlalchemy.exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(
        error,
        (
            sqlalchemy.exc.OperationalError,
            sqlalchemy.exc.InterfaceError,
            sqlalchemy.exc.TimeoutError,
            asyncpg.exceptions.PostgresConnectionError,
            asyncpg.exceptions.OperatorInterventionError,
            asyncpg.exceptions.InterfaceError,
            asyncpg.exceptions.CannotConnectNowError,
        ),
    ):
        return True
    return isinstance(error, (OSError, TimeoutError, EOFError))


def dependency_of(error: BaseException) -> str | None:
    """`database` or `broker` when `error` is that dependency being unreachable, else None."""
    from chat.core.hub import JoinFailed

    for link in _chain(error):
        if isinstance(link, JoinFailed):
            return BROKER
        if _is_connection_failure(link):
            found = (
                _library_of_module(type(link).__module__)
                or _library_of(link.__traceback__)
                or _library_of(error.__traceback__)
            )
            if found is not None:
                return found
    return None


@dataclass
class _Down:
    since: float
    failures: int = 0


class Outages(Collector):
    """Which dependencies are down, since when, and how often they failed (see the module)."""

    def __init__(self) -> None:
        self._down: dict[str, _Down] = {}
        self._probes: dict[str, Probe] = {}
        self._watchers: dict[str, asyncio.Task[None]] = {}
        self.failures = dict.fromkeys(DEPENDENCIES, 0)
        self.outages = dict.fromkeys(DEPENDENCIES, 0)

    def is_down(self, dependency: str) -> bool:
        return dependency in self._down

    def failed(self, dependency: str, error: BaseException | None = None) -> None:
        """One operation failed because `dependency` is unreachable."""
        self.failures[dependency] += 1
        down = self._down.get(dependency)
        if down is not None:
            down.failures += 1
            return
        self._down[dependency] = _Down(time.monotonic(), 1)
        self.outages[dependency] += 1
        kind = type(error).__name__ if error is not None else "unreachable"
        log.warning("%s unreachable (%s); counting failures until it returns", dependency, kind)
        self._watch(dependency)

    def back(self, dependency: str) -> None:
        """`dependency` answered again."""
        down = self._down.pop(dependency, None)
        if down is None:
            return
        log.warning(
            "%s reachable again after %.1f s; %d operations failed meanwhile",
            dependency,
            time.monotonic() - down.since,
            down.failures,
        )

    def report(
        self, error: BaseException, logger: logging.Logger, message: str, *args: object
    ) -> None:
        """Count `error` if it is an outage; otherwise log `message` with its traceback."""
        dependency = dependency_of(error)
        if dependency is None:
            logger.error(message, *args, exc_info=error)
        else:
            self.failed(dependency, error)

    def probe(self, dependency: str, probe: Probe | None) -> None:
        """How to ask `dependency` whether it is back (None: stop asking)."""
        if probe is None:
            self._probes.pop(dependency, None)
        else:
            self._probes[dependency] = probe

    def _watch(self, dependency: str) -> None:
        if dependency not in self._probes or dependency in self._watchers:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(self._until_back(dependency), name=f"willow-watch-{dependency}")
        self._watchers[dependency] = task
        task.add_done_callback(lambda _task: self._watchers.pop(dependency, None))

    async def _until_back(self, dependency: str) -> None:
        while dependency in self._down:
            await asyncio.sleep(PROBE_SECONDS)
            probe = self._probes.get(dependency)
            if probe is None:
                return
            answered = False
            with contextlib.suppress(Exception):
                answered = await asyncio.wait_for(probe(), PROBE_SECONDS * 4)
            if answered:
                self.back(dependency)

    def stop(self) -> None:
        for task in list(self._watchers.values()):
            task.cancel()
        self._probes.clear()

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        up = GaugeMetricFamily(
            "willow_dependency_up",
            "0 while this node finds the dependency unreachable, else 1",
            labels=["dependency"],
        )
        failures = CounterMetricFamily(
            "willow_dependency_failures",
            "Operations that failed because the dependency was unreachable",
            labels=["dependency"],
        )
        outages = CounterMetricFamily(
            "willow_dependency_outages",
            "Times the dependency became unreachable",
            labels=["dependency"],
        )
        for dependency in DEPENDENCIES:
            up.add_metric([dependency], 0 if dependency in self._down else 1)
            failures.add_metric([dependency], self.failures[dependency])
            outages.add_metric([dependency], self.outages[dependency])
        yield up
        yield failures
        yield outages

    def register(self, registry: CollectorRegistry) -> None:
        with contextlib.suppress(ValueError):  # already registered there
            registry.register(self)


def _outage_errors() -> tuple[type[Exception], ...]:
    import redis.exceptions
    import sqlalchemy.exc

    return (
        sqlalchemy.exc.OperationalError,
        sqlalchemy.exc.InterfaceError,
        sqlalchemy.exc.DBAPIError,
        sqlalchemy.exc.TimeoutError,
        redis.exceptions.ConnectionError,
        redis.exceptions.TimeoutError,
        OSError,
    )


# The exception types an outage may raise (what an HTTP route answers 503 for, once
# `dependency_of` agrees).
OUTAGE_ERRORS = _outage_errors()

# This process's outages (logging is per process too).
OUTAGES = Outages()


def failed_with(error: BaseException, logger: logging.Logger, message: str, *args: object) -> None:
    """Count `error` if it is an outage; otherwise log `message` with its traceback."""
    OUTAGES.report(error, logger, message, *args)
