"""when she chose to wait for the adviser she came back to, and when she was asked again

Revision ID: 0011_evening_return_offer
Revises: 0011_edited_documents_admin
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_evening_return_offer"
down_revision: str | None = "0011_edited_documents_admin"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("return_visits") as batch:
        batch.add_column(sa.Column("chose_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("offered_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("return_visits") as batch:
        batch.drop_column("offered_at")
        batch.drop_column("chose_at")
