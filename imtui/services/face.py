"""The narrow face of the service layer: everything the command line and the dashboard may call.

Built once by the composition root (`imtui.bootstrap`); neither caller ever sees the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING

from imtui.clock import Clock
from imtui.services.audit import AuditService
from imtui.services.billing import BillingService
from imtui.services.binding import PlatformBinding
from imtui.services.cache import FigureCache
from imtui.services.changes import ChangeService
from imtui.services.context import ServiceContext
from imtui.services.costing import Costing
from imtui.services.demo import DemoService
from imtui.services.fleet import FleetService
from imtui.services.housekeeping import Housekeeping
from imtui.services.intents import IntentKeeper
from imtui.services.lifecycle import LifecycleService
from imtui.services.metrics import MetricsService
from imtui.services.queries import AppQueries
from imtui.services.reconcile import ReconcileService
from imtui.services.review import ReviewService
from imtui.services.usage import UsageService
from imtui.services.users import UserService

if TYPE_CHECKING:  # loaded when first used, not on every start
    from imtui.services.budgets import BudgetService
    from imtui.services.signals import SignalService


@dataclass
class Services:
    """Every use case, built once by the composition root: the one face the command line and the dashboard get."""

    apps: AppQueries
    """Reading apps: list, show, history."""
    changes: ChangeService
    """Create, upgrade, modify, and the cost preview of a change."""
    lifecycle: LifecycleService
    """Halt and reactivate."""
    billing: BillingService
    fleet: FleetService
    audit: AuditService
    users: UserService
    demo: DemoService
    usage: UsageService
    """Importing usage files, reading an app's records."""
    review: ReviewService
    """Headroom and right-sizing suggestions."""
    housekeeping: Housekeeping
    intents: IntentKeeper
    """Intents of halts and reactivations; settling those a dead process left behind."""
    reconcile: ReconcileService
    """Drift between imtui and the platform, and its repair."""
    platform: PlatformBinding
    """The platform the database belongs to: shown, checked, moved (`imtui platform`)."""
    _ctx: ServiceContext

    @classmethod
    def build(cls, ctx: ServiceContext) -> Services:
        housekeeping = Housekeeping(ctx)
        intents = IntentKeeper(ctx)
        cache = FigureCache()
        costing = Costing(ctx, cache)
        review = ReviewService(ctx, housekeeping)
        return cls(
            apps=AppQueries(ctx, housekeeping),
            changes=ChangeService(ctx, housekeeping),
            lifecycle=LifecycleService(ctx, housekeeping, intents),
            intents=intents,
            reconcile=ReconcileService(ctx, intents),
            platform=intents.binding,
            billing=BillingService(ctx, housekeeping, costing, cache),
            fleet=FleetService(ctx, housekeeping, costing, cache, review),
            audit=AuditService(ctx, housekeeping),
            users=UserService(ctx),
            demo=DemoService(ctx, housekeeping),
            usage=UsageService(ctx, housekeeping),
            review=review,
            housekeeping=housekeeping,
            _ctx=ctx,
        )

    @cached_property
    def metrics(self) -> MetricsService:
        """The figures Prometheus scrapes (`imtui metrics`), from the same kept figures."""
        return MetricsService(
            self._ctx, self.housekeeping, self.billing.costing, self.review, self.budgets, self.signals
        )

    @cached_property
    def budgets(self) -> BudgetService:
        """Budgets per account and for the fleet, held against this month's costs (`imtui budgets`)."""
        from imtui.services.budgets import BudgetService

        return BudgetService(self._ctx, self.housekeeping, self.billing.costing, self.billing)

    @cached_property
    def signals(self) -> SignalService:
        """The risks worth a person's attention now, and their delivery to a webhook (`imtui check`)."""
        from imtui.services.signals import SignalService
        from imtui.services.webhook import WebhookSettings

        secret, timeout = getattr(self, "_notify", (None, None))
        webhook = WebhookSettings(secret) if timeout is None else WebhookSettings(secret, timeout)
        return SignalService(self._ctx, self.housekeeping, self.billing.costing, self.reconcile, webhook)

    def configure_notify(self, secret: str | None, timeout: float | None) -> None:
        """How `check --notify` signs and how long it waits (the settings' `notify_secret` and
        `notify_timeout`; the composition root passes them before anything is read)."""
        self._notify = (secret, timeout)
        self.__dict__.pop("signals", None)

    @property
    def tz(self) -> str:
        """The billing time zone this database bills in."""
        return self._ctx.tz

    @property
    def actor(self) -> str:
        """Who this run is, as the audit trail records it."""
        return self._ctx.actor

    @property
    def clock(self) -> Clock:
        return self._ctx.clock

    @property
    def read_only(self) -> bool:
        return self._ctx.read_only

    def now(self) -> datetime:
        return self._ctx.now()

    def require_writable(self) -> None:
        """Refuses at once (exit 3) when this run is read-only."""
        self._ctx.require_writable()

    def close(self) -> None:
        self._ctx.db.close()
