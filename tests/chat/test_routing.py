"""The routing decision and the wait estimate, tested directly (pure functions, no server)."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from chat.helpline.estimate import Handling, estimate, estimates, smooth
from chat.helpline.routing import (
    SPECIALISMS,
    Adviser,
    Waiting,
    adviser_state,
    assign,
    matches,
    may_pick,
    next_for,
    should_offer,
    specialism_for,
)

LANGS = ("en", "ur", "pl", "ar")


def test_risk_comes_before_time_waited() -> None:
    queue = [
        Waiting(1, risk=0, since=0),
        Waiting(2, risk=3, since=50),
        Waiting(3, risk=0, since=10),
    ]
    assert assign(queue, [Adviser(10, capacity=1)]) == [(2, 10)]
    assert assign(queue, [Adviser(10, capacity=3)]) == [(2, 10), (1, 10), (3, 10)]


def test_the_urdu_writer_reaches_the_adviser_who_reads_urdu() -> None:
    queue = [Waiting(1, 0, 0, language="ur"), Waiting(2, 0, 1, language="en")]
    advisers = [
        Adviser(10, 1, languages=frozenset({"en"})),
        Adviser(11, 1, languages=frozenset({"en", "ur"})),
    ]
    assert sorted(assign(queue, advisers)) == [(1, 11), (2, 10)]


def test_she_came_back_to_wait_for_her_adviser_and_nobody_else_takes_her() -> None:
    queue = [Waiting(1, risk=2, since=0, for_adviser=11), Waiting(2, risk=0, since=5)]
    first, second = Adviser(10, capacity=2), Adviser(11, capacity=2)
    assert next_for(queue, first) == queue[1]
    assert next_for(queue, second) == queue[0]
    assert sorted(assign(queue, [first])) == [(2, 10)]
    assert sorted(assign(queue, [first, second])) == [(1, 11), (2, 10)]


def test_her_topic_needs_the_specialism_until_she_says_anyone_will_do() -> None:
    her = Waiting(1, 0, 0, language="en", specialism="sexual_violence")
    general = Adviser(10, 2)
    assert assign([her], [general]) == []
    assert should_offer(her, [general], now=100, match_seconds=120) is False
    assert should_offer(her, [general], now=130, match_seconds=120) is True
    anyone = Waiting(1, 0, 0, language="en", specialism="sexual_violence", any_adviser=True)
    assert assign([anyone], [general]) == [(1, 10)]
    assert should_offer(anyone, [general], now=500, match_seconds=120) is False


def test_no_offer_when_a_matching_adviser_is_free_or_everyone_matches() -> None:
    her = Waiting(1, 0, 0, language="ur")
    assert should_offer(her, [Adviser(10, 1, languages=frozenset({"ur"}))], 999, 60) is False
    busy_urdu = Adviser(10, 1, active=1, languages=frozenset({"ur"}))
    assert should_offer(her, [busy_urdu], 999, 60) is False
    assert should_offer(her, [busy_urdu, Adviser(11, 1)], 999, 60) is True


def test_untrained_unavailable_and_full_advisers_take_nothing() -> None:
    queue = [Waiting(1, 0, 0)]
    assert assign(queue, [Adviser(10, 2, trained=False)]) == []
    assert assign(queue, [Adviser(10, 2, available=False)]) == []
    assert assign(queue, [Adviser(10, 2, active=2)]) == []
    assert next_for(queue, Adviser(10, 2, trained=False)) is None


def test_next_for_and_picking_never_pass_over_higher_risk_she_matches() -> None:
    queue = [Waiting(1, 0, 0), Waiting(2, 2, 5, language="ur"), Waiting(3, 1, 9)]
    english = Adviser(10, 2)
    assert next_for(queue, english) == queue[2]  # the Urdu chat is not hers
    assert may_pick(queue, english, 3) is True
    assert may_pick(queue, english, 1) is False  # chat 3 has higher risk and matches her
    assert may_pick(queue, english, 2) is False
    assert may_pick(queue, english, 99) is False


def test_an_adviser_whose_specialisms_were_never_recorded_takes_any_topic() -> None:
    her = Waiting(1, 0, 0, specialism="sex_work")
    assert assign([her], [Adviser(10, 1, specialisms=None)]) == [(1, 10)]
    assert assign([her], [Adviser(10, 1, specialisms=frozenset())]) == []


def test_topics_map_to_specialisms() -> None:
    assert specialism_for("abuse") == "domestic_abuse"
    assert specialism_for("talk") is None
    assert specialism_for(None) is None
    assert all(specialism_for(t) in SPECIALISMS for t in ("drugs", "children", "health"))


waitings = st.builds(
    Waiting,
    id=st.integers(1, 10_000),
    risk=st.integers(0, 3),
    since=st.floats(0, 10_000, allow_nan=False),
    language=st.sampled_from((None, *LANGS)),
    specialism=st.sampled_from((None, *SPECIALISMS[:3])),
    any_adviser=st.booleans(),
    for_adviser=st.one_of(st.none(), st.none(), st.integers(1, 50)),
)
advisers = st.builds(
    Adviser,
    id=st.integers(1, 50),
    capacity=st.integers(1, 4),
    active=st.integers(0, 4),
    available=st.booleans(),
    trained=st.booleans(),
    languages=st.frozensets(st.sampled_from(LANGS), max_size=3),
    specialisms=st.one_of(st.none(), st.frozensets(st.sampled_from(SPECIALISMS[:3]), max_size=2)),
)
queues = st.lists(waitings, max_size=40, unique_by=lambda w: w.id)
teams = st.lists(advisers, max_size=8, unique_by=lambda a: a.id)


@settings(max_examples=300, deadline=None)
@given(queue=queues, team=teams)
def test_properties_of_assign(queue: list[Waiting], team: list[Adviser]) -> None:
    decided = assign(queue, team)
    by_id = {a.id: a for a in team}
    chats = [c for c, _ in decided]
    # Never one chat to two advisers.
    assert len(chats) == len(set(chats))
    # Never over capacity; never an adviser who may not take chats; always a match.
    load = Counter(a for _, a in decided)
    for adviser_id, count in load.items():
        adviser = by_id[adviser_id]
        assert adviser.available and adviser.trained
        assert adviser.active + count <= adviser.capacity
    waiting = {w.id: w for w in queue}
    for chat, adviser_id in decided:
        assert matches(waiting[chat], by_id[adviser_id])
    # Never a lower-risk chat before an eligible higher-risk one: a chat left waiting could
    # not have used any place that was given to a chat of lower (or equal, later) rank.
    left = [w for w in queue if w.id not in set(chats)]
    for skipped in left:
        for chat, adviser_id in decided:
            given_to = waiting[chat]
            if (skipped.risk, -skipped.since) > (given_to.risk, -given_to.since):
                assert not matches(skipped, by_id[adviser_id])
    # Work is not left undone: a chat left waiting has no matching adviser with a place left.
    for skipped in left:
        for adviser in team:
            if adviser.available and adviser.trained and matches(skipped, adviser):
                assert adviser.active + load[adviser.id] >= adviser.capacity


@settings(max_examples=200, deadline=None)
@given(queue=queues, team=teams)
def test_next_for_is_the_first_matching_chat(queue: list[Waiting], team: list[Adviser]) -> None:
    for adviser in team:
        chosen = next_for(queue, adviser)
        if chosen is None:
            assert not adviser.can_take or not any(matches(w, adviser) for w in queue)
            continue
        assert matches(chosen, adviser)
        for other in queue:
            if matches(other, adviser):
                assert (chosen.risk, -chosen.since) >= (other.risk, -other.since)


def test_smoothing_follows_recent_handling_times() -> None:
    assert smooth([]).mean == Handling().mean
    handled = smooth([600] * 20 + [1200] * 20)
    assert 1100 < handled.mean <= 1200
    steady = smooth([600] * 40)
    assert steady.mean == 600 and steady.spread < 1


def test_estimate_is_none_when_no_one_can_answer() -> None:
    her = Waiting(1, 0, 0, language="ur")
    assert estimate(her, [her], [Adviser(10, 3)], Handling(600, 0)) is None
    assert (
        estimate(
            her, [her], [Adviser(10, 3, available=False, languages=frozenset({"ur"}))], Handling()
        )
        is None
    )


def test_an_adviser_without_places_gives_no_estimate() -> None:
    """Capacity 0 in her row (the profile asks for at least 1): she answers nobody, so she
    makes no wait up, and the estimate does not divide by her places."""
    her = Waiting(1, 0, 0, language="ur")
    none = [Adviser(10, 0, languages=frozenset({"ur"}))]
    assert estimate(her, [her], none, Handling(600, 0)) is None
    some = [*none, Adviser(11, 1, active=1, languages=frozenset({"ur"}))]
    found = estimate(her, [her], some, Handling(600, 0))
    assert found is not None and found.high > 0


def test_estimate_grows_with_position_and_shrinks_with_advisers() -> None:
    queue = [Waiting(i, 0, i) for i in range(1, 11)]
    one = [Adviser(10, 2, active=2)]
    handling = Handling(600, 60)
    first = estimate(queue[0], queue, one, handling)
    last = estimate(queue[-1], queue, one, handling)
    assert first is not None and last is not None
    assert first.low <= first.high < last.high
    # Tenth in line for two places of chats lasting ten minutes: about 50 minutes.
    assert last.low < 3000 < last.high
    three = [Adviser(10, 2, active=2), Adviser(11, 2, active=2), Adviser(12, 2, active=2)]
    faster = estimate(queue[-1], queue, three, handling)
    assert faster is not None and faster.high < last.low
    free = estimate(queue[0], queue, [Adviser(10, 2, active=1)], handling)
    assert free is not None and free.high == 0


def test_estimates_agree_with_estimate() -> None:
    queue = [Waiting(i, i % 3, i, language=LANGS[i % 2]) for i in range(1, 30)]
    team = [Adviser(1, 2, 2), Adviser(2, 3, 3, languages=frozenset({"en", "ur"}))]
    everyone = estimates(queue, team, Handling(700, 100))
    for w in queue:
        assert everyone[w.id] == estimate(w, queue, team, Handling(700, 100))


def test_how_the_adviser_she_came_back_to_stands() -> None:
    team = [
        Adviser(id=1, capacity=2, active=1),
        Adviser(id=2, capacity=1, active=1),
        Adviser(id=3, capacity=2, available=False),
        Adviser(id=4, capacity=2, trained=False),
    ]
    assert adviser_state(1, team) == "free"
    assert adviser_state(2, team) == "busy"
    assert [adviser_state(i, team) for i in (3, 4, 99)] == ["away"] * 3


@settings(max_examples=200, deadline=None)
@given(queue=queues, team=teams)
def test_she_who_waits_for_her_adviser_goes_to_her_or_to_nobody(
    queue: list[Waiting], team: list[Adviser]
) -> None:
    decided = dict(assign(queue, team))
    for waiting in queue:
        if waiting.for_adviser is None:
            continue
        if waiting.id in decided:
            assert decided[waiting.id] == waiting.for_adviser
        if adviser_state(waiting.for_adviser, team) != "free":
            # Away or full before the round: only a place she could never have had is left.
            assert waiting.id not in decided
