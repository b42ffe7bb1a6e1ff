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


DONE_KIND, REFUSED_KIND, NOT_DONE_KIND, NOT_KNOWN_KIND = "done", "refused", "not done", "not known yet"


@dataclass(frozen=True)
class Planned:
    """What an operation would do to one app (`--dry-run`, the guardrail): the change in words
    and the app's monthly list price before and after (equal when nothing would change)."""

    changes: str
    monthly_before: Decimal
    monthly_after: Decimal
    version: int | None = None
    """The app's version when it was judged (a guarded change is carried out on it only)."""

    @property
    def monthly_delta(self) -> Decimal:
        return self.monthly_after - self.monthly_before


@dataclass(frozen=True)
class BulkResult:
    """One app's outcome in a bulk operation."""

    app_id: int
    ok: bool
    error: str | None = None
    exit_code: int = 0
    app: AppView | None = None
    kind: str = ""
    """"done"; "refused" (a rule, a permission, the platform said no); "not done" (the platform did
    not answer and never acted: nothing changed); "not known yet" (sent, no answer: settled by
    the next run). Empty: "done" when ok, else "refused"."""
    planned: Planned | None = None
    """With `--dry-run`: what the operation would do (None for an app that does not exist)."""

    @property
    def outcome(self) -> str:
        return self.kind or (DONE_KIND if self.ok else REFUSED_KIND)


@dataclass(frozen=True)
class DryRun:
    """A bulk operation checked but not carried out (`--dry-run`): every app's outcome as the real
    run would report it, with what it would do, and the refusal of the whole request (the
    guardrail) when the real run would refuse it before any app."""

    results: list[BulkResult]
    refusal: str | None = None
    refusal_code: int = 0

    @property
    def exit_code(self) -> int:
        """As the real run would exit: the whole request's refusal, else the first app's failure."""
        if self.refusal is not None:
            return self.refusal_code
        return next((r.exit_code for r in self.results if not r.ok), 0)


def result_kind(error: Exception) -> str:
    """How a failed app's outcome is reported (tui.md: an app the platform never acted on because
    it did not answer is "not done", not refused)."""
    from imtui.services.control_plane import NotDone, NotKnownYet

    if isinstance(error, NotDone):
        return NOT_DONE_KIND
    if isinstance(error, NotKnownYet):
        return NOT_KNOWN_KIND
    return REFUSED_KIND


@dataclass(frozen=True)
class LineView:
    """One line of a bill as shown."""

    item: str
    setting: str
    days: int
    amount: Decimal


@dataclass(frozen=True)
class AppBill:
    """One app's part of a bill: its totals (month to date and projected) and lines."""

    app_id: int
    total: Decimal
    projected_total: Decimal
    lines: list[LineView]


@dataclass(frozen=True)
class AccountBill:
    """One account's part of a bill."""

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
