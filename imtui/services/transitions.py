"""The write recipe of an app's status change: what a confirmed halt or reactivation and a due
purge put in the database, inside the caller's writing transaction.

It sits below the three services that change an app's status (`services.lifecycle` for the
operator's halts and reactivations, `services.intents` for the ones recovery finds done,
`services.housekeeping` for purges), so each writes a change the same way without importing
the others.
"""

from __future__ import annotations

from datetime import datetime

from imtui.domain.apps import App
from imtui.domain.audit import DONE, AuditEntry
from imtui.domain.calendar import iso_local
from imtui.domain.intents import DONE as INTENT_DONE
from imtui.domain.lifecycle import PURGE, describe, purged
from imtui.domain.period import BillingPeriod
from imtui.persistence.uow import UnitOfWork
from imtui.services.context import ServiceContext
from imtui.services.costing import record_plans


def apply_confirmed(
    uow: UnitOfWork,
    ctx: ServiceContext,
    action: str,
    changes: list[tuple[App, datetime]],
    keys: dict[int, str],
    actor: str | None = None,
) -> None:
    """Inside a writing transaction: the apps' new status, their events, plans and audit records,
    and the completion of their intents (`keys` by app), so the two are never apart."""
    if not changes:
        return
    actor = actor or ctx.actor
    uow.apps.save_many([a for a, _ in changes])
    uow.history.add_many(changes, action, actor)
    periods: dict[datetime, BillingPeriod] = {}  # a bulk's apps mostly share one instant
    months: dict[str, tuple[BillingPeriod, list[int]]] = {}
    for app, at in changes:
        period = periods.get(at) or periods.setdefault(at, ctx.period(at))
        months.setdefault(period.key, (period, []))[1].append(app.app_id)
    for period, app_ids in months.values():
        record_plans(uow, ctx, app_ids, period)
    uow.audit.add_many(
        [AuditEntry(at, actor, action, a.app_id, DONE, describe(action, a, ctx.tz)) for a, at in changes]
    )
    uow.intents.settle([keys[a.app_id] for a, _ in changes], INTENT_DONE, max(at for _, at in changes))
    uow.meta.advance_latest(max(at for _, at in changes))


def purge_due(uow: UnitOfWork, ctx: ServiceContext, apps: list[App], now: datetime) -> None:
    """Purges deactivated apps whose instant has come, each at its own purge instant however
    late this runs (inside the caller's writing transaction, in the order they fell due)."""
    actor, tz = ctx.actor, ctx.tz
    for app in apps:
        at = app.purge_at
        gone = purged(app, actor)
        uow.apps.save(gone)
        uow.history.add(gone, PURGE, at, actor)
        record_plans(uow, ctx, [app.app_id], ctx.period(at))
        uow.audit.add(
            AuditEntry(
                at,
                actor,
                PURGE,
                app.app_id,
                DONE,
                f"purged 90 days after deactivation (carried out {iso_local(now, tz)}); "
                "its data and service are unrecoverable",
            )
        )
        uow.meta.advance_latest(at)
