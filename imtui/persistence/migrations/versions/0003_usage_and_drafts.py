"""Usage records (packed by app and month), the month's draft step, and when each app left trial

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

import imtui.persistence.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("apps") as batch:
        batch.add_column(sa.Column("paid_since", imtui.persistence.types.UTCDateTime(timezone=True), nullable=True))
    # an app left trial at its first event on another edition (upgrades are irreversible)
    op.execute(
        "UPDATE apps SET paid_since = (SELECT MIN(events.at) FROM events "
        "WHERE events.app_id = apps.app_id AND events.edition <> 'trial')"
    )
    op.create_table(
        "usage_months",
        sa.Column("app_id", sa.BigInteger(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("days", sa.LargeBinary(), nullable=False),
        sa.Column("paid_peak_dau", sa.Integer(), nullable=True),
        sa.Column("paid_peak_groups", sa.Integer(), nullable=True),
        sa.Column("paid_days", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["app_id"], ["apps.app_id"]),
        sa.PrimaryKeyConstraint("app_id", "month"),
    )
    op.create_index("ix_usage_months_month", "usage_months", ["month"])
    op.create_table(
        "month_drafts",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("drafted_at", imtui.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("month"),
    )
    # a month issued by an earlier release went through its draft when it was issued
    op.execute("INSERT INTO month_drafts (month, drafted_at, actor) SELECT month, issued_at, actor FROM month_closes")


def downgrade() -> None:
    op.drop_table("month_drafts")
    op.drop_index("ix_usage_months_month", table_name="usage_months")
    op.drop_table("usage_months")
    with op.batch_alter_table("apps") as batch:
        batch.drop_column("paid_since")
