"""edited documents: what admins change live, a version per save

Revision ID: 0011_edited_documents_admin
Revises: 0009_sealed_second_factor
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_edited_documents_admin"
down_revision: str | None = "0009_sealed_second_factor"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "edited_documents",
        sa.Column("id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("body", sa.JSON(), nullable=True),
        sa.Column("staff_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "saved_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_edited_documents_kind", "edited_documents", ["kind"])


def downgrade() -> None:
    op.drop_index("ix_edited_documents_kind", table_name="edited_documents")
    op.drop_table("edited_documents")
