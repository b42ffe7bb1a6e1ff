"""Changing apps: create, upgrade, modify feature configuration, and the cost preview of a change.

The rules are the domain's (`domain.changes`, `domain.apps`); this module carries them out, one
app per transaction, and audits every outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from imtui.domain.apps import FIRST_APP_ID, App, check_can_create
from imtui.domain.audit import DONE, AuditEntry
from imtui.domain.billing import State, live_cost
from imtui.domain.changes import MODIFY, UPGRADE, ChangePlan, ChangeRequest, plan_change
from imtui.domain.editions import TRIAL
from imtui.domain.errors import Conflict, ImtuiError, NotFound, Refused
from imtui.domain.guardrails import check_monthly_rise, monthly_rise
from imtui.domain.lifecycle import ACTIVE, new_app
from imtui.domain.prices import ZERO
from imtui.domain.text import check_name
from imtui.domain.timeline import check_not_before
from imtui.persistence.uow import UnitOfWork
from imtui.services.context import ServiceContext
from imtui.services.costing import record_plans
from imtui.services.housekeeping import Housekeeping
from imtui.services.models import AppView, BulkResult, ChangeResult, CostPreview, DryRun, Planned, result_kind
from imtui.services.queries import get_app, view_of
from imtui.services.use_case import use_case

STALE_FORM = "you opened it; nothing was changed; reload it and try again"
STALE_GUARD = "its monthly price was checked against --max-monthly-delta; nothing was changed; try again"


def check_version(app: App, expected: int | None, since: str = STALE_FORM) -> None:
    """A stale edit (the form was filled in, or the guardrail judged the app, before someone else
    changed it) is refused (exit 5)."""
    if expected is not None and app.version != expected:
        raise Conflict(f"app {app.app_id} was changed by {app.updated_by or 'someone'} since {since}")


class ChangeService:
    """Create, upgrade and modify an app, and the cost preview of a change."""

    def __init__(self, ctx: ServiceContext, housekeeping: Housekeeping):
        self.ctx = ctx
        self.housekeeping = housekeeping

    # --- create --------------------------------------------------------------------------------

    @use_case(writes=True)
    async def create(self, name: str, account: str) -> AppView:
        """A new trial app in an account (created with it when new), audited."""
        return await self.ctx.audited("create", None, lambda now: self._create(name, account, now))

    def _create(self, name: str, account: str, now: datetime) -> AppView:
        name = check_name("app", name)
        account = check_name("account", account)
        ctx = self.ctx
        with ctx.uow(write=True) as uow:
            ctx.require(uow, "create")
            check_not_before(now, uow.meta.latest, ctx.tz)
            account_id = uow.accounts.ensure(account, now)
            check_can_create(account, uow.accounts.apps_not_purged(account_id))
            app = new_app(uow.apps.next_id(FIRST_APP_ID), name, account, now, ctx.actor)
            uow.apps.add(app, account_id)
            uow.history.add(app, "create", now, ctx.actor)
            record_plans(uow, ctx, [app.app_id], ctx.period(now))
            uow.audit.add(
                AuditEntry(
                    now, ctx.actor, "create", app.app_id, DONE, f"created trial app {name!r} in account {account}"
                )
            )
            uow.meta.advance_latest(now)
            uow.meta.bump_counter()
            view = AppView.of(app, {}, ctx.tz)
            uow.commit()
            return view

    # --- upgrade and modify --------------------------------------------------------------------

    @use_case(writes=True)
    async def upgrade(self, app_id: int, request: ChangeRequest, expected_version: int | None = None) -> ChangeResult:
        """Upgrades one app, audited."""
        return await self._change(UPGRADE, app_id, request, expected_version)

    @use_case(writes=True)
    async def modify(self, app_id: int, request: ChangeRequest, expected_version: int | None = None) -> ChangeResult:
        """Modifies one app, audited."""
        return await self._change(MODIFY, app_id, request, expected_version)

    @use_case(writes=True)
    async def _change_one_of(self, kind: str, app_id: int, request: ChangeRequest, version: int | None) -> ChangeResult:
        """One app of `apply`: a use case of its own, as `upgrade` and `modify` are."""
        return await self._change(kind, app_id, request, version, STALE_GUARD)

    async def _change(
        self, kind: str, app_id: int, request: ChangeRequest, expected_version: int | None, since: str = STALE_FORM
    ) -> ChangeResult:
        return await self.ctx.audited(
            kind, app_id, lambda now: self._apply(kind, app_id, request, now, expected_version, since)
        )

    def _plan(self, uow: UnitOfWork, kind: str, app: App, request: ChangeRequest, now: datetime) -> ChangePlan:
        """The domain's verdict on a change of one app (raises when refused)."""
        locks = uow.locks.of_app(app.app_id, self.ctx.period(now).month) if kind == MODIFY else {}
        return plan_change(kind, app.app_id, app.status, app.package, request, locks, self.ctx.prices, self.ctx.tz)

    def _apply(
        self,
        kind: str,
        app_id: int,
        request: ChangeRequest,
        now: datetime,
        expected_version: int | None,
        since: str = STALE_FORM,
    ) -> ChangeResult:
        ctx = self.ctx
        with ctx.uow(write=True) as uow:
            ctx.require(uow, kind)
            app = get_app(uow, app_id, lock=True)
            check_not_before(now, uow.meta.latest, ctx.tz)
            check_version(app, expected_version, since)
            plan = self._plan(uow, kind, app, request, now)
            if plan.nothing_to_change:
                uow.audit.add(AuditEntry(now, ctx.actor, kind, app_id, DONE, "nothing to change"))
                uow.meta.bump_counter()
                view = view_of(uow, ctx, app, now)
                uow.commit()
                return ChangeResult(view, plan.describe(), True)
            changed = app.changed(package=plan.after, updated_by=ctx.actor)
            leaves_trial = app.paid_since is None and plan.after.edition != TRIAL
            if leaves_trial:
                changed = replace(changed, paid_since=now)
            if not uow.apps.save(changed):
                raise Conflict(f"app {app_id} was changed by someone else at the same moment; try again")
            if leaves_trial:  # the days from today on now count toward overage
                period = ctx.period(now)
                uow.usage.refresh_paid(app_id, period.key, period.today_date)
            event = uow.history.add(changed, kind, now, ctx.actor)
            uow.locks.record(app_id, plan.counted, ctx.period(now).month, now, event)
            record_plans(uow, ctx, [app_id], ctx.period(now))
            uow.audit.add(AuditEntry(now, ctx.actor, kind, app_id, DONE, f"{kind}: {plan.describe()}"))
            uow.meta.advance_latest(now)
            uow.meta.bump_counter()
            view = view_of(uow, ctx, changed, now)
            uow.commit()
            return ChangeResult(view, plan.describe(), False)

    # --- several apps: the command line's bulk upgrade and modify, and their dry run ------------

    @use_case(writes=True, catches_up=False)
    async def apply(
        self,
        kind: str,
        app_ids: list[int],
        request: ChangeRequest,
        max_monthly_delta: Decimal | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[BulkResult]:
        """Upgrades or modifies several apps, each exactly as `upgrade`/`modify` change one (the
        dashboard's form calls those app by app too): its own transaction and audit record, one
        app's refusal never stopping the others. Every app's outcome in the order given (an ID
        given twice is changed once and reported each time); `error` holds "nothing to change"
        for an app that is fine as it is.

        With `max_monthly_delta` (signals.md §6) the request is judged first, as `dry_run` shows
        it. When its monthly price would rise by more, it is refused whole (exit 3), audited for
        every app it names, and nothing changes. Otherwise each app is changed only as it was
        judged: one someone else changed in between is refused as a conflict (exit 5), so the
        rise never exceeds what was checked. Each app's change catches up first, as one
        change does."""
        ids = list(dict.fromkeys(app_ids))
        versions: dict[int, int] = {}
        if max_monthly_delta is not None:
            judged = await self.dry_run(kind, ids, request, max_monthly_delta)
            if judged.refusal is not None:
                refusal = Refused(judged.refusal)
                now = self.ctx.now()
                entries = [self.ctx.refusal(kind, app_id, refusal, now) for app_id in ids]
                await self.ctx.run(lambda: self.ctx.audit_refusals(entries))
                raise refusal
            # an app that did not exist must still not exist (version 0 matches no app)
            versions = {r.app_id: (r.planned.version if r.planned else None) or 0 for r in judged.results}
        outcomes: dict[int, BulkResult] = {}
        for i, app_id in enumerate(ids, 1):
            try:
                done = await self._change_one_of(kind, app_id, request, versions.get(app_id))
                note = "nothing to change" if done.nothing_to_change else None
                outcomes[app_id] = BulkResult(app_id, True, note, 0, done.app)
            except ImtuiError as exc:
                outcomes[app_id] = BulkResult(app_id, False, exc.message, exc.exit_code, kind=result_kind(exc))
            if progress is not None:
                progress(i, len(ids))
        return [outcomes[app_id] for app_id in app_ids]

    @use_case(writes=True)
    async def dry_run(
        self, kind: str, app_ids: list[int], request: ChangeRequest, max_monthly_delta: Decimal | None = None
    ) -> DryRun:
        """What `apply` would do, checked as it checks (read-only, permission, the clock, the
        rules, the locks, the guardrail), with each app's monthly price before and after;
        nothing is written and nothing audited."""
        ids = list(dict.fromkeys(app_ids))
        now = self.ctx.now()
        judged = await self.ctx.run(lambda: self._judge(kind, ids, request, now))
        rise = monthly_rise(r.planned.monthly_delta for r in judged.values() if r.ok and r.planned is not None)
        results = [judged[app_id] for app_id in app_ids]
        try:
            check_monthly_rise(rise, max_monthly_delta)
        except Refused as exc:
            return DryRun(results, exc.message, exc.exit_code)
        return DryRun(results)

    def _judge(self, kind: str, ids: list[int], request: ChangeRequest, now: datetime) -> dict[int, BulkResult]:
        """Each app's verdict, in the order `_apply` checks (permission, the app, the clock, the
        rules and locks), read in one transaction."""
        ctx = self.ctx
        price = ctx.prices.package_price
        out: dict[int, BulkResult] = {}
        with ctx.uow() as uow:
            denied: ImtuiError | None = None
            try:
                ctx.require(uow, kind)
            except ImtuiError as exc:
                denied = exc
            apps = uow.apps.many(ids)
            latest = uow.meta.latest
            for app_id in ids:
                app = apps.get(app_id)
                try:
                    if denied is not None:
                        raise denied
                    if app is None:
                        raise NotFound(f"no app {app_id}")
                    check_not_before(now, latest, ctx.tz)
                    plan = self._plan(uow, kind, app, request, now)
                except ImtuiError as exc:
                    same = None if app is None else Planned("", price(app.package), price(app.package), app.version)
                    out[app_id] = BulkResult(
                        app_id, False, exc.message, exc.exit_code, kind=result_kind(exc), planned=same
                    )
                    continue
                planned = Planned(plan.describe(), price(plan.before), price(plan.after), app.version)
                note = "nothing to change" if plan.nothing_to_change else None
                out[app_id] = BulkResult(app_id, True, note, 0, planned=planned)
        return out

    # --- preview -------------------------------------------------------------------------------

    @use_case()
    async def preview(self, kind: str, app_ids: list[int], request: ChangeRequest) -> list[CostPreview]:
        """Before → after and money of a proposed change, per app, without changing anything."""
        return await self.ctx.run(lambda: self._preview(kind, app_ids, request))

    def _preview(self, kind: str, app_ids: list[int], request: ChangeRequest) -> list[CostPreview]:
        ctx = self.ctx
        period = ctx.period()
        out: list[CostPreview] = []
        with ctx.uow() as uow:
            apps = uow.apps.many(app_ids)
            states = uow.history.states_between(period.start, period.end, list(apps))
            for app_id in app_ids:
                app = apps.get(app_id)
                if app is None:
                    out.append(CostPreview(app_id, "", *([ZERO] * 4), error=f"no app {app_id}"))
                    continue
                history = states.get(app_id, [])
                before = live_cost(history, period, ctx.prices).projected_total
                monthly_before = ctx.prices.package_price(app.package)
                try:
                    plan = self._plan(uow, kind, app, request, period.now)
                except ImtuiError as exc:
                    out.append(CostPreview(app_id, "", before, before, monthly_before, monthly_before, exc.message))
                    continue
                after_history = history + [State(period.now, plan.after, app.status == ACTIVE)]
                after = live_cost(after_history, period, ctx.prices).projected_total
                out.append(
                    CostPreview(
                        app_id,
                        plan.describe(),
                        before,
                        after,
                        monthly_before,
                        ctx.prices.package_price(plan.after),
                    )
                )
        return out
