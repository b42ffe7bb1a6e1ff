"""SQLModel tables. Apps carry their current package (denormalised for fast listing); the
append-only `events` history is what billing is computed from."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from imtui.persistence.types import UTCDateTime


def _instant(nullable: bool = False, index: bool = False):
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


class Meta(SQLModel, table=True):
    """Database-wide facts: creation instant, latest instant, billing time zone, change counter."""

    __tablename__ = "meta"
    key: str = Field(primary_key=True, max_length=64)
    value: str


class Account(SQLModel, table=True):
    """An account: the owner of apps, by its unique name."""

    __tablename__ = "accounts"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True, index=True)
    created_at: datetime = _instant()


class App(SQLModel, table=True):
    """One IM application with its current package and status."""

    __tablename__ = "apps"
    __table_args__ = (Index("ix_apps_status_purge_at", "status", "purge_at"),)
    app_id: int = Field(primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False})
    name: str = Field(max_length=200)
    account_id: int = Field(foreign_key="accounts.id", index=True)
    edition: str = Field(max_length=16, index=True)
    live_groups: int | None = None
    groups_per_user: int
    members_per_group: int
    history_days: int
    status: str = Field(max_length=16)  # indexed with purge_at (`ix_apps_status_purge_at`)
    created_at: datetime = _instant()
    deactivated_at: datetime | None = _instant(nullable=True)
    purge_at: datetime | None = _instant(nullable=True)
    halt_reason: str | None = None
    version: int = 1
    """Bumped by every change; a write that expected another version is a conflict."""
    updated_by: str | None = None
    paid_since: datetime | None = _instant(nullable=True)
    """When the app left trial (its upgrade): overage counts the days from then on."""


class Event(SQLModel, table=True):
    """Append-only history: the app's full state from `at` on."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_app_at", "app_id", "at"), Index("ix_events_at", "at"))
    id: int | None = Field(default=None, primary_key=True)
    app_id: int = Field(foreign_key="apps.app_id", sa_type=BigInteger)
    at: datetime = _instant()
    kind: str = Field(max_length=16)
    edition: str = Field(max_length=16)
    live_groups: int | None = None
    groups_per_user: int
    members_per_group: int
    history_days: int
    status: str = Field(max_length=16)
    actor: str = Field(max_length=200)


class ItemChange(SQLModel, table=True):
    """The once-per-month change of one item; the primary key makes the database enforce it."""

    __tablename__ = "item_changes"
    app_id: int = Field(primary_key=True, foreign_key="apps.app_id", sa_type=BigInteger)
    month: str = Field(primary_key=True, max_length=7)
    item: str = Field(primary_key=True, max_length=32)
    at: datetime = _instant()
    event_id: int = Field(foreign_key="events.id")


class MonthDraft(SQLModel, table=True):
    """A finished month whose package lines are final (its draft, from 00:00 on the 1st); usage
    for its days is still accepted until it is issued. The primary key makes it happen once."""

    __tablename__ = "month_drafts"
    month: str = Field(primary_key=True, max_length=7)
    drafted_at: datetime = _instant()
    """When the draft step was carried out (it takes effect at 00:00 on the 1st)."""
    actor: str = Field(max_length=200)


class MonthClose(SQLModel, table=True):
    """A month whose bills are issued; its primary key makes closing happen once."""

    __tablename__ = "month_closes"
    month: str = Field(primary_key=True, max_length=7)
    issued_at: datetime = _instant()
    actor: str = Field(max_length=200)


class Bill(SQLModel, table=True):
    """One account's issued bill of a month (at most one each)."""

    __tablename__ = "bills"
    __table_args__ = (
        UniqueConstraint("account_id", "month", name="uq_bills_account_month"),
        Index("ix_bills_account_month", "account_id", "month"),
    )
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="accounts.id")
    month: str = Field(max_length=7, index=True)
    issued_at: datetime = _instant()
    total_cents: int


class BillLineRow(SQLModel, table=True):
    """One line of an issued bill (amounts in cents)."""

    __tablename__ = "bill_lines"
    id: int | None = Field(default=None, primary_key=True)
    bill_id: int = Field(foreign_key="bills.id", index=True)
    app_id: int = Field(index=True, sa_type=BigInteger)
    item: str = Field(max_length=32)
    setting: str = Field(max_length=32)
    unit_price_cents: int
    days: int
    amount_cents: int


class AuditRecord(SQLModel, table=True):
    """One entry of the audit trail."""

    __tablename__ = "audit"
    __table_args__ = (Index("ix_audit_action_at", "action", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _instant(index=True)
    actor: str = Field(max_length=200)
    action: str = Field(max_length=32)
    app_id: int | None = Field(default=None, index=True, sa_type=BigInteger)
    result: str = Field(max_length=16)
    detail: str


class UserRole(SQLModel, table=True):
    """Who may do what (team mode); the creator of a database is its admin."""

    __tablename__ = "users"
    name: str = Field(primary_key=True, max_length=200)
    role: str = Field(max_length=16)
    granted_at: datetime = _instant()
    granted_by: str = Field(max_length=200)


class UsageMonthRow(SQLModel, table=True):
    """One app's usage records of one month, packed: `days` holds 5 × 31 little-endian int32,
    figure by figure (dau, groups, live_groups, max_groups_per_user, max_members_per_group), -1
    where a day has no record. With the month's peaks over the days the app was pro or flagship
    (what overage is billed from), kept up to date on every write."""

    __tablename__ = "usage_months"
    __table_args__ = (
        Index("ix_usage_months_month", "month"),
        # the bill's overage reads only these: an index holding them spares reading the days
        Index("ix_usage_months_peaks", "month", "paid_peak_dau", "paid_peak_groups", "paid_days", "app_id"),
    )
    app_id: int = Field(primary_key=True, foreign_key="apps.app_id", sa_type=BigInteger)
    month: str = Field(primary_key=True, max_length=7)
    days: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    paid_peak_dau: int | None = None
    paid_peak_groups: int | None = None
    paid_days: int = 0


class MonthPlanRow(SQLModel, table=True):
    """An app's month as priced runs of days (`domain.billing.MonthPlan` as text) and its
    month-to-date cents through each day (`MonthPlan.curve`, packed little-endian int32),
    written with every event of that month, so the live cost of the whole fleet is read rather
    than worked out. `event_id` is the app's newest event the plan covers; `priced_with` names
    the price list and billing time zone it was worked out with: a plan priced otherwise is worked
    out again."""

    __tablename__ = "month_plans"
    __table_args__ = (Index("ix_month_plans_month", "month"),)
    app_id: int = Field(primary_key=True, foreign_key="apps.app_id", sa_type=BigInteger)
    month: str = Field(primary_key=True, max_length=7)
    event_id: int
    priced_with: str = Field(max_length=80)
    plan: str
    cents: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class IntentRow(SQLModel, table=True):
    """A halt or reactivation written down before the control plane is asked (`domain.intents`)."""

    __tablename__ = "intents"
    key: str = Field(primary_key=True, max_length=64)
    app_id: int = Field(sa_type=BigInteger, index=True)
    action: str = Field(max_length=16)
    actor: str = Field(max_length=200)
    reason: str | None = None
    requested_at: datetime = _instant()
    state: str = Field(max_length=16, index=True)
    owner: str = Field(max_length=300)
    lease_until: datetime | None = _instant(nullable=True)
    settled_at: datetime | None = _instant(nullable=True)


class BudgetRow(SQLModel, table=True):
    """A monthly budget (signals.md §1) of one account, or of the fleet (`account_id` NULL): at
    most one of each, which the primary key `subject` (`fleet`, or `account:<id>`) enforces (a
    unique NULL would not)."""

    __tablename__ = "budgets"
    __table_args__ = (UniqueConstraint("account_id", name="uq_budgets_account_id"),)
    subject: str = Field(primary_key=True, max_length=32)
    account_id: int | None = Field(default=None, foreign_key="accounts.id")
    amount_cents: int = Field(sa_type=BigInteger)
    warn_at: int
    set_at: datetime = _instant()
    set_by: str = Field(max_length=200)


class NotificationRow(SQLModel, table=True):
    """What a webhook was told (signals.md §3): per URL (by its SHA-256, never the URL itself,
    which may carry a token) and signal key, the signal's `since` when notified. Written only
    after the webhook answered 2xx; a resolved signal's row is deleted once that was told."""

    __tablename__ = "notifications"
    url_key: str = Field(primary_key=True, max_length=64)
    signal_key: str = Field(primary_key=True, max_length=300)
    kind: str = Field(max_length=32)
    account: str | None = Field(default=None, max_length=200)
    """The signal's account (an app's own; NULL for the fleet): what `check --account` may resolve."""
    since: datetime = _instant()
    notified_at: datetime = _instant()
