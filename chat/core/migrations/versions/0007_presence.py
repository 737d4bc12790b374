"""presence: each node's lease and the sockets it holds of visitors, staff and room seats

Revision ID: 0007_presence
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_presence"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "presence_nodes",
        sa.Column("node", sa.String(length=32), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("node"),
    )
    op.create_table(
        "presence_holds",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.Integer(), nullable=False),
        sa.Column("node", sa.String(length=32), nullable=False),
        sa.Column("sockets", sa.Integer(), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("kind", "subject", "node"),
    )


def downgrade() -> None:
    op.drop_table("presence_holds")
    op.drop_table("presence_nodes")
