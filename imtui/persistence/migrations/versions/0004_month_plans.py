"""Month plans: each app's month as priced runs of days, kept with its events; an index of usage peaks

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "month_plans",
        sa.Column("app_id", sa.BigInteger(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("priced_with", sa.String(length=80), nullable=False),
        sa.Column("plan", sa.Text(), nullable=False),
        sa.Column("cents", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["app_id"], ["apps.app_id"]),
        sa.PrimaryKeyConstraint("app_id", "month"),
    )
    op.create_index("ix_month_plans_month", "month_plans", ["month"])
    op.create_index(
        "ix_usage_months_peaks",
        "usage_months",
        ["month", "paid_peak_dau", "paid_peak_groups", "paid_days", "app_id"],
    )
    # empty at first: every event from now on writes its app's plan in its own transaction, so
    # only apps whose events are not newer than this one are worked out from their history
    op.execute(
        "INSERT INTO meta (key, value) SELECT 'plans_after_event', CAST(COALESCE(MAX(id), 0) AS VARCHAR(20)) FROM events"
    )


def downgrade() -> None:
    op.execute("DELETE FROM meta WHERE key = 'plans_after_event'")
    op.drop_index("ix_usage_months_peaks", table_name="usage_months")
    op.drop_index("ix_month_plans_month", table_name="month_plans")
    op.drop_table("month_plans")
