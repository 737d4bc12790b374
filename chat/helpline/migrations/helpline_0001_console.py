"""helpline console: canned-reply libraries, wrap-ups, her anonymous feedback

Revision ID: helpline_0001_console
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "helpline_0001_console"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "canned_libraries",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("staff_id", BIG_ID, nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "wrapups",
        sa.Column("conversation_id", BIG_ID, nullable=False),
        sa.Column("staff_id", BIG_ID, nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("outcomes", sa.JSON(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("conversation_id"),
    )
    op.create_table(
        "chat_feedback",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("helped", sa.String(length=16), nullable=False),
        sa.Column("listened", sa.String(length=16), nullable=False),
        sa.Column("again", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_chat_feedback_day", "chat_feedback", ["day"])


def downgrade() -> None:
    op.drop_index("ix_chat_feedback_day", table_name="chat_feedback")
    op.drop_table("chat_feedback")
    op.drop_table("wrapups")
    op.drop_table("canned_libraries")
