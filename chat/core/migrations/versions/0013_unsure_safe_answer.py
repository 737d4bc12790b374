"""her safety answer kept as words, so "not sure" is no longer stored like "not answered"

Revision ID: 0013_unsure_safe_answer
Revises: 0012_evening_queue_index
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_unsure_safe_answer"
down_revision: str | None = "0012_evening_queue_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("visitor_sessions", sa.Column("safe_answer", sa.String(8), nullable=True))
    op.execute(
        "UPDATE visitor_sessions SET safe_answer = CASE WHEN safe_to_talk THEN 'yes' "
        "WHEN NOT safe_to_talk THEN 'no' END"
    )
    with op.batch_alter_table("visitor_sessions") as batch:
        batch.drop_column("safe_to_talk")


def downgrade() -> None:
    # "unsure" has no place in the older column: it becomes not answered, as it was then.
    op.add_column("visitor_sessions", sa.Column("safe_to_talk", sa.Boolean(), nullable=True))
    op.execute(
        "UPDATE visitor_sessions SET safe_to_talk = CASE safe_answer WHEN 'yes' THEN TRUE "
        "WHEN 'no' THEN FALSE END"
    )
    with op.batch_alter_table("visitor_sessions") as batch:
        batch.drop_column("safe_answer")
