"""canned replies move to the edited documents: the newest saved library is carried over

Revision ID: helpline_0002_canned_admin
Revises: helpline_0001_console
Depends on: 0011_edited_documents_admin
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "helpline_0002_canned_admin"
down_revision: str | None = "helpline_0001_console"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "0011_edited_documents_admin"


def upgrade() -> None:
    # An admin's newest library stays in use: it becomes the newest version of kind "canned".
    # The old table stays (read by nothing) so a downgrade loses nothing.
    op.execute(
        sa.text(
            "INSERT INTO edited_documents (kind, body, staff_id, saved_at)"
            " SELECT 'canned', body, staff_id, created_at FROM canned_libraries"
            " WHERE id = (SELECT max(id) FROM canned_libraries)"
        )
    )


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM edited_documents WHERE kind = 'canned'"))
