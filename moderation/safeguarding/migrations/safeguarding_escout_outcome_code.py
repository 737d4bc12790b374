"""escalations keep their outcome code

Revision ID: safeguarding_escout_outcome_code
Revises: 0008_supervisor_alerts
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "safeguarding_escout_outcome_code"
down_revision: str | None = "0008_supervisor_alerts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Escalations closed before the codes existed keep their note and no code.
    with op.batch_alter_table("escalations") as batch:
        batch.add_column(sa.Column("outcome_code", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("escalations") as batch:
        batch.drop_column("outcome_code")
