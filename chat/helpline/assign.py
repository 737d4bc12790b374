"""Routing at work: auto-assignment, the "any adviser?" offer and her answer.

After anything that may let a chat start (she joins the queue, an adviser becomes available,
a chat ends, her risk rises, she says any adviser will do), one routing round runs on the
node where it happened, coalesced so a burst makes one round. A round takes the routing lock
(chat/helpline/queue_state.py), reads the queue and the advisers, lets the pure decision
(chat/helpline/routing.py) choose, and writes every hand-over in that one transaction; then
the adviser's sockets, on whichever node, join the chat (`ConversationAssigned`).

A slow tick on every node runs a round too, so the offer reaches her when her time to match
has passed even if nothing else happens, and nothing waits on a lost piece of news; the same
tick asks a woman waiting for the adviser she came back to whether another will do, when
that adviser has stayed without a free place for her (chat/helpline/returning.py).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Literal

from sqlalchemy import func, select, update

from chat.core.clock import now
from chat.core.documents import DocumentKind
from chat.core.events import ConversationEnded, DomainEvent
from chat.core.models import Conversation, ReturnVisit, Staff, VisitorSession
from chat.core.protocol import ClientEventModel, ProtocolError, RowId
from chat.core.services import Services
from chat.core.transport import Connection
from chat.core.uow import Change
from chat.helpline import conversations as conv
from chat.helpline import queue_state, returning, routing
from chat.helpline.hours import ServiceHours
from chat.helpline.queue_news import news_of
from chat.helpline.queue_state import Router
from chat.helpline.routing_errors import ROUTING_ERROR_CODES, RoutingError


class AnyAdviser(ClientEventModel):
    """Her answer to `routing_offer`: true, any adviser may answer; false, keep waiting."""

    type: Literal["any_adviser"]
    conversation_id: RowId
    accept: bool


ROUTING_EVENTS = {"any_adviser": AnyAdviser}


@dataclass(frozen=True)
class ConversationAssigned(DomainEvent):
    """Routing gave a chat to an adviser: her sockets, on every node, join it."""

    conversation_id: int
    adviser_id: int


async def route(services: Services) -> list[tuple[int, int]]:
    """One routing round: every chat that can start now starts; offers go out. Returns the
    hand-overs made.

    In a surge every adviser is full, and then the queue itself is not read: only the few
    chats whose time to match has passed, for the offer.
    """
    settings = services.settings
    made: list[tuple[int, int]] = []
    router = services.features.find(Router)
    offers = router is None or router.offers_due
    if router is not None:
        router.offers_due = False
    # Ahead of queued joins for SQLite's one writer: a freed place is given at once.
    async with services.change(first=True) as tx:
        session = tx.session
        await queue_state.lock_routing(session)
        staff = await queue_state.advisers(session, settings)
        team = [adviser for _, adviser in staff.values()]
        if settings.assignment == "auto" and any(adviser.can_take for adviser in team):
            made = await _assign_in_pages(services, tx, staff, team)
        if router is not None:
            # Whether any place is left after this round (read before it: one less per chat).
            left = sum(a.free for a in team if a.can_take) - len(made)
            router.full = left <= 0
        if not offers:
            return made
        taken = {c for c, _ in made}
        at = now()
        # Her adviser (a return code) is still not free for her: she is asked, once.
        given = Counter(adviser for _, adviser in made)
        after = [replace(a, active=a.active + given[a.id]) for a in team]
        await returning.offer_when_due(tx, settings, after, at)
        offered: list[int] = []
        for waiting in await queue_state.due_for_offer(session, settings, at):
            if waiting.id in taken:
                continue
            if routing.should_offer(waiting, team, at.timestamp(), settings.match_wait_seconds):
                offered.append(waiting.id)
                await tx.append(
                    waiting.id,
                    {"type": "routing_offer", "conversation_id": waiting.id, "at": at.isoformat()},
                )
        if offered:
            await session.execute(
                update(Conversation).where(Conversation.id.in_(offered)).values(offered_at=at)
            )
    return made


async def _assign_in_pages(
    services: Services,
    tx: Change,
    staff: dict[int, tuple[Staff, routing.Adviser]],
    team: list[routing.Adviser],
) -> list[tuple[int, int]]:
    """Read the queue in its order, a page at a time, only until every free place is given:
    pages are in order and the choice is greedy, so the result is the one `routing.assign`
    would give on the whole queue.

    The first page holds about as many women as there are free places (in a surge, when a
    chat ends, a few rows off the queue's index, whatever its length); each further page is
    larger, up to PAGE, for when the first women match none of the free advisers."""
    made: list[tuple[int, int]] = []
    offset = 0
    size = first_page(team)
    while any(adviser.can_take for adviser in team):
        page = await queue_state.waiting_page(tx.session, offset, size)
        if not page:
            break
        offset += len(page)
        size = min(queue_state.PAGE, size * 4)
        decided = routing.assign([w for w, _ in page], team)
        if not decided:
            continue
        # Her session comes with her chat: the hand-over finds it without another read.
        rows = await tx.session.execute(
            select(Conversation, VisitorSession)
            .outerjoin(VisitorSession, VisitorSession.id == Conversation.visitor_id)
            .where(Conversation.id.in_([c for c, _ in decided]))
        )
        by_id = {c.id: c for c, _ in rows}
        for conversation_id, adviser_id in decided:
            await conv.hand_over(services, tx, by_id[conversation_id], staff[adviser_id][0])
            tx.emit(ConversationAssigned(conversation_id, adviser_id))
            made.append((conversation_id, adviser_id))
            team = [replace(a, active=a.active + 1) if a.id == adviser_id else a for a in team]
        # Chats given away leave the queue: the next page starts that much earlier.
        offset -= len(decided)
    return made


# The fewest women a routing round reads first (a surge frees one place at a time).
FIRST_PAGE = 8


def first_page(team: list[routing.Adviser]) -> int:
    """How many women the first page of a round reads: twice the free places, within
    [FIRST_PAGE, PAGE]."""
    free = sum(adviser.free for adviser in team if adviser.can_take)
    return max(FIRST_PAGE, min(queue_state.PAGE, 2 * free))


async def choose_any_adviser(services: Services, conversation_id: int, accept: bool) -> None:
    """Her answer to the offer: yes lets any adviser take her (her language is still shown);
    no keeps her waiting for a match (she is not asked again)."""
    async with services.change() as tx:
        result = await tx.session.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id, Conversation.status == "waiting")
            .values(any_adviser=accept, offered_at=now())
        )
        if not getattr(result, "rowcount", 0):
            raise ProtocolError("not_found", ref="any_adviser")
        if accept:
            # Any adviser means any: no longer only the one she came back to.
            await tx.session.execute(
                update(ReturnVisit)
                .where(ReturnVisit.conversation_id == conversation_id)
                .values(wait_for_adviser=False, chose_at=None)
            )
        await tx.append(
            conversation_id,
            {
                "type": "routing_choice",
                "conversation_id": conversation_id,
                "any_adviser": accept,
                "at": now().isoformat(),
            },
        )
        tx.after(lambda: conv.publish_queue(services, changed={conversation_id}))


async def _join_assigned(services: Services, event: ConversationAssigned) -> None:
    for connection in services.connections.of_staff(event.adviser_id):
        connection.writable.add(event.conversation_id)
        await connection.join_stream(event.conversation_id, 0)


async def admit(services: Services, ref: str | None = "request_chat") -> None:
    """May a new chat join the queue now? Closed hours and a surge say no, honestly, with
    when advisers next answer; she is then shown other help instead of a queue. `ref`: the
    event the refusal answers (None: the transport names the event being handled)."""
    hours = services.features.get(ServiceHours)
    at = now()
    if not hours.is_open(at):
        opening = hours.next_opening(at)
        raise RoutingError(
            "helpline_closed",
            ref=ref,
            extra={"opens_at": opening.isoformat() if opening else None},
        )
    settings = services.settings
    if not (settings.surge_queue_limit or settings.surge_wait_minutes):
        return
    async with services.db.read() as session:
        waiting = await session.scalar(
            select(func.count()).select_from(Conversation).where(Conversation.status == "waiting")
        )
        team = [a for _, a in (await queue_state.advisers(session, settings)).values()]
    waiting = waiting or 0
    if settings.surge_queue_limit and waiting >= settings.surge_queue_limit:
        raise RoutingError("helpline_full", ref=ref, extra={"opens_at": None})
    if settings.surge_wait_minutes:
        slots = sum(a.capacity for a in team if a.trained)
        free = sum(a.free for a in team if a.trained)
        handling = await news_of(services).handling()
        # The newest in line waits for `waiting + 1 - free` chats to end among `slots` places.
        expected = (waiting + 1 - free) * handling.mean / slots if slots else 0.0
        if slots and expected > settings.surge_wait_minutes * 60:
            raise RoutingError("helpline_full", ref=ref, extra={"opens_at": None})


async def _any_adviser(connection: Connection, event: AnyAdviser) -> None:
    if connection.visitor is None or event.conversation_id not in connection.writable:
        raise ProtocolError("not_found", ref="any_adviser")
    await choose_any_adviser(connection.services, event.conversation_id, event.accept)


def install(services: Services) -> Router:
    hours_file = services.settings.hours_file
    features = services.features
    hours = services.documents.register(
        DocumentKind[ServiceHours](
            name="hours",
            default=lambda: ServiceHours.load(hours_file),
            parse=lambda body: ServiceHours.from_data(body, "hours"),
            body=lambda hours: None if hours.spec is None else hours.spec.model_dump(mode="json"),
            summary=lambda hours: "always open" if hours.always else f"in {hours.zone.key}",
            appliers=[features.replace],
        )
    )
    features.add(hours)
    services.sockets.add_events(ROUTING_EVENTS)
    services.sockets.add_error_codes(ROUTING_ERROR_CODES)
    services.sockets.handle(AnyAdviser, _any_adviser)

    async def one_round() -> None:
        await route(services)

    router = Router(services, one_round)
    services.features.add(router)

    async def joined(event: ConversationAssigned) -> None:
        await _join_assigned(services, event)

    async def ended(event: ConversationEnded) -> None:
        # Once, where it ended: a wait leaves the queue (staff news, and a round), an ended
        # chat frees the adviser's place (a round).
        if event.was_waiting:
            await conv.publish_queue(services, removed={event.conversation_id})
        else:
            router.wanted()

    services.events.on(ConversationAssigned, joined)
    services.events.on_origin(ConversationEnded, ended)
    return router
