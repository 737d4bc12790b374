"""Transfer to a specialism (issue 14): the chat goes to an online, available adviser who holds
the specialism, reads her language and has a free place, or is refused clearly; and two
transfers at once to one adviser never pass her capacity (run on PostgreSQL too)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from chat.core.models import Conversation, Staff
from chat.core.protocol import ProtocolError
from chat.core.settings import Settings
from chat.helpline.staff import set_training
from chat.helpline.transfer import transfer
from tests.conftest import running_server
from tests.wsclient import Client, Server, StaffLogin, staff, visitor


async def _adviser(server: Server, name: str, **profile: object) -> tuple[Client, StaffLogin]:
    login = await server.staff_session("adviser", name)
    if profile:
        await server.set_profile(login.username, **profile)
    return await staff(server, login), login


async def _chat_with(server: Server, adviser: Client, language: str = "en") -> tuple[Client, int]:
    her, _ = await visitor(server, await server.visitor_token(language=language))
    await her.send({"type": "request_chat"})
    queued = await her.receive("queue")
    await adviser.send({"type": "set_available", "available": True})
    await adviser.send({"type": "take_next"})
    await adviser.receive("assigned", conversation_id=queued["conversation_id"])
    return her, int(queued["conversation_id"])


async def _available(client: Client) -> None:
    await client.send({"type": "set_available", "available": True})
    await client.receive("status")


async def _id(server: Server, login: StaffLogin) -> int:
    assert server.services is not None
    async with server.services.db.read() as session:
        found = await session.scalar(select(Staff.id).where(Staff.username == login.username))
    assert found is not None
    return int(found)


def _to(chat: int, specialism: str) -> dict[str, object]:
    return {
        "type": "transfer",
        "conversation_id": chat,
        "to": "specialism",
        "specialism": specialism,
    }


async def test_a_chat_goes_to_a_free_adviser_with_the_specialism_and_her_language(
    server: Server,
) -> None:
    giver, _ = await _adviser(server, "gia", languages=["en", "pl"])
    her, chat = await _chat_with(server, giver, "pl")
    await her.send({"type": "message", "conversation_id": chat, "client_id": "a", "body": "hej"})
    await giver.receive("message", client_id="a")
    # Holds the specialism but does not read Polish.
    ana, _ = await _adviser(server, "ana", specialisms=["domestic_abuse"], languages=["en"])
    await _available(ana)
    # Reads Polish but holds another specialism.
    cat, _ = await _adviser(server, "cat", specialisms=["mental_health"], languages=["en", "pl"])
    await _available(cat)
    bea, bea_login = await _adviser(
        server, "bea", specialisms=["domestic_abuse"], languages=["en", "pl"], capacity=1
    )

    await giver.send(_to(chat, "astrology"))
    error = await giver.receive("error")
    assert (error["code"], error["reason"]) == ("transfer_refused", "no_such_specialism")
    # Bea is online but away: nobody is free.
    await giver.send(_to(chat, "domestic_abuse"))
    error = await giver.receive("error")
    assert (error["code"], error["reason"]) == ("transfer_refused", "nobody_free")

    await _available(bea)
    await giver.send({**_to(chat, "domestic_abuse"), "note": "Needs a DA specialist"})
    assert (await giver.receive("transfer_done", conversation_id=chat))["to"] == "Bea"
    await giver.receive("transferred_away", conversation_id=chat)
    assert (await her.receive("transferred"))["adviser_name"] == "Bea"
    assert (await bea.receive("message", client_id="a"))["body"] == "hej"
    assert (await bea.receive("transfer_note"))["to_staff_id"] == await _id(server, bea_login)

    # Bea is full now (capacity 1): a second chat finds nobody free, and stays with its adviser.
    her2, chat2 = await _chat_with(server, giver, "pl")
    await giver.send(_to(chat2, "domestic_abuse"))
    error = await giver.receive("error")
    assert (error["code"], error["reason"]) == ("transfer_refused", "nobody_free")
    assert server.services is not None
    async with server.services.db.read() as session:
        second = await session.get(Conversation, chat2)
    assert second is not None and second.adviser_id != await _id(server, bea_login)
    # Offline advisers are never chosen: once Bea's socket closes, even a free place is no use.
    await bea.send({"type": "end", "conversation_id": chat})
    await bea.receive("ended", conversation_id=chat)
    await bea.close()
    await asyncio.sleep(0.3)
    await giver.send(_to(chat2, "domestic_abuse"))
    error = await giver.receive("error")
    assert (error["code"], error["reason"]) == ("transfer_refused", "nobody_free")
    await her2.drain(0.1)


@pytest.mark.parametrize("paths", [("adviser", "adviser"), ("adviser", "specialism")])
async def test_two_transfers_at_once_never_pass_the_receivers_capacity(
    server: Server, paths: tuple[str, str]
) -> None:
    """Two advisers hand a chat to the same adviser, who has one free place, at the same time:
    one transfer is made, the other is refused (her staff row is locked while counting)."""
    assert server.services is not None
    services = server.services
    first, first_login = await _adviser(server, "fay", capacity=1)
    _her1, chat1 = await _chat_with(server, first)
    second, second_login = await _adviser(server, "gus", capacity=1)
    _her2, chat2 = await _chat_with(server, second)
    taker, taker_login = await _adviser(server, "hal", capacity=1, specialisms=["domestic_abuse"])
    await _available(taker)
    taker_id = await _id(server, taker_login)

    async with services.db.read() as session:
        givers = [
            await session.get(Staff, await _id(server, login))
            for login in (first_login, second_login)
        ]
    outcomes: list[str] = []

    async def hand(giver: Staff | None, chat: int, to: str) -> None:
        assert giver is not None
        try:
            kwargs = {"specialism": "domestic_abuse"} if to == "specialism" else {}
            await transfer(
                services, giver, chat, to, taker_id if to == "adviser" else None, "", **kwargs
            )  # type: ignore[arg-type]
            outcomes.append("done")
        except ProtocolError as refused:
            outcomes.append(str(refused.extra.get("reason") or refused.code))

    # By name twice, or by name and by specialism: both paths lock her row.
    await asyncio.gather(hand(givers[0], chat1, paths[0]), hand(givers[1], chat2, paths[1]))
    assert sorted(outcomes) in (["at_capacity", "done"], ["done", "nobody_free"])
    async with services.db.read() as session:
        held = await session.scalar(
            select(func.count())
            .select_from(Conversation)
            .where(Conversation.adviser_id == taker_id, Conversation.status == "active")
        )
    assert held == 1
    await first.drain(0.1)
    await second.drain(0.1)


async def test_a_transfer_to_a_specialism_must_name_one(server: Server) -> None:
    giver, _ = await _adviser(server, "ida")
    her, chat = await _chat_with(server, giver)
    await giver.send({"type": "transfer", "conversation_id": chat, "to": "specialism"})
    error = await giver.receive("error")
    assert (error["code"], error["ref"]) == ("invalid", "transfer")
    await giver.send({**_to(chat, "x" * 41)})
    assert (await giver.receive("error"))["code"] == "invalid"
    # Nothing changed: the chat is still hers to write in.
    await giver.send({"type": "message", "conversation_id": chat, "client_id": "m", "body": "ok"})
    await giver.receive("ack", client_id="m")
    await her.receive("message", client_id="m")


async def test_only_a_trained_adviser_is_chosen_when_training_is_needed(settings: Settings) -> None:
    async with running_server(settings.model_copy(update={"chats_need_training": True})) as server:
        assert server.services is not None
        giver, giver_login = await _adviser(server, "jo")
        await set_training(server.services, giver_login.username, True, "test")
        _her, chat = await _chat_with(server, giver)
        untrained, _ = await _adviser(server, "kit", specialisms=["mental_health"])
        await _available(untrained)
        await giver.send(_to(chat, "mental_health"))
        error = await giver.receive("error")
        assert (error["code"], error["reason"]) == ("transfer_refused", "nobody_free")
        trained, trained_login = await _adviser(server, "lee", specialisms=["mental_health"])
        await set_training(server.services, trained_login.username, True, "test")
        await _available(trained)
        await giver.send(_to(chat, "mental_health"))
        assert (await giver.receive("transfer_done"))["to"] == "Lee"
