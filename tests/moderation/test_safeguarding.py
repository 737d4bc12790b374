"""Danger in a 1:1 chat: staff are told at once, she is shown helplines, nothing leaks to her."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from chat.app import create_app
from chat.core.services import Services
from chat.core.settings import Settings
from chat.reporting.models import ReportCount
from moderation.datafiles import DataFileError
from moderation.safeguarding.outcome_codes import load_escalation_outcomes
from tests.conftest import running_server
from tests.wsclient import Client, Server, StaffLogin, connected_pair, staff, visitor

IMMINENT = "I've taken all my pills, I want to die tonight"


async def _say(client: Client, conversation: int, client_id: str, body: str) -> None:
    await client.send(
        {"type": "message", "conversation_id": conversation, "client_id": client_id, "body": body}
    )


async def test_danger_alerts_the_supervisor_within_a_second_and_shows_her_helplines(
    server: Server,
) -> None:
    supervisor = await staff(server, await server.staff_session("supervisor"))
    her, adviser, conversation, _ = await connected_pair(server)
    await _say(her, conversation, "d1", IMMINENT)

    alert = await supervisor.receive("alert", timeout=1.0)
    assert alert["kind"] == "risk" and alert["conversation_id"] == conversation
    assert alert["level"] == "imminent"
    assert {"suicide_self_harm", "overdose_medical"} & set(alert["categories"])

    flag = await adviser.receive("flag")
    message = await adviser.receive("message", client_id="d1")
    assert flag["message_seq"] == message["seq"] and flag["phrases"]
    assert flag["guidance"] and flag["guidance"][0]["steps"]

    card = await her.receive("helplines")
    assert card["level"] == "imminent" and card["helplines"][0]["emergency"] is True
    await her.drain()
    assert not her.of_type("flag"), "the flag is for staff only"
    assert (await adviser.receive("helplines"))["seq"] == card["seq"]


async def test_a_visitor_reconnecting_never_sees_flags_but_an_adviser_opening_later_does(
    server: Server,
) -> None:
    her, _adviser, conversation, token = await connected_pair(server)
    await _say(her, conversation, "d1", IMMINENT)
    await her.receive("helplines")
    await her.close()

    again, _ = await visitor(
        server, token, resume=[{"conversation_id": conversation, "last_seq": 0}]
    )
    await again.receive("helplines")
    await again.drain()
    assert [e["type"] for e in again.events if e["type"].endswith(("flag", "escalation"))] == []

    supervisor = await staff(server, await server.staff_session("supervisor"))
    await supervisor.send({"type": "join", "conversation_id": conversation})
    assert (await supervisor.receive("flag"))["level"] == "imminent"


async def test_risk_while_waiting_moves_her_up_the_queue(server: Server) -> None:
    first, _ = await visitor(server)
    await first.send({"type": "request_chat"})
    calm = (await first.receive("queue"))["conversation_id"]
    second, _ = await visitor(server)
    await second.send({"type": "request_chat"})
    urgent = (await second.receive("queue"))["conversation_id"]

    await _say(second, urgent, "u1", "he has a knife and he's outside the door right now")
    assert (await second.receive("queue", position=1))["conversation_id"] == urgent

    adviser = await staff(server, await server.staff_session("adviser"))
    snapshot = await adviser.receive("queue_snapshot")
    assert [w["conversation_id"] for w in snapshot["waiting"]] == [urgent, calm]
    assert snapshot["waiting"][0]["risk_level"] == "imminent"
    await adviser.send({"type": "take_next"})
    assert (await adviser.receive("assigned"))["conversation_id"] == urgent
    # What she wrote while waiting is there for the adviser who takes her chat.
    assert (await adviser.receive("message", client_id="u1"))["sender"] == "visitor"


async def test_personal_details_warn_the_adviser_not_her(server: Server) -> None:
    her, adviser, conversation, _ = await connected_pair(server)
    await _say(her, conversation, "p1", "you can call me on 07700 900123")
    await her.receive("ack", client_id="p1")
    flag = await adviser.receive("flag")
    assert flag["pii"] == ["phone"]
    assert (await adviser.receive("message", client_id="p1"))["body"].endswith("07700 900123")
    await her.drain()
    assert not her.of_type("error") and not her.of_type("helplines")


async def test_a_refused_message_says_why_and_is_not_stored(server: Server) -> None:
    her, adviser, conversation, _ = await connected_pair(server)
    await _say(her, conversation, "long", "a" * 5000)
    error = await her.receive("error")
    assert (error["code"], error["reason"], error["client_id"]) == ("refused", "too_long", "long")
    await _say(her, conversation, "empty", " \u200b ")
    assert (await her.receive("error"))["reason"] == "empty"
    await adviser.drain()
    assert not adviser.of_type("message")


async def _open_escalation_ids(server: Server, login: StaffLogin) -> list[int]:
    async with server.http(cookies={"willow_staff": login.cookie}) as http:
        response = await http.get("/api/escalations", params={"status": "open"})
    assert response.status_code == 200, response.text
    return [row["id"] for row in response.json()]


async def _counted(services: Services, measure: str) -> dict[tuple[str, str], int]:
    """Today's anonymised counts of one measure, as (breakdown, value): count, once counted
    (counting follows the stored outcome by a moment)."""
    for _ in range(100):
        async with services.db.read() as session:
            found = await session.execute(
                select(ReportCount.dimension, ReportCount.value, ReportCount.count).where(
                    ReportCount.measure == measure
                )
            )
        counted = {(dimension, value): n for dimension, value, n in found.all()}
        if counted:
            return counted
        await asyncio.sleep(0.05)
    return {}


async def test_escalation_with_consent_reaches_supervisors_and_records_an_outcome(
    server: Server,
) -> None:
    supervisor_login = await server.staff_session("supervisor")
    supervisor = await staff(server, supervisor_login)
    her, adviser, conversation, _ = await connected_pair(server)
    await adviser.send(
        {
            "type": "escalate",
            "conversation_id": conversation,
            "level": "supervisor",
            "reason": "children in the house and he is due back",
            "consent": "given",
            "handoff_note": "She would like a call-back plan; safe after 2pm.",
        }
    )
    escalation_id = (await adviser.receive("escalated"))["escalation_id"]
    alert = await supervisor.receive("alert", kind="escalation")
    assert alert["escalation_id"] == escalation_id and alert["level"] == "supervisor"
    assert (await adviser.receive("escalation"))["handoff_note"].startswith("She would like")

    # An unknown code, or none (an older console's free text alone), is refused; still open.
    messages = []
    for refused in ({"code": "sorted_it"}, {"outcome": "referred"}, {"code": ""}):
        await supervisor.send(
            {"type": "escalation_outcome", "escalation_id": escalation_id, **refused}
        )
        error = await supervisor.receive("error")
        assert error["code"] == "invalid", refused
        messages.append(error["message"])
    assert "unknown escalation outcome code: sorted_it" in messages[0]
    assert await _open_escalation_ids(server, supervisor_login) == [escalation_id]

    await supervisor.send(
        {
            "type": "escalation_outcome",
            "escalation_id": escalation_id,
            "code": "specialist_referral",
            "outcome": "IDVA referral made with her agreement",
        }
    )
    closed = await adviser.receive("escalation_outcome")
    assert (closed["code"], closed["outcome"]) == (
        "specialist_referral",
        "IDVA referral made with her agreement",
    )
    assert await _open_escalation_ids(server, supervisor_login) == []
    assert server.services is not None
    assert await _counted(server.services, "escalation_outcomes") == {
        ("total", "all"): 1,
        ("level", "supervisor"): 1,
        ("at_supervisor", "specialist_referral"): 1,
    }
    await supervisor.send(
        {"type": "escalation_outcome", "escalation_id": escalation_id, "code": "other"}
    )
    assert (await supervisor.receive("error"))["code"] == "invalid"

    await her.drain()
    assert not [e for e in her.events if e["type"].startswith("escalation")]
    await her.send(
        {
            "type": "escalate",
            "conversation_id": conversation,
            "level": "emergency",
            "reason": "x",
            "consent": "given",
        }
    )
    assert (await her.receive("error"))["code"] == "forbidden"
    await adviser.send(
        {
            "type": "escalate",
            "conversation_id": conversation,
            "level": "urgent",
            "reason": "x",
            "consent": "given",
        }
    )
    assert (await adviser.receive("error"))["code"] == "invalid"


async def test_signposting_shows_her_the_helplines_the_adviser_chose(server: Server) -> None:
    her, adviser, conversation, _ = await connected_pair(server)
    await adviser.send(
        {
            "type": "escalate",
            "conversation_id": conversation,
            "level": "signpost",
            "reason": "asked about forced marriage support",
            "consent": "not_asked",
            "categories": ["forced_marriage_honour"],
        }
    )
    card = await her.receive("helplines")
    assert any("Karma Nirvana" in h["name"] for h in card["helplines"])


async def test_reports_reach_supervisors_and_can_be_closed(server: Server) -> None:
    supervisor_login = await server.staff_session("supervisor")
    supervisor = await staff(server, supervisor_login)
    her, adviser, conversation, _ = await connected_pair(server)
    await _say(adviser, conversation, "a1", "hello")
    seq = (await her.receive("message", client_id="a1"))["seq"]
    await her.send(
        {"type": "report", "conversation_id": conversation, "seq": seq, "reason": "felt judged"}
    )
    report_id = (await her.receive("reported"))["report_id"]
    alert = await supervisor.receive("alert", kind="report")
    assert alert["report_id"] == report_id and alert["reason"] == "felt judged"
    await her.send({"type": "report", "conversation_id": conversation, "seq": 999, "reason": ""})
    assert (await her.receive("error"))["code"] == "not_found"

    async with server.http(cookies={"willow_staff": supervisor_login.cookie}) as http:
        listed = (await http.get("/api/reports")).json()
        assert [r["id"] for r in listed] == [report_id]
        url = f"/api/reports/{report_id}/close"
        closed = await http.post(
            url, json={"outcome": "talked it through"}, headers=supervisor_login.headers
        )
        assert closed.status_code == 200
        again = await http.post(url, json={"outcome": "x"}, headers=supervisor_login.headers)
        assert again.status_code == 409
        assert (await http.get("/api/reports")).json() == []


async def test_one_risky_message_makes_one_flag_and_one_alert_however_many_apps_exist(
    server: Server, settings: Settings
) -> None:
    # Building more apps in the same process must not register the safeguarding hook again.
    create_app(settings)
    create_app(settings)
    supervisor = await staff(server, await server.staff_session("supervisor"))
    her, adviser, conversation, _ = await connected_pair(server)
    await _say(her, conversation, "d1", IMMINENT)
    await adviser.receive("flag")
    await supervisor.receive("alert")
    await adviser.drain(0.5)
    await supervisor.drain(0.5)
    assert len(adviser.of_type("flag")) == 1 and len(supervisor.of_type("alert")) == 1


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("outcomes: []\n", r"outcomes: .*at least 1"),
        ("outcomes:\n  - id: Called Police\n    label: Police\n", r"outcomes\.0\.id"),
        (
            "outcomes:\n  - id: other\n    label: Other\n  - id: other\n    label: Else\n",
            r"outcome id\(s\) used twice: other",
        ),
        ("outcomes:\n  - id: other\n", r"outcomes\.0\.label"),
        ("- other\n", r"top level must be a mapping"),
    ],
)
def test_a_bad_escalation_outcomes_file_stops_the_start_naming_it(
    tmp_path: Path, settings: Settings, text: str, problem: str
) -> None:
    broken = tmp_path / "escalation_outcomes.yaml"
    broken.write_text(text)
    with pytest.raises(DataFileError, match=rf"escalation_outcomes\.yaml: .*{problem}"):
        create_app(settings.model_copy(update={"escalation_outcomes_file": broken}))
    with pytest.raises(DataFileError, match=r"missing\.yaml: file not found"):
        load_escalation_outcomes(tmp_path / "missing.yaml")


async def test_a_service_s_own_outcome_codes_are_offered_accepted_and_labelled(
    tmp_path: Path, settings: Settings
) -> None:
    own = tmp_path / "escalation_outcomes.yaml"
    own.write_text("outcomes:\n  - id: marac\n    label: Taken to MARAC\n")
    replaced = settings.model_copy(update={"escalation_outcomes_file": own})
    async with running_server(replaced) as server:
        login = await server.staff_session("supervisor")
        async with server.http(cookies={"willow_staff": login.cookie}) as http:
            offered = (await http.get("/api/staff/escalation-outcomes")).json()
        assert offered == {"outcomes": [{"id": "marac", "label": "Taken to MARAC"}]}
        her, adviser, conversation, _ = await connected_pair(server)
        await adviser.send(
            {
                "type": "escalate",
                "conversation_id": conversation,
                "level": "supervisor",
                "reason": "high risk",
                "consent": "given",
            }
        )
        escalation_id = (await adviser.receive("escalated"))["escalation_id"]
        # The shipped codes are not this service's: refused.
        await adviser.send(
            {"type": "escalation_outcome", "escalation_id": escalation_id, "code": "other"}
        )
        assert (await adviser.receive("error"))["code"] == "invalid"
        await adviser.send(
            {"type": "escalation_outcome", "escalation_id": escalation_id, "code": "marac"}
        )
        closed = await adviser.receive("escalation_outcome")
        assert (closed["code"], closed["outcome"]) == ("marac", "")
        assert server.services is not None
        assert (await _counted(server.services, "escalation_outcomes"))[
            ("at_supervisor", "marac")
        ] == 1
        for client in (her, adviser):
            await client.close()
