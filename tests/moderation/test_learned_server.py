"""The learned risk layer on a real server: off the message path, in its own process.

The message is delivered (acked, shown to the adviser) on the rules' verdict; the learned
verdict follows and, for danger the rules missed, adds a staff-only flag marked as the
learned layer's and alerts supervisors. Under overload it skips and counts, never delays.
"""

from __future__ import annotations

from chat.core.settings import Settings
from moderation.risk import assess
from tests.chat.test_metrics import samples, scrape, value
from tests.conftest import running_server
from tests.wsclient import connected_pair, staff

# Danger the rules do not grade as danger (a threat to kill in words no lexicon holds): the
# learned layer does. Written for this test, not taken from any labelled set.
MISSED = "he said next time he'll make sure i never wake up"
SAFE = "thanks, that helped, i'll come back tomorrow"
# Loading the model in a fresh process takes seconds on a loaded machine.
MODEL_WAIT = 90.0


def _on(settings: Settings, queue: int = 64) -> Settings:
    return settings.model_copy(update={"learned_risk": "on", "learned_risk_queue": queue})


def test_the_rules_alone_miss_the_example() -> None:
    assert not assess(MISSED, "en").alert


async def test_danger_the_rules_missed_gets_a_learned_flag_and_an_alert(
    settings: Settings,
) -> None:
    async with running_server(_on(settings)) as server:
        supervisor = await staff(server, await server.staff_session("supervisor"))
        her, adviser, conversation, _ = await connected_pair(server)
        await her.send(
            {"type": "message", "conversation_id": conversation, "client_id": "m1", "body": SAFE}
        )
        await her.receive("ack", client_id="m1")
        await her.send(
            {"type": "message", "conversation_id": conversation, "client_id": "m2", "body": MISSED}
        )
        # Delivered on the rules' verdict: acked and shown, with no flag yet.
        ack = await her.receive("ack", client_id="m2")
        shown = await adviser.receive("message", seq=ack["seq"])
        assert shown["body"] == MISSED

        flag = await adviser.receive("flag", timeout=MODEL_WAIT)
        assert flag["message_seq"] == ack["seq"]
        assert flag["level"] == "high" and flag["categories"][0] == "domestic_abuse_danger"
        assert flag["learned"]["category"] == "domestic_abuse_danger"
        assert flag["learned"]["danger"] >= 0.5
        alert = await supervisor.receive("alert", kind="risk", timeout=MODEL_WAIT)
        assert alert["conversation_id"] == conversation
        # Her helplines card, as for any current danger.
        card = await her.receive("helplines")
        assert card["level"] == "high"
        # The safe message before it was read too, and raised nothing.
        await adviser.drain(1.0)
        assert [e for e in adviser.events if e.get("type") == "flag"] == []

        found = samples(await scrape(server))
        assert value(found, "willow_learned_risk_flags_total", category="domestic_abuse_danger") == 1
        assert value(found, "willow_learned_risk_seconds_count") == 2
        assert MISSED not in await scrape(server)


async def test_a_full_queue_skips_and_counts_and_never_delays_a_message(
    settings: Settings,
) -> None:
    async with running_server(_on(settings, queue=1)) as server:
        her, adviser, conversation, _ = await connected_pair(server)
        # The worker is still loading its model: the first message waits for it, the next
        # ones find the queue full.
        for number in range(4):
            client_id = f"q{number}"
            await her.send(
                {
                    "type": "message",
                    "conversation_id": conversation,
                    "client_id": client_id,
                    "body": f"{SAFE} ({number})",
                }
            )
            ack = await her.receive("ack", client_id=client_id)
            await adviser.receive("message", seq=ack["seq"])
        found = samples(await scrape(server))
        assert value(found, "willow_learned_risk_skipped_total", reason="queue_full") == 3
