"""Wire protocol version 1: JSON text frames over one WebSocket (see docs/PROTOCOL.md).

Decoding is pure: a frame becomes a typed client event or a `ProtocolError` with a code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

PROTOCOL_VERSION = 1

# The core's error codes, with what they mean; features declare theirs on the app's socket
# routes (chat/core/sockets.py). docs/PROTOCOL.md lists them all.
ERROR_CODES: dict[str, str] = {
    "malformed": "the frame is not a JSON object",
    "binary_not_supported": "binary frames are not part of the protocol; send text",
    "too_large": "the frame is larger than the server accepts",
    "unknown_type": "the event type is not one the server knows",
    "invalid": "a field is missing or has the wrong type or size",
    "unsupported_version": "the client speaks a protocol version the server does not",
    "hello_first": "the first event must be hello",
    "unauthorized": "the token or staff login is missing, wrong or ended",
    "forbidden": "this role may not do that",
    "not_found": "no such conversation for you",
    "conversation_ended": "the conversation has ended",
    "already_waiting": "you are already waiting or talking",
    "queue_empty": "nobody is waiting",
    "at_capacity": "you already have as many chats as your capacity allows",
    "refused": "the message was not sent; `reason` says why",
    "too_many": "too many of these from this session or network; `retry_after` says when to try",
    "retry": "the message may or may not be stored; send it again with the same client_id",
    "internal": "something went wrong on the server; try again",
}


class ProtocolError(Exception):
    # Where the default message of a code is looked up; a feature's subclass adds its own.
    codes: ClassVar[Mapping[str, str]] = ERROR_CODES

    def __init__(
        self,
        code: str,
        message: str | None = None,
        ref: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        message = message or self.codes.get(code) or ERROR_CODES[code]
        super().__init__(message)
        self.code = code
        self.message = message
        self.ref = ref
        self.extra = extra or {}

    def event(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"type": "error", "code": self.code, "message": self.message}
        if self.ref is not None:
            payload["ref"] = self.ref
        payload.update(self.extra)
        return payload


class ClientEventModel(BaseModel):
    """Base for every client event: unknown fields are refused, values are frozen.

    Strict: `"5"` is not a number and `"true"` or `1` is not a boolean, so a client's
    mistake is answered `invalid` instead of being guessed at.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


# Ids and sequence numbers are stored as signed 64-bit integers; anything larger is
# answered `invalid` here rather than overflowing in the database driver.
MAX_STORED_INT = 2**63 - 1
RowId = Annotated[int, Field(ge=1, le=MAX_STORED_INT)]
# A resume point: the last seq seen, 0 for none.
SeqSeen = Annotated[int, Field(ge=0, le=MAX_STORED_INT)]
Seq = Annotated[int, Field(ge=1, le=MAX_STORED_INT)]
ClientId = Annotated[str, Field(min_length=1, max_length=64)]
Body = Annotated[str, Field(max_length=20_000)]


class ResumePoint(ClientEventModel):
    conversation_id: RowId
    last_seq: SeqSeen


# Resume points in one hello: more than any staff member can hold (capacity is at most 40,
# plus chats observed), and still inside one frame at the largest ids (docs/PROTOCOL.md).
MAX_RESUME = 200


class Hello(ClientEventModel):
    type: Literal["hello"]
    v: int = PROTOCOL_VERSION
    token: str | None = Field(default=None, max_length=128)
    resume: list[ResumePoint] = Field(default_factory=list, max_length=MAX_RESUME)


class Ping(ClientEventModel):
    type: Literal["ping"]


class RequestChat(ClientEventModel):
    type: Literal["request_chat"]


class SendMessage(ClientEventModel):
    type: Literal["message"]
    conversation_id: RowId
    client_id: ClientId
    body: Body


class Typing(ClientEventModel):
    type: Literal["typing"]
    conversation_id: RowId
    active: bool


class EndConversation(ClientEventModel):
    type: Literal["end"]
    conversation_id: RowId


class SetAvailable(ClientEventModel):
    type: Literal["set_available"]
    available: bool


class TakeNext(ClientEventModel):
    type: Literal["take_next"]


class Join(ClientEventModel):
    type: Literal["join"]
    conversation_id: RowId
    last_seq: SeqSeen = 0


ClientEvent = Annotated[
    Hello
    | Ping
    | RequestChat
    | SendMessage
    | Typing
    | EndConversation
    | SetAvailable
    | TakeNext
    | Join,
    Field(discriminator="type"),
]
CLIENT_EVENT_TYPES = frozenset(
    {
        "hello",
        "ping",
        "request_chat",
        "message",
        "typing",
        "end",
        "set_available",
        "take_next",
        "join",
    }
)
_adapter: TypeAdapter[ClientEvent] = TypeAdapter(ClientEvent)

# A feature's client events: type name -> model (the app's SocketRoutes.events).
ExtraEvents = Mapping[str, type[BaseModel]]


def decode(
    frame: str | bytes | None, max_bytes: int, extra: ExtraEvents | None = None
) -> BaseModel:
    """Turn one frame into a client event (a core one, or one of `extra`), or raise
    `ProtocolError` saying what is wrong."""
    if frame is None or isinstance(frame, bytes):
        raise ProtocolError("binary_not_supported")
    if len(frame) > max_bytes or len(frame.encode("utf-8", "surrogatepass")) > max_bytes:
        raise ProtocolError("too_large", f"frames may be at most {max_bytes} bytes")
    try:
        data = orjson.loads(frame)
    except orjson.JSONDecodeError:
        raise ProtocolError("malformed") from None
    if not isinstance(data, dict):
        raise ProtocolError("malformed")
    kind = data.get("type")
    # The core union puts the event's type first in an error's location; a registered model
    # does not, and its field must still be named.
    skip = 1
    try:
        if kind in CLIENT_EVENT_TYPES:
            return _adapter.validate_python(data)
        model = extra.get(kind) if extra is not None and isinstance(kind, str) else None
        if model is not None:
            skip = 0
            return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"][skip:]) or "event"
        raise ProtocolError("invalid", f"{where}: {first['msg']}", ref=str(kind)) from None
    raise ProtocolError("unknown_type", f"unknown event type: {str(kind)[:40]!r}")


def error_event(code: str, message: str | None = None, ref: str | None = None) -> dict[str, Any]:
    return ProtocolError(code, message, ref).event()
