"""Anonymised reporting: counted when it happens, small numbers hidden, nothing tied to anyone."""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import event, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from chat.core.clock import now
from chat.core.models import Conversation
from chat.core.services import Services
from chat.core.tally import Happening
from chat.helpline.retention import purge_expired
from chat.reporting.counting import VOCABULARY, count
from chat.reporting.models import ReportCount
from chat.reporting.report import month_report
from chat.reporting.suppression import FEWER, WITHHELD, Breakdown, suppress
from tests.wsclient import Client, Server, StaffLogin, connected_pair, visitor


def months_ago(count_back: int) -> datetime:
    """Noon on the 10th of a month that has ended."""
    moment = now().replace(day=10, hour=12, minute=0, second=0, microsecond=0)
    for _ in range(count_back):
        moment = (moment.replace(day=1) - timedelta(days=1)).replace(day=10)
    return moment


def month_of(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


async def contacts(services: Services, at: datetime, language: str, how_many: int) -> None:
    for _ in range(how_many):
        await count(services, Happening("contact", {"language": language, "topic": "talk"}, at=at))


# --- suppression, checked by brute force: what could a reader work out? ------------------


def possible_values(shown: Breakdown, total_known: int | None) -> dict[str, set[int]]:
    """Every value each hidden cell can take, given what is shown and the rules it follows."""
    hidden = [value for value, figure in shown.cells.items() if not isinstance(figure, int)]
    visible = sum(figure for figure in shown.cells.values() if isinstance(figure, int))
    ranges = [
        range(1, 5) if shown.cells[value] == FEWER else range(5, (total_known or 40) + 1)
        for value in hidden
    ]
    found: dict[str, set[int]] = {value: set() for value in hidden}
    for combination in itertools.product(*ranges):
        if total_known is not None and visible + sum(combination) != total_known:
            continue
        for value, n in zip(hidden, combination, strict=True):
            found[value].add(n)
    return found


def test_cells_under_five_are_shown_as_fewer_than_five() -> None:
    shown = suppress(40, {"en": 30, "pl": 3, "ar": 7})
    assert shown.cells["pl"] == FEWER
    assert shown.total == 40


def test_one_small_cell_is_not_left_alone_for_the_total_to_give_away() -> None:
    shown = suppress(40, {"en": 30, "pl": 3, "ar": 7})
    # 40 - 30 - 7 would be 3: another cell is hidden with it.
    assert shown.cells["ar"] == WITHHELD and shown.cells["en"] == 30
    assert all(len(v) > 1 for v in possible_values(shown, 40).values())


def test_a_total_under_five_hides_the_whole_breakdown() -> None:
    shown = suppress(3, {"en": 2, "pl": 1})
    assert shown.total == FEWER and set(shown.cells.values()) == {FEWER}


def test_no_hidden_cell_can_be_worked_out_from_any_breakdown() -> None:
    chooser = random.Random(7)
    for _ in range(400):
        cells = {
            f"v{i}": chooser.choice([1, 2, 3, 4, 5, 6, 9, 15]) for i in range(chooser.randint(1, 4))
        }
        total = sum(cells.values())
        shown = suppress(total, cells)
        for value, figure in shown.cells.items():
            if isinstance(figure, int):
                assert figure == cells[value] and figure >= 5
        known_total = shown.total if isinstance(shown.total, int) else None
        for value, options in possible_values(shown, known_total).items():
            assert cells[value] in options
            assert len(options) > 1, (cells, shown)


# --- reports over HTTP ------------------------------------------------------------------


async def supervisor_http(server: Server) -> StaffLogin:
    return await server.staff_session("supervisor")


async def export(server: Server, login: StaffLogin, month: str) -> str:
    async with server.http(cookies={"willow_staff": login.cookie}) as http:
        response = await http.get(f"/api/reports/{month}/export.csv")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return response.text


def rows(text: str) -> dict[tuple[str, str, str], str]:
    return {
        (row["measure"], row["breakdown"], row["value"]): row["count"]
        for row in csv.DictReader(io.StringIO(text))
    }


async def test_a_month_report_counts_and_suppresses(server: Server) -> None:
    assert server.services is not None
    last_month = months_ago(1)
    await contacts(server.services, last_month, "en", 12)
    await contacts(server.services, last_month, "pl", 2)
    await contacts(server.services, last_month, "ar", 6)
    login = await supervisor_http(server)
    figures = rows(await export(server, login, month_of(last_month)))
    assert figures[("contacts", "total", "all")] == "20"
    assert figures[("contacts", "language", "en")] == "12"
    assert figures[("contacts", "language", "pl")] == "fewer than 5"
    assert figures[("contacts", "language", "ar")] == "not shown"
    assert figures[("contacts", "topic", "talk")] == "20"
    assert figures[("contacts", "hour", "12")] == "20"


async def test_two_exports_cannot_be_subtracted_to_single_anyone_out(server: Server) -> None:
    assert server.services is not None
    last_month = months_ago(1)
    await contacts(server.services, last_month, "en", 9)
    login = await supervisor_http(server)
    before = await export(server, login, month_of(last_month))
    # One more woman gets in touch today. The month being counted cannot be exported, and
    # the month that can does not change, so no pair of exports differs by her.
    await contacts(server.services, now(), "pl", 1)
    after = await export(server, login, month_of(last_month))
    assert before == after
    async with server.http(cookies={"willow_staff": login.cookie}) as http:
        for month in (month_of(now()), "2026-13", "2026-1", "2026-10..2026-11", "last"):
            refused = await http.get(f"/api/reports/{month}/export.csv")
            assert refused.status_code == 422, month
            assert "month" in refused.json()["detail"]
        listed = (await http.get("/api/reports/months")).json()["months"]
    assert listed == [month_of(last_month)]


async def test_reports_are_for_supervisors_and_admins_only(server: Server) -> None:
    adviser = await server.staff_session("adviser")
    month = month_of(months_ago(1))
    async with server.http() as anonymous:
        assert (await anonymous.get(f"/api/reports/{month}")).status_code == 401
    async with server.http(cookies={"willow_staff": adviser.cookie}) as http:
        assert (await http.get(f"/api/reports/{month}")).status_code == 403
        assert (await http.get(f"/api/reports/{month}/export.csv")).status_code == 403


async def test_charts_are_drawn_on_the_server_as_plain_svg(server: Server) -> None:
    assert server.services is not None
    last_month = months_ago(1)
    await contacts(server.services, last_month, "en", 7)
    await contacts(server.services, last_month, "pl", 1)
    login = await supervisor_http(server)
    month = month_of(last_month)
    async with server.http(cookies={"willow_staff": login.cookie}) as http:
        chart = await http.get(f"/api/reports/{month}/charts/contacts/language.svg")
        missing = await http.get(f"/api/reports/{month}/charts/contacts/postcode.svg")
    assert chart.status_code == 200 and chart.headers["content-type"].startswith("image/svg+xml")
    svg = chart.text
    assert svg.startswith("<svg") and "<script" not in svg and "href" not in svg
    assert "fewer than 5" in svg and "English" in svg
    assert missing.status_code == 404


# --- counted when it happens, kept when transcripts go ------------------------------------


async def counts_now(services: Services) -> dict[tuple[str, str, str], int]:
    async with services.db.read() as session:
        found = await session.execute(
            select(
                ReportCount.measure,
                ReportCount.dimension,
                ReportCount.value,
                func.sum(ReportCount.count),
            ).group_by(ReportCount.measure, ReportCount.dimension, ReportCount.value)
        )
    return {(m, d, v): int(n) for m, d, v, n in found.all()}


async def test_a_real_chat_is_counted_and_the_purge_leaves_the_counts(server: Server) -> None:
    assert server.services is not None
    her, adviser, conversation, _token = await connected_pair(server)
    await her.send(
        {
            "type": "message",
            "conversation_id": conversation,
            "client_id": "r1",
            "body": "I've taken all my pills, I want to die tonight",
        }
    )
    await adviser.receive("flag")
    await adviser.send({"type": "end", "conversation_id": conversation})
    await her.receive("ended")
    # Counting follows the news of the ending by a moment.
    counted = await counts_now(server.services)
    for _ in range(50):
        if {("outcomes", "by", "adviser"), ("risk_raised", "total", "all")} <= counted.keys():
            break
        await asyncio.sleep(0.05)
        counted = await counts_now(server.services)
    assert counted[("contacts", "total", "all")] == 1
    assert counted[("waits", "total", "all")] == 1
    assert counted[("outcomes", "outcome", "talked")] == 1
    assert counted[("outcomes", "by", "adviser")] == 1
    assert counted[("risk_raised", "level", "imminent")] == 1
    # Nothing in the counts points back at the chat: no id column, no id among the values.
    assert set(ReportCount.__table__.columns.keys()) == {
        "day",
        "measure",
        "dimension",
        "value",
        "count",
    }
    assert str(conversation) not in {value for (_m, _d, value) in counted}
    days = server.services.settings.transcript_retention_days
    assert await purge_expired(server.services, now() + timedelta(days=days, minutes=1)) == 1
    assert await counts_now(server.services) == counted
    next_month = (now().replace(day=28) + timedelta(days=5)).date()
    report = await month_report(server.services, month_of(now()), next_month)
    contacts_report = next(m for m in report.measures if m.measure == "contacts")
    assert contacts_report.total == FEWER


async def test_wrap_up_codes_are_counted_one_per_code_and_outlive_the_chat(
    server: Server,
) -> None:
    assert server.services is not None
    _her, adviser, conversation, _token = await connected_pair(server)
    await adviser.send({"type": "end", "conversation_id": conversation})
    await adviser.receive("ended")
    await adviser.send(
        {
            "type": "wrap_up",
            "conversation_id": conversation,
            "summary": "Talked about a safety plan for the weekend",
            "outcomes": ["safety_planning", "signposted", "signposted"],
            "categories": ["domestic_abuse"],
        }
    )
    await adviser.receive("wrapped_up", conversation_id=conversation)
    counted = await counts_now(server.services)
    for _ in range(50):
        if ("wrapup_categories", "total", "all") in counted:
            break
        await asyncio.sleep(0.05)
        counted = await counts_now(server.services)
    wrapups = {key: n for key, n in counted.items() if key[0].startswith("wrapup_")}
    assert wrapups == {
        ("wrapup_outcomes", "total", "all"): 2,
        ("wrapup_outcomes", "code", "safety_planning"): 1,
        ("wrapup_outcomes", "code", "signposted"): 1,
        ("wrapup_categories", "total", "all"): 1,
        ("wrapup_categories", "code", "domestic_abuse"): 1,
    }
    days = server.services.settings.transcript_retention_days
    assert await purge_expired(server.services, now() + timedelta(days=days, minutes=1)) == 1
    assert await counts_now(server.services) == counted


async def _escalate_and_close(adviser: Client, conversation: int, level: str, code: str) -> None:
    await adviser.send(
        {
            "type": "escalate",
            "conversation_id": conversation,
            "level": level,
            "reason": "he has found out where she is staying",
            "consent": "given",
        }
    )
    escalation = (await adviser.receive("escalated"))["escalation_id"]
    await adviser.send(
        {
            "type": "escalation_outcome",
            "escalation_id": escalation,
            "code": code,
            "outcome": "a note that is never counted",
        }
    )
    await adviser.receive("escalation_outcome", escalation_id=escalation)


async def test_escalations_are_counted_by_level_and_outcome_code_and_outlive_the_chat(
    server: Server,
) -> None:
    assert server.services is not None
    _her, adviser, conversation, _token = await connected_pair(server)
    await _escalate_and_close(adviser, conversation, "emergency", "emergency_services")
    await _escalate_and_close(adviser, conversation, "supervisor", "safety_plan")
    await _escalate_and_close(adviser, conversation, "emergency", "safety_plan")
    counted = await counts_now(server.services)
    for _ in range(100):
        if counted.get(("escalation_outcomes", "total", "all")) == 3:
            break
        await asyncio.sleep(0.05)
        counted = await counts_now(server.services)
    closed = {key[1:]: n for key, n in counted.items() if key[0] == "escalation_outcomes"}
    assert closed == {
        ("total", "all"): 3,
        ("level", "emergency"): 2,
        ("level", "supervisor"): 1,
        ("at_emergency", "emergency_services"): 1,
        ("at_emergency", "safety_plan"): 1,
        ("at_supervisor", "safety_plan"): 1,
    }
    assert not [key for key in counted if "never counted" in key[2]]
    await adviser.send({"type": "end", "conversation_id": conversation})
    await adviser.receive("ended")
    days = server.services.settings.transcript_retention_days
    assert await purge_expired(server.services, now() + timedelta(days=days, minutes=1)) == 1
    after = await counts_now(server.services)
    assert {key[1:]: n for key, n in after.items() if key[0] == "escalation_outcomes"} == closed


async def test_the_export_names_escalation_outcomes_in_words_and_hides_small_ones(
    server: Server,
) -> None:
    assert server.services is not None
    last_month = months_ago(1)
    closings = [("emergency", "emergency_services")] * 6 + [("emergency", "contact_lost")] * 2
    closings += [("emergency", "safety_plan")] * 5 + [("supervisor", "specialist_referral")] * 7
    closings += [("signpost", "other")] * 3
    for level, code in closings:
        await count(
            server.services,
            Happening("escalation_closed", {"level": level, "code": code}, at=last_month),
        )
    login = await supervisor_http(server)
    async with server.http(cookies={"willow_staff": login.cookie}) as http:
        report = (await http.get(f"/api/reports/{month_of(last_month)}")).json()
    assert report["labels"]["specialist_referral"] == "Referred to a specialist service"
    text = await export(server, login, month_of(last_month))
    labelled = {
        (row["breakdown"], row["value"]): (row["count"], row["label"])
        for row in csv.DictReader(io.StringIO(text))
        if row["measure"] == "escalation_outcomes"
    }
    assert labelled[("total", "all")] == ("23", "")
    # Signposting's 3 is small, and supervisor's 7 is hidden with it (23 - 13 would give it).
    assert labelled[("level", "emergency")] == ("13", "emergency")
    assert labelled[("level", "signpost")][0] == "fewer than 5"
    assert labelled[("level", "supervisor")][0] == "not shown"
    # Emergency's 13, by outcome: the small figure, and the next smallest with it (13 - 6).
    emergency = {value: shown for (breakdown, value), shown in labelled.items()
                 if breakdown == "at_emergency"}  # fmt: skip
    assert emergency == {
        "emergency_services": ("6", "Emergency services called"),
        "contact_lost": ("fewer than 5", "Contact lost"),
        "safety_plan": ("not shown", "Safety plan agreed"),
    }
    # A level whose own figure is hidden is not broken down: its outcomes would give it away.
    assert not [key for key in labelled if key[0] in ("at_signpost", "at_supervisor")]


async def test_a_room_session_and_attendance_are_counted(services: Services) -> None:
    at = datetime(2026, 1, 5, 19, tzinfo=UTC)
    await count(services, Happening("room_session", {"room": "evening-circle"}, at=at))
    await count(services, Happening("room_attendance", {"room": "evening-circle"}, at=at))
    await count(services, Happening("room_attendance", {"room": "Not A Slug <b>"}, at=at))
    counted = await counts_now(services)
    assert counted[("room_sessions", "room", "evening-circle")] == 1
    assert counted[("room_attendance", "room", "evening-circle")] == 1
    assert counted[("room_attendance", "room", "other")] == 1
    report = await month_report(services, "2026-01", date(2026, 2, 1))
    assert report.month == "2026-01"


# --- "you said, we did" -----------------------------------------------------------------


async def test_admins_edit_the_you_said_we_did_list_and_the_page_reads_it(server: Server) -> None:
    admin = await server.staff_session("admin")
    supervisor = await server.staff_session("supervisor")
    entry = {"language": "en", "you_said": "Evenings are hard", "we_did": "We open until 10pm"}
    async with server.http(cookies={"willow_staff": admin.cookie}) as http:
        assert (await http.post("/api/admin/you-said-we-did", json=entry)).status_code == 403
        made = await http.post("/api/admin/you-said-we-did", json=entry, headers=admin.headers)
        assert made.status_code == 201
        for bad in (
            {**entry, "you_said": ""},
            {**entry, "language": "xx"},
            {**entry, "we_did": "x" * 501},
            {"you_said": "only half"},
        ):
            refused = await http.post("/api/admin/you-said-we-did", json=bad, headers=admin.headers)
            assert refused.status_code == 422, bad
    async with server.http(cookies={"willow_staff": supervisor.cookie}) as http:
        denied = await http.post(
            "/api/admin/you-said-we-did", json=entry, headers=supervisor.headers
        )
        assert denied.status_code == 403
    async with server.http() as page:
        listed = (await page.get("/api/you-said-we-did")).json()
    assert [(e["you_said"], e["we_did"]) for e in listed] == [
        ("Evenings are hard", "We open until 10pm")
    ]
    async with server.http(cookies={"willow_staff": admin.cookie}) as http:
        gone = await http.delete(
            f"/api/admin/you-said-we-did/{listed[0]['id']}", headers=admin.headers
        )
        assert gone.status_code == 204
    async with server.http() as page:
        assert (await page.get("/api/you-said-we-did")).json() == []


async def test_an_arrival_and_its_count_are_one_write_and_a_failed_count_loses_only_itself(
    server: Server,
) -> None:
    assert server.services is not None
    services = server.services
    # A second counter that always fails inside the arrival's transaction.

    async def never(_happening: Happening) -> None:
        raise AssertionError("counted inside the transaction, never after it")

    async def broken(session: AsyncSession, _happening: Happening) -> None:
        await session.execute(text("INSERT INTO no_such_table VALUES (1)"))

    services.tally.listen(never, within=broken)
    her, _ = await visitor(server)
    seen: list[str] = []
    engine = services.db.engine.sync_engine

    def statement(_conn: object, _cursor: object, sql: str, *_rest: object) -> None:
        seen.append(sql.split("(")[0].strip())

    def commit(_conn: object) -> None:
        seen.append("COMMIT")

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        await her.send({"type": "request_chat"})
        queued = await her.receive("queue")
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)
    # Her place is kept; the good counter counted her.
    async with services.db.read() as session:
        stored = await session.get(Conversation, queued["conversation_id"])
    assert stored is not None and stored.status == "waiting"
    assert (await counts_now(services))[("contacts", "total", "all")] == 1
    # Her conversation and its count went in one transaction: no commit between them.
    joined = seen.index("INSERT INTO conversations")
    counted = seen.index("INSERT INTO report_counts")
    assert joined < counted < seen.index("COMMIT", joined)
    await her.close()


def test_every_breakdown_name_fits_its_column() -> None:
    # PostgreSQL refuses a longer name (SQLite would take it silently).
    width = ReportCount.__table__.columns["dimension"].type.length
    assert all(len(dimension) <= width for dimension in VOCABULARY), VOCABULARY.keys()
