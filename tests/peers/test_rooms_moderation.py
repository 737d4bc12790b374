"""Every room message passes the moderation pipeline; danger reaches mentors and supervisors."""

from __future__ import annotations

from tests.peers.roomkit import RoomServer, mentor_in, said, say, woman_in
from tests.wsclient import staff

RISKY = "I am going to kill myself tonight"
PHONE = "text me on 07700 900123 any time"
ABUSIVE = "you're a slut"
MENTION = "years ago I tried to kill myself, now I am well"


async def test_a_refused_message_goes_to_nobody_and_she_is_told_why(rooms: RoomServer) -> None:
    mentor, _ = await mentor_in(rooms.server)
    her = await woman_in(rooms.server)
    other = await woman_in(rooms.server)
    await say(her.client, "long", "a" * 1001)
    refused = await her.client.receive("error", code="refused")
    assert refused["reason"] == "too_long" and refused["client_id"] == "long"
    await said(her.client, "fine", "a short one")
    await other.client.receive("room_message", client_id="fine")
    assert [m["client_id"] for m in other.client.of_type("room_message")] == ["fine"]
    for client in (her.client, other.client, mentor):
        await client.close()


async def test_personal_details_are_asked_about_then_sent_without_them(rooms: RoomServer) -> None:
    mentor, _ = await mentor_in(rooms.server)
    her = await woman_in(rooms.server)
    other = await woman_in(rooms.server)
    await say(her.client, "p1", PHONE)
    held = await her.client.receive("held", client_id="p1")
    assert held["reason"] == "personal_details" and held["kinds"] == ["phone"]

    await say(her.client, "p1", PHONE, without_details=True)
    await her.client.receive("ack", client_id="p1")
    sent = await other.client.receive("room_message", client_id="p1")
    assert "07700" not in sent["body"] and "[removed]" in sent["body"]
    assert sent["body"].startswith("text me on")
    for client in (her.client, other.client, mentor):
        await client.close()


async def test_abuse_waits_for_the_mentor_who_releases_or_discards_it(rooms: RoomServer) -> None:
    mentor, _ = await mentor_in(rooms.server)
    her = await woman_in(rooms.server)
    other = await woman_in(rooms.server)
    await say(her.client, "h1", ABUSIVE)
    assert (await her.client.receive("held", client_id="h1"))["reason"] == "held_for_mentor"
    queued = await mentor.receive("room_held", client_id="h1")
    assert queued["body"] == ABUSIVE and queued["name"] == her.name

    await mentor.send({"type": "room_release", "held_id": queued["held_id"]})
    released = await other.client.receive("room_message", client_id="h1")
    assert released["body"] == ABUSIVE and released["name"] == her.name
    assert (await her.client.receive("room_released"))["message_seq"] == released["seq"]
    decided = await mentor.receive("room_held_decided", held_id=queued["held_id"])
    assert decided["decision"] == "released"

    await say(her.client, "h2", ABUSIVE + " again")
    second = await mentor.receive("room_held", client_id="h2")
    await mentor.send({"type": "room_discard", "held_id": second["held_id"]})
    assert (await her.client.receive("room_discarded"))["client_id"] == "h2"
    await mentor.send({"type": "room_release", "held_id": second["held_id"]})
    await mentor.receive("error", code="not_found")

    await other.client.drain(0.3)
    assert [m["client_id"] for m in other.client.of_type("room_message")] == ["h1"]
    # Participants never see the held queue.
    assert other.client.of_type("room_held") == [] and her.client.of_type("room_held") == []
    for client in (her.client, other.client, mentor):
        await client.close()


async def test_danger_alerts_mentor_and_supervisors_and_shows_her_helplines(
    rooms: RoomServer,
) -> None:
    mentor, _ = await mentor_in(rooms.server)
    supervisor = await staff(rooms.server, await rooms.server.staff_session("supervisor"))
    her = await woman_in(rooms.server)
    other = await woman_in(rooms.server)

    ack = await said(her.client, "r1", RISKY)
    alert = await mentor.receive("room_alert")
    assert alert["name"] == her.name and alert["participant"] == her.participant
    assert alert["message_seq"] == ack["seq"]
    assert alert["risk"]["level"] in ("high", "imminent") and alert["risk"]["phrases"]
    # The mentor gets the steps an adviser gets, for each category of danger.
    categories = {guide["category"] for guide in alert["guidance"]}
    assert categories and categories <= set(alert["risk"]["categories"])
    assert all(guide["title"] and guide["steps"] for guide in alert["guidance"])
    told = await supervisor.receive("room_alert")
    assert told["room"] == "newcomers" and told["name"] == her.name
    card = await her.client.receive("helplines")
    assert card["helplines"] and card["level"] == alert["risk"]["level"]

    await other.client.receive("room_message", client_id="r1")
    await other.client.drain(0.3)
    assert other.client.of_type("room_alert") == [] and other.client.of_type("helplines") == []
    for client in (her.client, other.client, mentor, supervisor):
        await client.close()


async def test_a_mention_of_danger_is_a_note_for_the_mentor_and_alerts_no_one(
    rooms: RoomServer,
) -> None:
    """Years-ago danger, now over: the room's mentors see a note (level low, stance past) with
    the words and the guidance; no supervisor is alerted, she is shown no card, and the other
    women see only her message."""
    mentor, _ = await mentor_in(rooms.server)
    supervisor = await staff(rooms.server, await rooms.server.staff_session("supervisor"))
    her = await woman_in(rooms.server)
    other = await woman_in(rooms.server)

    ack = await said(her.client, "m1", MENTION)
    note = await mentor.receive("room_alert")
    assert note["name"] == her.name and note["message_seq"] == ack["seq"]
    assert note["risk"]["level"] == "low" and note["risk"]["stance"] == "past"
    assert note["risk"]["categories"] == ["suicide_self_harm"]

    await other.client.receive("room_message", client_id="m1")
    for client in (supervisor, her.client, other.client):
        await client.drain(0.5)
    assert supervisor.of_type("room_alert") == []
    assert her.client.of_type("helplines") == [] and her.client.of_type("room_alert") == []
    assert other.client.of_type("room_alert") == []
    for client in (her.client, other.client, mentor, supervisor):
        await client.close()


async def test_danger_in_a_held_or_refused_message_still_alerts(rooms: RoomServer) -> None:
    mentor, _ = await mentor_in(rooms.server)
    her = await woman_in(rooms.server)
    await say(her.client, "x1", f"{RISKY}. {PHONE}")
    await her.client.receive("held", client_id="x1")
    alert = await mentor.receive("room_alert")
    assert alert["message_seq"] is None
    await her.client.receive("helplines")

    await say(her.client, "x2", f"{ABUSIVE}. {RISKY}")
    held = await mentor.receive("room_held", client_id="x2")
    alert = await mentor.receive("room_alert", held_id=held["held_id"])

    await say(her.client, "x3", RISKY + " " + "please " * 200)
    await her.client.receive("error", code="refused")
    await mentor.receive("room_alert", message_seq=None, held_id=None)
    # She already has the card for this danger: as one to one, a new one comes only when
    # what she writes is more serious than what she was shown.
    await her.client.drain(0.3)
    assert len(her.client.of_type("helplines")) == 1
    for client in (her.client, mentor):
        await client.close()


async def test_a_pseudonym_in_a_message_is_not_a_personal_detail(rooms: RoomServer) -> None:
    mentor, _ = await mentor_in(rooms.server)
    her = await woman_in(rooms.server)
    await her.client.send({"type": "room_rename", "pseudonym": "Rose"})
    await her.client.receive("room_renamed", name="Rose")
    other = await woman_in(rooms.server)
    await said(other.client, "t1", "thank you @Rose")
    for client in (her.client, other.client, mentor):
        await client.close()
