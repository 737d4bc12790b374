"""an index in the queue's own order, so routing reads a page of the queue without sorting it

Revision ID: 0012_evening_queue_index
Revises: 0011_evening_return_offer
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_evening_queue_index"
down_revision: str | None = "0011_evening_return_offer"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_conversations_queue",
        "conversations",
        ["status", sa.text("priority DESC"), "created_at", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_conversations_queue", table_name="conversations")
