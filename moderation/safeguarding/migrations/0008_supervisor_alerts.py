"""supervisor alerts kept until acknowledged

Revision ID: 0008_supervisor_alerts
Revises: 0004
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0008_supervisor_alerts"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "supervisor_alerts",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column(
            "at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column("stream_id", BIG_ID, nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(["stream_id"], ["streams.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("supervisor_alerts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supervisor_alerts_stream_id"), ["stream_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_supervisor_alerts_acknowledged_at"), ["acknowledged_at"], unique=False
        )

    _keep_what_is_open()


def _iso(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _keep_what_is_open() -> None:
    """Open escalations and reports from before alerts were kept become kept alerts, so the
    panel lists them until a supervisor acknowledges them, like every new one."""
    bind = op.get_bind()
    rows = []
    escalations = bind.execute(
        sa.text(
            "SELECT id, at, conversation_id, level, reason FROM escalations"
            " WHERE status = 'open' AND level != 'signpost' ORDER BY id"
        )
    )
    for e in escalations:
        payload = {
            "type": "alert",
            "kind": "escalation",
            "conversation_id": e.conversation_id,
            "at": _iso(e.at),
            "level": e.level,
            "reason": e.reason,
            "escalation_id": e.id,
        }
        rows.append({"stream_id": e.conversation_id, "at": e.at, "payload": payload})
    reports = bind.execute(
        sa.text(
            "SELECT id, at, stream_id, seq, reason FROM reports"
            " WHERE status = 'open' AND place = 'conversation' ORDER BY id"
        )
    )
    for r in reports:
        payload = {
            "type": "alert",
            "kind": "report",
            "conversation_id": r.stream_id,
            "at": _iso(r.at),
            "report_id": r.id,
            "seq": r.seq,
            "reason": r.reason,
        }
        rows.append({"stream_id": r.stream_id, "at": r.at, "payload": payload})
    if rows:
        table = sa.table(
            "supervisor_alerts",
            sa.column("stream_id"),
            sa.column("at"),
            sa.column("payload", sa.JSON()),
        )
        op.bulk_insert(table, rows)


def downgrade() -> None:
    with op.batch_alter_table("supervisor_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supervisor_alerts_acknowledged_at"))
        batch_op.drop_index(batch_op.f("ix_supervisor_alerts_stream_id"))
    op.drop_table("supervisor_alerts")
