"""Queue news and routing rounds that read a bounded part of a long queue, checked against the
whole queue worked out at once (a real database: SQLite, or PostgreSQL when CI names it)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from chat.core import streams
from chat.core.models import Conversation, ReturnVisit, Staff, VisitorSession
from chat.core.services import Services
from chat.core.settings import Settings
from chat.helpline import queue_news, queue_state, sockets
from chat.helpline.assign import install as install_routing
from chat.helpline.assign import route
from chat.helpline.estimate import Handling, each_estimate, estimates, kind_of
from chat.helpline.queue_news import estimate_fields, news_of
from chat.helpline.routing import SPECIALISMS, Adviser, Waiting, assign, in_order
from tests.chat.test_routing import queues, teams
from tests.conftest import node_services, running_server
from tests.wsclient import visitor

START = datetime(2026, 12, 6, 18, 0, tzinfo=UTC)
TOPICS = (None, None, "abuse", "drugs")


@settings(max_examples=300, deadline=None)
@given(queue=queues, team=teams, split=st.integers(0, 40))
def test_a_stretch_counted_from_those_ahead_has_the_whole_queues_estimates(
    queue: list[Waiting], team: list[Adviser], split: int
) -> None:
    """Estimates worked out for a stretch of the queue alone, from how many of each kind wait
    ahead of it, are those of the whole queue worked out at once."""
    handling = Handling(600, 90)
    whole = estimates(queue, team, handling)
    ordered = in_order(queue)
    ahead: dict[Any, int] = {}
    for waiting in ordered[:split]:
        ahead[kind_of(waiting)] = ahead.get(kind_of(waiting), 0) + 1
    stretch = dict(each_estimate(ordered[split:], team, handling, ahead))
    assert {w.id: e for w, e in stretch.items()} == {w.id: whole[w.id] for w in ordered[split:]}


async def _advisers(services: Services, team: list[dict[str, Any]]) -> None:
    async with services.db.write() as session:
        await session.execute(
            insert(Staff),
            [
                {
                    "username": f"news-{index}",
                    "display_name": f"News {index}",
                    "password_hash": "x",
                    "role": "adviser",
                    "available": True,
                    "trained_at": START,
                    **member,
                }
                for index, member in enumerate(team)
            ],
        )


async def _queue(
    services: Services,
    count: int,
    seed: int,
    staff_ids: list[int],
    any_share: float = 0.15,
    languages: tuple[str, ...] = ("en", "en", "ur", "pl"),
) -> list[int]:
    """`count` waiting women of mixed languages, topics, risks and choices, joined a second
    apart after any already waiting; some came back to an adviser and wait for her."""
    async with services.db.read() as session:
        already = len(await queue_state.waiting_page(session, limit=None))
    chance = random.Random(seed)
    made: list[int] = []
    async with services.db.write() as session:
        for index in range(count):
            language = chance.choice(languages)
            topic = chance.choice(TOPICS)
            visitor = VisitorSession(
                token_hash=f"{seed}-{already + index}", language=language, topic=topic
            )
            session.add(visitor)
            await session.flush()
            stream = await streams.new_stream(session, "conversation")
            session.add(
                Conversation(
                    id=stream.id,
                    visitor_id=visitor.id,
                    status="waiting",
                    language=language,
                    topic=topic,
                    priority=chance.choice((0, 0, 0, 1, 3)),
                    any_adviser=chance.random() < any_share,
                    created_at=START + timedelta(seconds=already + index),
                )
            )
            await session.flush()
            if staff_ids and chance.random() < 0.1:
                session.add(
                    ReturnVisit(
                        conversation_id=stream.id,
                        adviser_id=chance.choice(staff_ids),
                        wait_for_adviser=True,
                    )
                )
            made.append(stream.id)
    return made


async def _whole(services: Services) -> tuple[dict[int, dict[str, Any]], list[Waiting]]:
    """Every waiting woman's `queue` event worked out from the whole queue at once."""
    async with services.db.read() as session:
        page = await queue_state.waiting_page(session, limit=None)
        team = [a for _, a in (await queue_state.advisers(session, services.settings)).values()]
    ordered = in_order([w for w, _ in page])
    found = estimates(ordered, team, await news_of(services).handling())
    return {
        w.id: {
            "type": "queue",
            "conversation_id": w.id,
            "position": position,
            "waiting": len(ordered),
            "estimate": estimate_fields(found[w.id]),
        }
        for position, w in enumerate(ordered, start=1)
    }, ordered


TEAM: list[dict[str, Any]] = [
    {"capacity": 2, "languages": ["en"], "specialisms": None},
    {"capacity": 3, "languages": ["en", "ur"], "specialisms": ["domestic_abuse"]},
    {"capacity": 1, "languages": ["pl"], "specialisms": list(SPECIALISMS)},
]


async def test_news_in_stretches_tells_every_woman_what_the_whole_queue_says(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each tick reads the front and one stretch further back; over a few ticks every woman's
    position, the queue's length and her estimate are those of the whole queue, and no tick
    reads more than the front and one stretch."""
    monkeypatch.setattr(queue_news, "FRONT", 5)
    monkeypatch.setattr(queue_news, "STRETCH", 7)
    monkeypatch.setattr(queue_news, "SLICE", 4)
    await _advisers(services, TEAM)
    async with services.db.read() as session:
        staff_ids = list(await session.scalars(select(Staff.id)))
    await _queue(services, 40, seed=11, staff_ids=staff_ids)
    expected, ordered = await _whole(services)
    news = news_of(services)
    heard: dict[int, dict[str, Any]] = {}
    ticks = 0
    while len(heard) < len(expected):
        told = await news.stretch_news()
        assert len(told) <= 5 + 7
        heard.update((event["conversation_id"], event) for _, event in told)
        ticks += 1
        assert ticks <= 6, "every woman is reached within (40 - 5) / 7 ticks"
    assert heard == expected
    # The front is told at every tick.
    front = {w.id for w in ordered[:5]}
    told = await news.stretch_news()
    assert front <= {event["conversation_id"] for _, event in told}
    # Her first event, worked out for her alone, says the same as the whole queue.
    for conversation_id, event in expected.items():
        assert await news.one_for(conversation_id) == event
    # She joins far back (as in a surge): her estimate counts those ahead of her as the last
    # tick counted the queue by kind, which is exact when nothing else changed since.
    monkeypatch.setattr(queue_news, "ARRIVAL_EXACT", 10)
    await news.stretch_news()
    assert news.everyone and sum(news.everyone.values()) == len(ordered)
    (late,) = await _queue(services, 1, seed=12, staff_ids=[])
    async with services.db.write() as session:
        joined = await session.get(Conversation, late)
        assert joined is not None
        joined.priority = 0  # no risk known yet: last in line
    expected, ordered = await _whole(services)
    assert ordered[-1].id == late
    assert await news.one_for(late) == expected[late]


async def test_news_forgets_chats_that_left_the_queue(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queue_news, "FRONT", 3)
    monkeypatch.setattr(queue_news, "STRETCH", 4)
    await _advisers(services, TEAM[:1])
    made = await _queue(services, 12, seed=3, staff_ids=[])
    news = news_of(services)
    for conversation_id in made:
        assert await news.one_for(conversation_id) is not None
    gone = made[:6]
    async with services.db.write() as session:
        for conversation_id in gone:
            conversation = await session.get(Conversation, conversation_id)
            assert conversation is not None
            conversation.status = "ended"
    for _ in range(3):
        await news.stretch_news()
    assert not set(gone) & set(news.sent)
    assert await news.one_for(gone[0]) is None


@asynccontextmanager
async def auto_routing(settings: Settings) -> AsyncIterator[Services]:
    merged = {**settings.model_dump(), "assignment": "auto", "chats_need_training": True}
    async with node_services(Settings(**merged)) as services:
        router = install_routing(services)
        # Rounds run here, when the test calls them.
        router.wanted = lambda arrival=False: None  # type: ignore[method-assign]
        yield services


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_a_round_reading_a_few_rows_decides_as_on_the_whole_queue(
    settings: Settings, seed: int
) -> None:
    """A round reads a first page about as long as the free places, then longer pages; its
    hand-overs are those the decision makes on the whole queue, also when the only woman
    who matches a free adviser waits far behind the first page."""
    async with auto_routing(settings) as services:
        await _advisers(
            services,
            [
                {"capacity": 1, "languages": ["so"], "specialisms": None},
                {"capacity": seed - 1, "languages": ["ur"], "specialisms": None},
            ],
        )
        await _queue(services, 120, seed=seed, staff_ids=[], any_share=0.0, languages=("en",))
        # The one Somali writer joins last; the Urdu writers after her.
        await _queue(services, 1, seed=seed, staff_ids=[], any_share=0.0, languages=("so",))
        await _queue(services, 3, seed=seed, staff_ids=[], any_share=0.0, languages=("ur",))
        async with services.db.read() as session:
            team = [a for _, a in (await queue_state.advisers(session, services.settings)).values()]
        _, ordered = await _whole(services)
        expected = assign(ordered, team)
        assert len(expected) == 1 + min(seed - 1, 3)
        made = await route(services)
        assert made == expected
        # The hand-overs' news (staff, board) runs after the commit: let it finish.
        await asyncio.sleep(0.2)
        async with services.db.read() as session:
            for conversation_id, adviser_id in made:
                conversation = await session.get(Conversation, conversation_id)
                assert conversation is not None
                assert (conversation.status, conversation.adviser_id) == ("active", adviser_id)


async def test_women_joining_at_once_take_turns_and_each_hears_her_place(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twelve women ask at the same moment while the node works on two arrivals at a time:
    every one joins, each hears her own place, and no place is given twice."""
    monkeypatch.setattr(sockets, "ARRIVALS_AT_ONCE", 2)
    async with running_server(settings) as server:
        women = [(await visitor(server))[0] for _ in range(12)]
        await asyncio.gather(*(her.send({"type": "request_chat"}) for her in women))
        heard = await asyncio.gather(*(her.receive("queue") for her in women))
        assert sorted(event["position"] for event in heard) == list(range(1, 13))
        assert {event["waiting"] for event in heard} <= set(range(1, 13))
        assert len({event["conversation_id"] for event in heard}) == 12
