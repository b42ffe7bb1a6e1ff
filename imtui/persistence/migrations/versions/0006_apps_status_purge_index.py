"""An index for "the earliest purge due": every command's housekeeping asks it

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # min(purge_at) of the deactivated apps from the index alone, instead of visiting each of them
    op.create_index("ix_apps_status_purge_at", "apps", ["status", "purge_at"])


def downgrade() -> None:
    op.drop_index("ix_apps_status_purge_at", table_name="apps")
