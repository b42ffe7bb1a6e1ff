"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27 07:28:56.431745
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel
import imtui.persistence.types


revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", imtui.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_accounts_name"), ["name"], unique=True)

    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", imtui.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("app_id", sa.BigInteger(), nullable=True),
        sa.Column("result", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_app_id"), ["app_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_at"), ["at"], unique=False)

    op.create_table(
        "meta",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "month_closes",
        sa.Column("month", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("issued_at", imtui.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.PrimaryKeyConstraint("month"),
    )
    op.create_table(
        "users",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("granted_at", imtui.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("granted_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "apps",
        sa.Column("app_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("edition", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("live_groups", sa.Integer(), nullable=True),
        sa.Column("groups_per_user", sa.Integer(), nullable=False),
        sa.Column("members_per_group", sa.Integer(), nullable=False),
        sa.Column("history_days", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", imtui.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deactivated_at", imtui.persistence.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("purge_at", imtui.persistence.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("halt_reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
        ),
        sa.PrimaryKeyConstraint("app_id"),
    )
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_apps_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_apps_edition"), ["edition"], unique=False)
        batch_op.create_index(batch_op.f("ix_apps_purge_at"), ["purge_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_apps_status"), ["status"], unique=False)

    op.create_table(
        "bills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("month", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("issued_at", imtui.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account_id", "month", name="uq_bills_account_month"),
    )
    with op.batch_alter_table("bills", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bills_month"), ["month"], unique=False)

    op.create_table(
        "bill_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bill_id", sa.Integer(), nullable=False),
        sa.Column("app_id", sa.BigInteger(), nullable=False),
        sa.Column("item", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("setting", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("unit_price_cents", sa.Integer(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bill_id"],
            ["bills.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("bill_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bill_lines_app_id"), ["app_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bill_lines_bill_id"), ["bill_id"], unique=False)

    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("app_id", sa.BigInteger(), nullable=False),
        sa.Column("at", imtui.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("edition", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("live_groups", sa.Integer(), nullable=True),
        sa.Column("groups_per_user", sa.Integer(), nullable=False),
        sa.Column("members_per_group", sa.Integer(), nullable=False),
        sa.Column("history_days", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_id"],
            ["apps.app_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_app_at", ["app_id", "at"], unique=False)
        batch_op.create_index("ix_events_at", ["at"], unique=False)

    op.create_table(
        "item_changes",
        sa.Column("app_id", sa.BigInteger(), nullable=False),
        sa.Column("month", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("item", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("at", imtui.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_id"],
            ["apps.app_id"],
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
        ),
        sa.PrimaryKeyConstraint("app_id", "month", "item"),
    )


def downgrade() -> None:
    op.drop_table("item_changes")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_at")
        batch_op.drop_index("ix_events_app_at")

    op.drop_table("events")
    with op.batch_alter_table("bill_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bill_lines_bill_id"))
        batch_op.drop_index(batch_op.f("ix_bill_lines_app_id"))

    op.drop_table("bill_lines")
    with op.batch_alter_table("bills", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bills_month"))

    op.drop_table("bills")
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_apps_status"))
        batch_op.drop_index(batch_op.f("ix_apps_purge_at"))
        batch_op.drop_index(batch_op.f("ix_apps_edition"))
        batch_op.drop_index(batch_op.f("ix_apps_account_id"))

    op.drop_table("apps")
    op.drop_table("users")
    op.drop_table("month_closes")
    op.drop_table("meta")
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_at"))
        batch_op.drop_index(batch_op.f("ix_audit_app_id"))

    op.drop_table("audit")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accounts_name"))

    op.drop_table("accounts")
