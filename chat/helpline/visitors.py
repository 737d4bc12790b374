"""Anonymous visitor sessions: a random token she keeps in the page; we keep only its hash."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field, ValidationError

from chat.core import floods
from chat.core.http import StrictBody
from chat.core.identity import visitor_by_token
from chat.core.models import SafeToTalk, VisitorSession
from chat.core.security import new_token, token_hash
from chat.core.services import Services
from chat.helpline.choices import LANGUAGES, TOPICS, Language, Nation, Topic
from chat.helpline.conversations import end_session
from chat.helpline.login_guard import network_of
from chat.helpline.retention import forget_visitor

# The first screen's choices live in chat.helpline.choices, which figures share.
__all__ = ["LANGUAGES", "TOPICS"]

router = APIRouter(prefix="/api/visitor", tags=["visitor"])


class SessionRequest(StrictBody):
    language: Language | None = None
    topic: Topic | None = None
    # true, false or "unsure"; null (or left out) when she did not answer.
    safe_to_talk: SafeToTalk = None
    nation: Nation | None = None


class SessionCreated(BaseModel):
    token: str


class TokenRequest(StrictBody):
    token: Annotated[str, Field(min_length=1, max_length=128)]


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def start_session(services: Services, choices: SessionRequest) -> str:
    token = new_token()
    async with services.db.write() as session:
        session.add(
            VisitorSession(
                token_hash=token_hash(token, services.settings.effective_secret_key),
                language=choices.language,
                topic=choices.topic,
                safe_to_talk=choices.safe_to_talk,
                nation=choices.nation,
            )
        )
    return token


async def quick_exit(services: Services, token: str) -> bool:
    """End her session and any chat at once; the adviser is told not to contact her."""
    visitor = await visitor_by_token(services, token)
    if visitor is None:
        return False
    # One commit: her session ends and her chat with it, or neither (she may press it again).
    await end_session(services, visitor.id, "quick_exit")
    return True


@router.post("/session", status_code=201)
async def create_session(request: Request, choices: SessionRequest | None = None) -> SessionCreated:
    services = services_of(request)
    # Thousands of sessions from one network would fill the queue and the rooms.
    rule = floods.per_address("visitor-session", services.settings.sessions_per_address_per_hour)
    wait = await floods.allow(services, rule, network_of(request, services))
    if wait is not None:
        raise HTTPException(429, "too_many", headers={"Retry-After": str(wait)})
    token = await start_session(services, choices or SessionRequest())
    return SessionCreated(token=token)


async def _token_from_body(request: Request) -> str:
    """The token from a JSON body; sent as text/plain so `navigator.sendBeacon` can send it."""
    try:
        return TokenRequest.model_validate(orjson.loads(await request.body())).token
    except (orjson.JSONDecodeError, ValidationError):
        raise HTTPException(400, 'send {"token": "…"}') from None


@router.post("/exit", status_code=204)
async def exit_now(request: Request) -> Response:
    await quick_exit(services_of(request), await _token_from_body(request))
    # The same answer whether or not the token was live: nothing to learn from it.
    return Response(status_code=204)


@router.post("/forget", status_code=204)
async def forget(request: Request) -> Response:
    """She deletes her conversation and session now, rather than at the end of retention."""
    services = services_of(request)
    visitor = await visitor_by_token(services, await _token_from_body(request))
    if visitor is None:
        raise HTTPException(404, "no such session")
    await forget_visitor(services, visitor)
    return Response(status_code=204)
