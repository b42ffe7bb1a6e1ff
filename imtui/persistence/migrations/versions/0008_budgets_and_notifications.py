"""Budgets (one per account, one for the fleet) and what each webhook was notified of

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from imtui.persistence.types import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "budgets",
        # `fleet` or `account:<id>`: the primary key keeps one budget per account and one for the
        # fleet (a unique account_id alone would allow any number of NULLs, i.e. fleet budgets)
        sa.Column("subject", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("warn_at", sa.Integer(), nullable=False),
        sa.Column("set_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("set_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name="fk_budgets_account_id"),
        sa.PrimaryKeyConstraint("subject"),
        sa.UniqueConstraint("account_id", name="uq_budgets_account_id"),
    )
    op.create_table(
        "notifications",
        sa.Column("url_key", sa.String(length=64), nullable=False),
        sa.Column("signal_key", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("account", sa.String(length=200), nullable=True),
        sa.Column("since", UTCDateTime(timezone=True), nullable=False),
        sa.Column("notified_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("url_key", "signal_key"),
    )


def downgrade() -> None:
    op.drop_table("notifications")
    op.drop_table("budgets")
