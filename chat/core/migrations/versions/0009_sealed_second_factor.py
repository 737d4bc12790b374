"""room for the second factor's secret encrypted at rest (a Fernet token)

Revision ID: 0009_sealed_second_factor
Revises: 0007_routing_profile

The secrets already stored are encrypted by `willow migrate` (and `willow run`) right after
this, with the server's key, which a migration does not know (chat/helpline/second_factor.py
`seal_plain`; a housekeeping job does it too on any node).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_sealed_second_factor"
down_revision: str | None = "0007_routing_profile"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        for column in ("totp_secret", "totp_pending"):
            batch.alter_column(
                column,
                existing_type=sa.String(length=64),
                type_=sa.String(length=255),
                existing_nullable=True,
            )


def downgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        for column in ("totp_secret", "totp_pending"):
            batch.alter_column(
                column,
                existing_type=sa.String(length=255),
                type_=sa.String(length=64),
                existing_nullable=True,
            )
