"""Indexes for the audit screen's filters and per-app bill lookups

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_audit_action_at", "audit", ["action", "at"])
    op.create_index("ix_bills_account_month", "bills", ["account_id", "month"])


def downgrade() -> None:
    op.drop_index("ix_bills_account_month", table_name="bills")
    op.drop_index("ix_audit_action_at", table_name="audit")
