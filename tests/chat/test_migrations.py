"""A database made by an earlier release upgrades in place and keeps its data."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from chat.core.migrate import alembic_config
from chat.schema import VERSION_DIRECTORIES, upgrade
from tests.services import DATABASE_URL, scratch_postgres

# The heads of the release before housekeeping: rooms (peers) and escalations (safeguarding).
EARLIER_HEADS = ("0003", "0004")

SOME_DATA = [
    "INSERT INTO staff (id, username, display_name, password_hash, role, available, capacity,"
    " disabled) VALUES (1, 'ada', 'Ada', 'x', 'adviser', false, 3, false)",
    "INSERT INTO visitor_sessions (id, token_hash, language) VALUES (1, 'her-token-hash', 'en')",
    "INSERT INTO visitor_sessions (id, token_hash, safe_to_talk)"
    " VALUES (2, 'safe-token-hash', true), (3, 'unsafe-token-hash', false)",
    "INSERT INTO streams (id, kind, last_seq) VALUES (1, 'conversation', 1), (2, 'room', 1)",
    "INSERT INTO conversations (id, visitor_id, status, adviser_id, priority, risk_level)"
    " VALUES (1, 1, 'active', 1, 0, 'none')",
    "INSERT INTO events (stream_id, seq, type, sender, audience, payload)"
    """ VALUES (1, 1, 'message', 'visitor', 'all', '{"type": "message", "body": "hello"}')""",
    "INSERT INTO audit_log (actor, action, subject, reason, details)"
    " VALUES ('staff:1', 'transcript.view', 'conversation:1', '', '{}')",
    "INSERT INTO room_sessions (id, room_id, status, locked, slow_mode_seconds, mentors_present)"
    " VALUES (2, 'newcomers', 'open', false, 0, 1)",
    "INSERT INTO reports (place, place_id, stream_id, seq, reporter, reason, status)"
    " VALUES ('conversation', '1', 1, 1, 'visitor', 'rude', 'open')",
]


async def _make_earlier_database(engine: AsyncEngine) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False), VERSION_DIRECTORIES)

    def to_earlier_heads(connection: object) -> None:
        config.attributes["connection"] = connection
        for head in EARLIER_HEADS:
            command.upgrade(config, head)

    async with engine.begin() as connection:
        await connection.run_sync(to_earlier_heads)
        for statement in SOME_DATA:
            await connection.execute(text(statement))


async def _upgrade_and_look(url: str) -> None:
    engine = create_async_engine(url)
    try:
        await _make_earlier_database(engine)
        await upgrade(engine)
        async with engine.connect() as connection:
            versions = set(
                (await connection.execute(text("SELECT version_num FROM alembic_version")))
                .scalars()
                .all()
            )
            body = (
                await connection.execute(text("SELECT payload FROM events WHERE seq = 1"))
            ).scalar_one()
            counts = [
                (await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()  # noqa: S608 (names fixed above)
                for table in (
                    "staff",
                    "visitor_sessions",
                    "conversations",
                    "audit_log",
                    "room_sessions",
                    "reports",
                    "housekeeping_jobs",
                    "report_counts",
                    "supervisor_alerts",
                )
            ]
            # Her safety answer is kept as words: yes, no, and not answered stays NULL.
            answers = (
                await connection.execute(
                    text("SELECT id, safe_answer FROM visitor_sessions ORDER BY id")
                )
            ).all()
            indexes = await connection.run_sync(
                lambda sync: {
                    i["name"]
                    for table in ("audit_log", "conversations")
                    for i in inspect(sync).get_indexes(table)
                }
            )
    finally:
        await engine.dispose()
    assert versions == {
        "0003",
        "safeguarding_escout_outcome_code",
        "0013_unsure_safe_answer",
        "reporting_0001",
        "helpline_0002_canned_admin",
    }
    assert "hello" in str(body)
    # The open report became a kept supervisor alert.
    assert counts == [1, 3, 1, 1, 1, 1, 0, 0, 1]
    assert [tuple(row) for row in answers] == [(1, None), (2, "yes"), (3, "no")]
    assert {"ix_audit_log_at", "ix_conversations_queue"} <= indexes


def test_a_database_at_the_earlier_heads_upgrades_in_place(tmp_path: Path) -> None:
    if DATABASE_URL:
        with scratch_postgres(DATABASE_URL) as url:
            asyncio.run(_upgrade_and_look(url))
    else:
        asyncio.run(_upgrade_and_look(f"sqlite+aiosqlite:///{tmp_path / 'earlier.db'}"))


async def _carry_canned(url: str) -> list[tuple[str, str]]:
    """A library an admin saved before the edited documents is still the one in use."""
    engine = create_async_engine(url)
    config = alembic_config(url, VERSION_DIRECTORIES)

    def before_documents(connection: object) -> None:
        config.attributes["connection"] = connection
        for head in ("0009_sealed_second_factor", "helpline_0001_console"):
            command.upgrade(config, head)

    try:
        async with engine.begin() as connection:
            await connection.run_sync(before_documents)
            for title in ("Older", "Newest"):
                body = json.dumps({"groups": [{"id": "g", "title": title, "replies": []}]})
                await connection.execute(
                    text("INSERT INTO canned_libraries (body) VALUES (:body)"), {"body": body}
                )
        await upgrade(engine)
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT kind, body FROM edited_documents"))
            return [(kind, str(body)) for kind, body in rows.all()]
    finally:
        await engine.dispose()


def test_a_saved_canned_library_is_carried_into_the_edited_documents(tmp_path: Path) -> None:
    if DATABASE_URL:
        with scratch_postgres(DATABASE_URL) as url:
            rows = asyncio.run(_carry_canned(url))
    else:
        rows = asyncio.run(_carry_canned(f"sqlite+aiosqlite:///{tmp_path / 'canned.db'}"))
    assert len(rows) == 1
    kind, body = rows[0]
    assert kind == "canned" and "Newest" in body and "Older" not in body
