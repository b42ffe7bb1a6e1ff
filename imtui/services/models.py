"""Read models: what leaves the service layer. Plain values, never ORM rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from imtui.domain.apps import App, AppEvent
from imtui.domain.audit import AuditEntry
from imtui.domain.changes import locked_items, unlock_date
from imtui.domain.editions import billing_kind
from imtui.domain.roles import Grant


@dataclass(frozen=True)
class AppView:
    """One app as the contract shows it (`apps show`)."""

    app_id: int
    name: str
    account: str
    edition: str
    status: str
    live_groups: int | None
    groups_per_user: int
    members_per_group: int
    history_days: int
    created_at: datetime
    deactivated_at: datetime | None
    purge_at: datetime | None
    locked_items: tuple[str, ...] = ()
    unlock_dates: dict[str, str] = field(default_factory=dict)
    """Item → date (YYYY-MM-DD) from which it can be changed again."""
    halt_reason: str | None = None
    version: int = 1
    updated_by: str | None = None

    @property
    def billing(self) -> str:
        return billing_kind(self.edition)

    @classmethod
    def of(cls, app: App, locks: dict[str, datetime], tz: str) -> AppView:
        """The read model of an app, with the items whose change of this month is used."""
        pkg = app.package
        return cls(
            app_id=app.app_id,
            name=app.name,
            account=app.account,
            edition=pkg.edition,
            status=app.status,
            live_groups=pkg.live_groups,
            groups_per_user=pkg.groups_per_user,
            members_per_group=pkg.members_per_group,
            history_days=pkg.history_days,
            created_at=app.created_at,
            deactivated_at=app.deactivated_at,
            purge_at=app.purge_at,
            locked_items=tuple(locked_items(locks)),
            unlock_dates={item: unlock_date(at, tz) for item, at in locks.items()},
            halt_reason=app.halt_reason,
            version=app.version,
            updated_by=app.updated_by,
        )


@dataclass(frozen=True)
class ChangeResult:
    """The app after an upgrade or modification, and what changed (`nothing to change`)."""

    app: AppView
    changes: str
    nothing_to_change: bool


@dataclass(frozen=True)
class BulkResult:
    """One app's outcome in a bulk operation."""

    app_id: int
    ok: bool
    error: str | None = None
    exit_code: int = 0
    app: AppView | None = None


@dataclass(frozen=True)
class LineView:
    item: str
    setting: str
    days: int
    amount: Decimal


@dataclass(frozen=True)
class AppBill:
    app_id: int
    total: Decimal
    projected_total: Decimal
    lines: list[LineView]
    projected_lines: list[LineView] = field(default_factory=list)


@dataclass(frozen=True)
class AccountBill:
    account: str
    total: Decimal
    projected_total: Decimal
    apps: list[AppBill]


@dataclass(frozen=True)
class BillView:
    """A month's bill: issued (finished month) or open (current month, month-to-date)."""

    month: str
    currency: str
    state: str
    issued_at: datetime | None
    total: Decimal
    projected_total: Decimal
    accounts: list[AccountBill]


AuditView = AuditEntry
"""One entry of the audit trail (the domain's value is already a plain read model)."""

UserView = Grant
"""A user and their role."""

HistoryEntry = AppEvent
"""One event of an app's history: its status and package from `at` on."""


@dataclass(frozen=True)
class CostPreview:
    """What a proposed change does to one app's money."""

    app_id: int
    changes: str
    this_month_before: Decimal
    this_month_after: Decimal
    monthly_before: Decimal
    monthly_after: Decimal
    error: str | None = None

    @property
    def this_month_delta(self) -> Decimal:
        return self.this_month_after - self.this_month_before


@dataclass(frozen=True)
class CostSummary:
    """Live cost of a set of apps (one, the marked ones, or the fleet) for the current month."""

    month: str
    month_to_date: Decimal
    projected: Decimal
    lines: list[LineView]
    """Month-to-date lines merged by item and setting."""
    last_month: Decimal | None
    daily: list[Decimal]
    as_of: datetime
    apps: int
    last_month_pending: bool = False
    """Last month's total was not asked for yet (it follows)."""
