"""/metrics: the operator's figures after a real chat, with nothing identifying in any label."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from chat.core.outages import DEPENDENCIES
from chat.core.settings import Settings
from chat.helpline.choices import LANGUAGES
from moderation.safeguarding.measures import ALERT_KINDS, CATEGORIES, LEVELS
from tests.conftest import running_server
from tests.wsclient import Client, Server, connected_pair, staff, visitor

DANGER = "I've taken all my pills, I want to die tonight"
PHONE = "ring me on 07700 900123"

# Every value a label may take; anything else would be an identifier, an address or words.
ALLOWED_LABELS: dict[str, set[str]] = {
    "language": {*LANGUAGES, "other"},
    "category": {*CATEGORIES, "personal_data", "abuse", "other"},
    "level": {*LEVELS, "other"},
    "kind": {*ALERT_KINDS, "other"},
    "code": set(),  # any code from the protocol's list: checked below
    "statement": {"select", "insert", "update", "delete", "other"},
    "outcome": {"talked", "left_waiting"},
    "role": {"participant", "mentor"},
    "dependency": set(DEPENDENCIES),
    "reason": {"queue_full", "worker_failed"},
    "le": set(),  # histogram bucket bounds: numbers
    "quantile": set(),
}


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


async def scrape(server: Server) -> str:
    async with server.http() as http:
        response = await http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def _say(client: Client, conversation: int, client_id: str, body: str) -> None:
    await client.send(
        {"type": "message", "conversation_id": conversation, "client_id": client_id, "body": body}
    )


async def test_a_chat_with_risk_shows_in_the_figures_and_no_label_names_anyone(
    server: Server,
) -> None:
    from chat.core.protocol import ERROR_CODES

    supervisor = await staff(server, await server.staff_session("supervisor"))
    her, adviser, conversation, token = await connected_pair(server)
    waiting, _ = await visitor(server)
    await waiting.send({"type": "request_chat"})
    await waiting.receive("queue")
    await _say(her, conversation, "m1", DANGER)
    await supervisor.receive("alert")
    await _say(her, conversation, "m2", PHONE)
    await _say(adviser, conversation, "m3", "I'm here with you")
    await adviser.receive("message", client_id="m3")
    await her.send({"type": "take_next"})
    await her.receive("error", code="forbidden")

    text = await scrape(server)
    for secret in (DANGER, "pills", "07700", token, "127.0.0.1", adviser_name(adviser)):
        assert secret not in text
    found = samples(text)
    for (_name, labels), _value in found.items():
        for key, label_value in labels:
            assert key in ALLOWED_LABELS, key
            if key == "code":
                assert label_value in ERROR_CODES
            elif key in ("le", "quantile"):
                float(label_value)
            else:
                assert label_value in ALLOWED_LABELS[key], (key, label_value)

    assert value(found, "willow_queue_waiting", language="other") == 1
    assert value(found, "willow_wait_seconds_count", language="other") == 1
    assert value(found, "willow_active_chats") == 1
    assert value(found, "willow_advisers_available") == 1
    assert value(found, "willow_messages_stored_total") >= 3
    assert (
        1
        <= value(found, "willow_message_batches_total")
        <= value(found, "willow_messages_stored_total")
    )
    assert value(found, "willow_flags_total", category="suicide_self_harm", level="imminent") == 1
    assert value(found, "willow_alerts_total", kind="risk", level="imminent") == 1
    assert value(found, "willow_errors_total", code="forbidden") == 1
    assert value(found, "willow_sockets_open") == 4
    assert value(found, "willow_ready") == 1
    assert value(found, "willow_deliveries_total") > 0
    assert value(found, "willow_database_seconds_count", statement="select") > 0

    await her.send({"type": "end", "conversation_id": conversation})
    await her.receive("ended")
    found = samples(await scrape(server))
    assert value(found, "willow_chats_ended_total", outcome="talked") == 1
    assert value(found, "willow_handling_seconds_count") == 1
    assert value(found, "willow_active_chats") == 0


def adviser_name(client: Client) -> str:
    assigned = client.of_type("assigned")
    return str(assigned[0]["adviser_name"]) if assigned else "no adviser name"


async def test_a_resume_is_counted(server: Server) -> None:
    her, _adviser, conversation, token = await connected_pair(server)
    await her.close()
    again, _ = await visitor(
        server, token, resume=[{"conversation_id": conversation, "last_seq": 1}]
    )
    found = samples(await scrape(server))
    assert value(found, "willow_resumes_total") == 1
    await again.close()


async def test_metrics_are_refused_to_an_address_not_on_the_list(settings: Settings) -> None:
    closed = settings.model_copy(update={"metrics_allow": ["192.0.2.1"]})
    async with running_server(closed) as server, server.http() as http:
        refused = await http.get("/metrics")
        assert refused.status_code == 404 and "willow_" not in refused.text


async def test_two_apps_keep_their_own_figures(settings: Settings) -> None:
    async with running_server(settings) as first, running_server(settings) as second:
        client, _ = await visitor(first)
        await client.send({"type": "take_next"})
        await client.receive("error", code="forbidden")
        async with httpx.AsyncClient() as http:
            one = samples((await http.get(first.url + "/metrics")).text)
            two = samples((await http.get(second.url + "/metrics")).text)
    assert value(one, "willow_errors_total", code="forbidden") == 1
    assert value(two, "willow_errors_total", code="forbidden") == 0


async def test_a_slow_reader_cut_off_is_counted(settings: Settings) -> None:
    from tests.chat.test_protocol import _slow_reader_is_cut_off

    async with running_server(settings, send_buffer=16_384) as server:
        await _slow_reader_is_cut_off(server)
        found = samples(await scrape(server))
    assert value(found, "willow_send_queue_cutoffs_total") == 1
    assert value(found, "willow_resumes_total") == 1


async def test_publishes_to_the_broker_are_timed(server: Server) -> None:
    her, _adviser, conversation, _token = await connected_pair(server)
    before = value(samples(await scrape(server)), "willow_broker_publish_seconds_count")
    await _say(her, conversation, "b1", "hello")
    await her.receive("ack", client_id="b1")
    after = value(samples(await scrape(server)), "willow_broker_publish_seconds_count")
    assert after > before


OPEN_ALL_WEEK = "timezone: UTC\nweekly:\n" + "".join(
    f"  {day}: ['00:00-24:00']\n"
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
)


@pytest.mark.parametrize(
    ("hours", "open_now"), [(OPEN_ALL_WEEK, 1), ("weekly: {}\n", 0), (None, 1)]
)
async def test_the_helpline_open_figure_follows_the_service_hours(
    settings: Settings, tmp_path: Path, hours: str | None, open_now: int
) -> None:
    """What the "no adviser available in service hours" alert rule reads."""
    path = None
    if hours is not None:
        path = tmp_path / "hours.yaml"
        path.write_text(hours)
    async with running_server(settings.model_copy(update={"hours_file": path})) as server:
        found = samples(await scrape(server))
    assert value(found, "willow_helpline_open") == open_now
    assert value(found, "willow_advisers_available") == 0
