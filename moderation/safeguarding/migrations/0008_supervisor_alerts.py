"""supervisor alerts kept until acknowledged

Revision ID: 0008_supervisor_alerts
Revises: 0004
"""

from collections.abc import Sequence

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


def downgrade() -> None:
    with op.batch_alter_table("supervisor_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supervisor_alerts_acknowledged_at"))
        batch_op.drop_index(batch_op.f("ix_supervisor_alerts_stream_id"))
    op.drop_table("supervisor_alerts")
