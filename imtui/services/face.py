"""The narrow face of the service layer: everything the command line and the dashboard may call.

Built once by the composition root (`imtui.bootstrap`); neither caller ever sees the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from imtui.clock import Clock
from imtui.services.audit import AuditService
from imtui.services.billing import BillingService
from imtui.services.changes import ChangeService
from imtui.services.context import ServiceContext
from imtui.services.costing import Costing
from imtui.services.demo import DemoService
from imtui.services.fleet import FleetService
from imtui.services.housekeeping import Housekeeping
from imtui.services.intents import IntentKeeper
from imtui.services.lifecycle import LifecycleService
from imtui.services.queries import AppQueries
from imtui.services.reconcile import ReconcileService
from imtui.services.review import ReviewService
from imtui.services.usage import UsageService
from imtui.services.users import UserService


@dataclass
class Services:
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
    _ctx: ServiceContext

    @classmethod
    def build(cls, ctx: ServiceContext) -> Services:
        housekeeping = Housekeeping(ctx)
        intents = IntentKeeper(ctx)
        costing = Costing(ctx)
        review = ReviewService(ctx, housekeeping)
        return cls(
            apps=AppQueries(ctx, housekeeping),
            changes=ChangeService(ctx, housekeeping),
            lifecycle=LifecycleService(ctx, housekeeping, intents),
            intents=intents,
            reconcile=ReconcileService(ctx, intents),
            billing=BillingService(ctx, housekeeping, costing),
            fleet=FleetService(ctx, housekeeping, costing, review),
            audit=AuditService(ctx, housekeeping),
            users=UserService(ctx),
            demo=DemoService(ctx, housekeeping),
            usage=UsageService(ctx, housekeeping),
            review=review,
            housekeeping=housekeeping,
            _ctx=ctx,
        )

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
