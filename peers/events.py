"""The rooms' client events (docs/PROTOCOL.md, "Rooms"), added to the wire protocol at start.

There is deliberately no event that addresses another participant: no direct messages,
no profile, no list of who is here. A mentor names a participant by the number the room's
events carry, which means nothing outside this one session.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from chat.core.protocol import Body, ClientEventModel, ClientId

MAX_MUTE_MINUTES = 24 * 60
# One key rotation (peers/bans.py): the address part of a ban then lasts as long as the ban.
MAX_BAN_MINUTES = 24 * 60
MAX_SLOW_MODE_SECONDS = 600

RoomSlug = Annotated[str, Field(min_length=1, max_length=40)]
# Mentors must say why they act on someone; the audit log keeps it.
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=300)]
OptionalReason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]
ParticipantId = Annotated[int, Field(ge=1)]
Seq = Annotated[int, Field(ge=1)]


# --- a participant ---------------------------------------------------------------------------


class RoomJoin(ClientEventModel):
    type: Literal["room_join"]
    room: RoomSlug
    accept_rules: bool
    # After a dropped connection: the last seq she saw in this room's session.
    last_seq: int = Field(default=0, ge=0)


class RoomLeave(ClientEventModel):
    type: Literal["room_leave"]


class RoomMessage(ClientEventModel):
    """A message to the room (participants and mentors)."""

    type: Literal["room_message"]
    client_id: ClientId
    body: Body
    # She was asked about personal details and chose to send the message without them.
    without_details: bool = False


class RoomRename(ClientEventModel):
    type: Literal["room_rename"]
    pseudonym: Annotated[str, Field(max_length=240)]


class RoomKnowSomeone(ClientEventModel):
    type: Literal["room_know_someone"]


class RoomReport(ClientEventModel):
    type: Literal["room_report"]
    seq: Seq
    reason: OptionalReason = ""


class RoomToAdviser(ClientEventModel):
    """She asks to leave the room for a 1:1 chat with an adviser."""

    type: Literal["room_to_adviser"]


# --- a mentor --------------------------------------------------------------------------------


class RoomOpen(ClientEventModel):
    type: Literal["room_open"]
    room: RoomSlug
    last_seq: int = Field(default=0, ge=0)


class RoomClose(ClientEventModel):
    type: Literal["room_close"]
    reason: OptionalReason = ""


class RoomMute(ClientEventModel):
    type: Literal["room_mute"]
    participant: ParticipantId
    minutes: Annotated[int, Field(ge=1, le=MAX_MUTE_MINUTES)]
    reason: Reason


class RoomUnmute(ClientEventModel):
    type: Literal["room_unmute"]
    participant: ParticipantId
    reason: OptionalReason = ""


class RoomRemove(ClientEventModel):
    type: Literal["room_remove"]
    participant: ParticipantId
    reason: Reason


class RoomBan(ClientEventModel):
    type: Literal["room_ban"]
    participant: ParticipantId
    minutes: Annotated[int, Field(ge=1, le=MAX_BAN_MINUTES)]
    reason: Reason


class RoomHide(ClientEventModel):
    type: Literal["room_hide"]
    seq: Seq
    reason: Reason


class RoomSlowMode(ClientEventModel):
    type: Literal["room_slow_mode"]
    seconds: Annotated[int, Field(ge=0, le=MAX_SLOW_MODE_SECONDS)]
    reason: OptionalReason = ""


class RoomLock(ClientEventModel):
    type: Literal["room_lock"]
    locked: bool
    reason: OptionalReason = ""


class RoomPin(ClientEventModel):
    type: Literal["room_pin"]
    seq: Seq


class RoomUnpin(ClientEventModel):
    type: Literal["room_unpin"]
    seq: Seq


class RoomRelease(ClientEventModel):
    type: Literal["room_release"]
    held_id: Annotated[int, Field(ge=1)]


class RoomDiscard(ClientEventModel):
    type: Literal["room_discard"]
    held_id: Annotated[int, Field(ge=1)]
    reason: OptionalReason = ""


class RoomInviteAdviser(ClientEventModel):
    type: Literal["room_invite_adviser"]
    participant: ParticipantId
    # Shown to the adviser in the queue; never to the room.
    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
    urgent: bool = False


class RoomReportClose(ClientEventModel):
    type: Literal["room_report_close"]
    report_id: Annotated[int, Field(ge=1)]
    outcome: Reason


ROOM_EVENTS: dict[str, type[BaseModel]] = {
    "room_join": RoomJoin,
    "room_leave": RoomLeave,
    "room_message": RoomMessage,
    "room_rename": RoomRename,
    "room_know_someone": RoomKnowSomeone,
    "room_report": RoomReport,
    "room_to_adviser": RoomToAdviser,
    "room_open": RoomOpen,
    "room_close": RoomClose,
    "room_mute": RoomMute,
    "room_unmute": RoomUnmute,
    "room_remove": RoomRemove,
    "room_ban": RoomBan,
    "room_hide": RoomHide,
    "room_slow_mode": RoomSlowMode,
    "room_lock": RoomLock,
    "room_pin": RoomPin,
    "room_unpin": RoomUnpin,
    "room_release": RoomRelease,
    "room_discard": RoomDiscard,
    "room_invite_adviser": RoomInviteAdviser,
    "room_report_close": RoomReportClose,
}
