"""Coming back to the same adviser never means waiting for ever: she is told at once when her
adviser is not available, asked again when the adviser stays full past the set time or goes
away, and nothing changes until she answers (on a real server, auto-assignment)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from chat.core.models import ReturnVisit
from chat.core.settings import Settings
from tests.chat.test_routing_server import adviser, routed
from tests.wsclient import Client, Server, visitor


async def _taken_by(server: Server, ada: Client) -> tuple[Client, int]:
    """A woman asks to talk and Ada, free, is given her at once (she may be given her before
    any `queue` event reaches her)."""
    her, _ = await visitor(server)
    await her.send({"type": "request_chat"})
    conversation = int((await ada.receive("assigned"))["conversation_id"])
    await her.receive("assigned", conversation_id=conversation)
    return her, conversation


async def _code_for(server: Server, ada: Client) -> str:
    """A woman talks with Ada, takes a return code at the end and goes."""
    her, conversation = await _taken_by(server, ada)
    await ada.send({"type": "end", "conversation_id": conversation})
    await her.receive("ended", conversation_id=conversation)
    await her.send(
        {"type": "take_return_code", "conversation_id": conversation, "keep_summary": True}
    )
    words = (await her.receive("return_code"))["words"]
    await her.close()
    return " ".join(words)


async def _full(server: Server, ada: Client) -> Client:
    """Another woman takes Ada's one place."""
    other, _ = await _taken_by(server, ada)
    return other


async def _back(server: Server, code: str) -> tuple[Client, str, dict[str, Any]]:
    token = await server.visitor_token()
    back, _ = await visitor(server, token)
    await back.send({"type": "come_back", "code": code})
    offer = await back.receive("returning")
    await back.receive("queue", conversation_id=offer["conversation_id"])
    return back, token, offer


async def _wait_for(back: Client, conversation: int, wait: bool) -> dict[str, Any]:
    await back.send({"type": "wait_for_adviser", "conversation_id": conversation, "wait": wait})
    return await back.receive("waiting_for_adviser", conversation_id=conversation, wait=wait)


async def test_she_is_asked_again_when_her_adviser_stays_full_and_is_never_moved_silently(
    settings: Settings,
) -> None:
    async with routed(settings, return_wait_seconds=0.5) as server:
        ada, ada_login = await adviser(server, capacity=1)
        code = await _code_for(server, ada)
        other = await _full(server, ada)

        back, token, offer = await _back(server, code)
        assert offer["adviser_name"] == ada_login.display_name
        assert offer["adviser_available"] is True
        conversation = offer["conversation_id"]
        chosen = await _wait_for(back, conversation, True)
        assert chosen["seq"] >= 1 and chosen["adviser_name"] == ada_login.display_name

        # Bea is free, but she chose Ada: Bea does not get her.
        bea, bea_login = await adviser(server)
        asked = await back.receive("return_offer", conversation_id=conversation, timeout=15)
        assert asked["reason"] == "busy" and asked["adviser_name"] == ada_login.display_name
        assert bea.of_type("assigned") == []
        await back.drain(0.3)
        assert back.of_type("assigned") == [], "asked, not moved"

        # A reload shows the question again (it is stored), then her answer.
        resume = [{"conversation_id": conversation, "last_seq": 0}]
        again, _ = await visitor(server, token, resume=resume)
        await again.receive("return_offer", conversation_id=conversation)
        await again.close()

        # She answers: the next adviser free. Bea takes her at once.
        await _wait_for(back, conversation, False)
        await bea.receive("assigned", conversation_id=conversation)
        taken = await back.receive("assigned", conversation_id=conversation)
        assert taken["adviser_name"] == bea_login.display_name
        for client in (ada, bea, back, other):
            await client.close()


async def test_she_is_asked_only_once_per_choice_and_keeping_on_waiting_is_kept(
    settings: Settings,
) -> None:
    async with routed(settings, return_wait_seconds=0.5) as server:
        ada, _ = await adviser(server, capacity=1)
        code = await _code_for(server, ada)
        other = await _full(server, ada)
        back, _, offer = await _back(server, code)
        conversation = offer["conversation_id"]
        await _wait_for(back, conversation, True)
        await back.receive("return_offer", conversation_id=conversation, timeout=15)
        # She keeps waiting: not asked again until the set time has passed once more.
        await _wait_for(back, conversation, True)
        assert server.services is not None
        async with server.services.db.read() as session:
            visit = await session.get(ReturnVisit, conversation)
            assert visit is not None and visit.wait_for_adviser and visit.offered_at is None
        await back.receive("return_offer", conversation_id=conversation, timeout=15)
        assert len(back.of_type("return_offer")) == 2

        # Ada's place frees up: she is Ada's at once.
        busy = other.of_type("assigned")[0]["conversation_id"]
        await ada.send({"type": "end", "conversation_id": busy})
        await back.receive("assigned", conversation_id=conversation)
        for client in (ada, back, other):
            await client.close()


async def test_her_adviser_going_away_asks_her_at_once(settings: Settings) -> None:
    # A long set time: only Ada going away can ask her here.
    async with routed(
        settings,
        return_wait_seconds=3600,
        staff_grace_seconds=0.3,
        presence_sweep_seconds=0.3,
    ) as server:
        ada, ada_login = await adviser(server, capacity=1)
        code = await _code_for(server, ada)
        other = await _full(server, ada)
        back, _, offer = await _back(server, code)
        conversation = offer["conversation_id"]
        await _wait_for(back, conversation, True)

        # Ada sets herself not available.
        await ada.send({"type": "set_available", "available": False})
        asked = await back.receive("return_offer", conversation_id=conversation)
        assert asked["reason"] == "away"
        await _wait_for(back, conversation, True)

        # Available again, then her console closes: past the staff grace, asked again.
        await ada.send({"type": "set_available", "available": True})
        await ada.receive("status", available=True)
        await ada.close()
        await back.receive("return_offer", conversation_id=conversation, reason="away", timeout=10)
        assert len(back.of_type("return_offer")) == 2

        # Coming back the next day, she is told at once that Ada is not available.
        await back.send({"type": "end", "conversation_id": conversation})
        await back.receive("ended", conversation_id=conversation)
        later, _, offer = await _back(server, code)
        assert offer["adviser_name"] == ada_login.display_name
        assert offer["adviser_available"] is False
        for client in (back, other, later):
            await client.close()


async def test_answers_to_the_offer_out_of_turn_are_refused_and_change_nothing(
    settings: Settings,
) -> None:
    async with routed(settings, return_wait_seconds=3600) as server:
        ada, _ = await adviser(server, capacity=1)
        code = await _code_for(server, ada)
        other = await _full(server, ada)
        back, _, offer = await _back(server, code)
        conversation = offer["conversation_id"]
        await _wait_for(back, conversation, True)
        for bad in (
            {"type": "wait_for_adviser", "conversation_id": conversation, "wait": "no"},
            {"type": "wait_for_adviser", "conversation_id": conversation},
            {"type": "wait_for_adviser", "conversation_id": conversation, "wait": True, "x": 1},
        ):
            await back.send(bad)
            await back.receive("error", code="invalid")
        await back.send({"type": "wait_for_adviser", "conversation_id": 999999, "wait": False})
        assert (await back.receive("error", ref="wait_for_adviser"))["code"] == "not_found"
        assert server.services is not None
        async with server.services.db.read() as session:
            visit = (
                await session.execute(
                    select(ReturnVisit).where(ReturnVisit.conversation_id == conversation)
                )
            ).scalar_one()
        assert visit.wait_for_adviser is True and visit.chose_at is not None
        # Saying "any adviser" to the language offer means any: she no longer waits for Ada.
        await back.send({"type": "any_adviser", "conversation_id": conversation, "accept": True})
        await back.receive("routing_choice", conversation_id=conversation)
        async with server.services.db.read() as session:
            visit = await session.get(ReturnVisit, conversation, populate_existing=True)
        assert visit is not None and visit.wait_for_adviser is False
        for client in (ada, back, other):
            await client.close()


async def test_a_reload_before_she_answers_asks_again_and_her_answer_settles_it(
    settings: Settings,
) -> None:
    async with routed(settings, return_wait_seconds=3600) as server:
        ada, ada_login = await adviser(server, capacity=1)
        code = await _code_for(server, ada)
        # Ada is busy, so she waits and is asked whether to wait for Ada.
        other = await _full(server, ada)
        back, token, offer = await _back(server, code)
        conversation = offer["conversation_id"]
        assert offer["adviser_name"] == ada_login.display_name
        assert isinstance(offer["seq"], int), "stored in her conversation, as return_offer is"

        # She reloads before answering: the question comes back, the same one.
        await back.close()
        reloaded, _ = await visitor(server, token)
        asked = await reloaded.receive("returning", conversation_id=conversation)
        assert asked == offer
        await reloaded.receive("queue", conversation_id=conversation)

        # She answers, then reloads again: the replay has her answer after the question.
        await _wait_for(reloaded, conversation, True)
        await reloaded.close()
        later, _ = await visitor(server, token)
        await later.receive("waiting_for_adviser", conversation_id=conversation)
        replayed = [e["type"].removeprefix("taken:") for e in later.events if "seq" in e]
        assert replayed.count("returning") == 1
        assert replayed.index("returning") < replayed.index("waiting_for_adviser")
        for client in (ada, other, later):
            await client.close()
