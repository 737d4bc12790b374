"""adviser profile for routing (languages, specialisms) and her "any adviser will do"

Revision ID: 0007_routing_profile
Revises: 0010_return_codes
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_routing_profile"
down_revision: str | None = "0010_return_codes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.add_column(sa.Column("languages", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("specialisms", sa.JSON(), nullable=True))
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(
            sa.Column("any_adviser", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("offered_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("offered_at")
        batch.drop_column("any_adviser")
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("specialisms")
        batch.drop_column("languages")
