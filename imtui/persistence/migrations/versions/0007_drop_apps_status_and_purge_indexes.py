"""Drop the apps' status and purge_at indexes: `ix_apps_status_purge_at` serves every query they did

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every read by status alone uses the (status, purge_at) index's prefix, and every read of
    # purge_at asks for deactivated apps; a halt or reactivation updated all three per app.
    op.drop_index("ix_apps_status", table_name="apps")
    op.drop_index("ix_apps_purge_at", table_name="apps")


def downgrade() -> None:
    op.create_index("ix_apps_status", "apps", ["status"])
    op.create_index("ix_apps_purge_at", "apps", ["purge_at"])
