"""The learned risk layer on a real server: off the message path, in its own process.

The message is delivered (acked, shown to the adviser) on the rules' verdict; the learned
verdict follows and, for danger the rules missed, adds a staff-only flag marked as the
learned layer's and alerts supervisors. Under overload it skips and counts, never delays.
"""

from __future__ import annotations

import asyncio

import pytest
from pydantic import ValidationError

from chat.core.settings import Settings
from moderation.risk import assess
from tests.chat.test_metrics import samples, scrape, value
from tests.conftest import running_server
from tests.wsclient import connected_pair, staff, visitor

# Danger the rules do not grade as danger (a threat to kill in words no lexicon holds): the
# learned layer does. Written for this test, not taken from any labelled set.
MISSED = "he said next time he'll make sure i never wake up"
SAFE = "thanks, that helped, i'll come back tomorrow"
# Danger the rules alert on by themselves.
ALERTING = "i have taken all my tablets and i want to die tonight"
# Loading the model in a fresh process takes seconds on a loaded machine.
MODEL_WAIT = 90.0


def _on(settings: Settings, queue: int = 64, busy_share: float = 1.0) -> Settings:
    """The learned layer on; by default never skipping for the node's load (a test machine's
    load is not the node's)."""
    return settings.model_copy(
        update={
            "learned_risk": "on",
            "learned_risk_queue": queue,
            "learned_risk_busy_share": busy_share,
        }
    )


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
        assert (
            value(found, "willow_learned_risk_flags_total", category="domestic_abuse_danger") == 1
        )
        assert value(found, "willow_learned_risk_seconds_count") == 2
        assert MISSED not in await scrape(server)


async def test_a_message_the_rules_already_alert_on_is_not_read_again(settings: Settings) -> None:
    """The model's time goes where its verdict can change something: a message the rules
    already alert on is flagged at once and never queued for the learned layer."""
    assert assess(ALERTING, "en").alert
    async with running_server(_on(settings)) as server:
        her, adviser, conversation, _ = await connected_pair(server)
        await her.send(
            {
                "type": "message",
                "conversation_id": conversation,
                "client_id": "a1",
                "body": ALERTING,
            }
        )
        await her.receive("ack", client_id="a1")
        flag = await adviser.receive("flag")
        assert "learned" not in flag
        # Another woman's safe message after it: queued behind it, were it queued.
        other, _, other_conversation, _ = await connected_pair(server)
        await other.send(
            {
                "type": "message",
                "conversation_id": other_conversation,
                "client_id": "b1",
                "body": SAFE,
            }
        )
        await other.receive("ack", client_id="b1")
        for _ in range(int(MODEL_WAIT)):
            found = samples(await scrape(server))
            if value(found, "willow_learned_risk_seconds_count") >= 1:
                break
            await asyncio.sleep(1)
        await asyncio.sleep(3)
        found = samples(await scrape(server))
        assert value(found, "willow_learned_risk_seconds_count") == 1
        for reason in ("node_busy", "queue_full", "worker_failed"):
            assert value(found, "willow_learned_risk_skipped_total", reason=reason) == 0


async def test_a_full_queue_skips_and_counts_and_never_delays_a_message(
    settings: Settings,
) -> None:
    async with running_server(_on(settings, queue=1)) as server:
        her, _ = await visitor(server)
        await her.send({"type": "request_chat"})
        conversation = (await her.receive("queue"))["conversation_id"]
        # A burst while the worker is still loading its model (or busy with the first): the
        # first message takes the one place in the queue, the others find it full.
        burst = 6
        for number in range(burst):
            await her.send(
                {
                    "type": "message",
                    "conversation_id": conversation,
                    "client_id": f"q{number}",
                    "body": f"sorry, one more thing ({number})",
                }
            )
        # Every message is acked at once, none waits for the learned layer.
        for number in range(burst):
            await her.receive("ack", client_id=f"q{number}")
        found = samples(await scrape(server))
        skipped = value(found, "willow_learned_risk_skipped_total", reason="queue_full")
        assert skipped >= 1
        # Each message was either read by the learned layer or counted as skipped.
        for _ in range(int(MODEL_WAIT)):
            found = samples(await scrape(server))
            read = value(found, "willow_learned_risk_seconds_count")
            if read + skipped == burst:
                break
            await asyncio.sleep(1)
        assert read + skipped == burst and read >= 1


async def test_a_busy_node_skips_the_learned_layer_and_counts_it(settings: Settings) -> None:
    """A node at or above its busy share leaves every message to the rules alone: each is
    acked at once and counted as skipped for the node's load, none reaches the worker."""
    async with running_server(_on(settings, busy_share=0.0)) as server:
        her, _ = await visitor(server)
        await her.send({"type": "request_chat"})
        conversation = (await her.receive("queue"))["conversation_id"]
        for number in range(3):
            await her.send(
                {
                    "type": "message",
                    "conversation_id": conversation,
                    "client_id": f"b{number}",
                    "body": f"{MISSED} ({number})",
                }
            )
            await her.receive("ack", client_id=f"b{number}")
        found = samples(await scrape(server))
        assert value(found, "willow_learned_risk_skipped_total", reason="node_busy") == 3
        assert value(found, "willow_learned_risk_skipped_total", reason="queue_full") == 0
        await asyncio.sleep(1)
        found = samples(await scrape(server))
        assert value(found, "willow_learned_risk_seconds_count") == 0


async def test_a_bad_learned_setting_stops_the_start_with_its_name() -> None:
    with pytest.raises(ValidationError) as raised:
        Settings(learned_risk="maybe")
    assert "learned_risk" in str(raised.value)
    with pytest.raises(ValidationError) as raised:
        Settings(learned_risk_queue=0)
    assert "learned_risk_queue" in str(raised.value)
