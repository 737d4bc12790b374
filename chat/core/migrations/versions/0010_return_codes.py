"""return codes (only their keyed hash) and the conversations she came back with one

Revision ID: 0010_return_codes
Revises: 0007_presence
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_return_codes"
down_revision: str | None = "0007_presence"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "return_codes",
        sa.Column("id", BigId, nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.BigInteger(), nullable=False),
        sa.Column("adviser_id", sa.BigInteger(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["adviser_id"], ["staff.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_hash"),
        sa.UniqueConstraint("conversation_id"),
    )
    op.create_table(
        "return_visits",
        sa.Column("conversation_id", sa.BigInteger(), nullable=False),
        sa.Column("adviser_id", sa.BigInteger(), nullable=True),
        sa.Column("wait_for_adviser", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["adviser_id"], ["staff.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("conversation_id"),
    )


def downgrade() -> None:
    op.drop_table("return_visits")
    op.drop_table("return_codes")
