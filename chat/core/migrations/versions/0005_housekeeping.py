"""housekeeping jobs: when each purge is next due and which node holds it

Revision ID: 0005
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "housekeeping_jobs",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_removed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    # The purges look for old rows by these times.
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_visitor_sessions_created_at", "visitor_sessions", ["created_at"])
    op.create_index("ix_staff_sessions_expires_at", "staff_sessions", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_staff_sessions_expires_at", "staff_sessions")
    op.drop_index("ix_visitor_sessions_created_at", "visitor_sessions")
    op.drop_index("ix_audit_log_at", "audit_log")
    op.drop_table("housekeeping_jobs")
