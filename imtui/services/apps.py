"""Use cases on apps: create, upgrade, modify, halt, reactivate, list, show, cost preview."""

from __future__ import annotations

import asyncio
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import String, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from imtui.domain.billing import State, live_cost
from imtui.domain.calendar import Month, iso_local
from imtui.domain.editions import EDITIONS, Package, default_package
from imtui.domain.errors import Conflict, ImtuiError, InvalidInput, NotFound, Unavailable
from imtui.domain.prices import ZERO
from imtui.domain.rules import (
    ACTIVE,
    DEACTIVATED,
    PURGED,
    FIRST_APP_ID,
    STATUSES,
    ChangePlan,
    ChangeRequest,
    check_can_create,
    check_can_halt,
    check_can_reactivate,
    check_not_before,
    locked_items,
    plan_modify,
    plan_upgrade,
    purge_instant,
    unlock_date,
)
from imtui.persistence import repo
from imtui.persistence.tables import Account, App
from imtui.services.context import ServiceContext
from imtui.services.control_plane import ControlPlaneError
from imtui.services.housekeeping import Housekeeping
from imtui.services.models import AppView, BulkResult, ChangeResult, CostPreview, HistoryEntry

MAX_NAME = 200


def check_name(kind: str, name: str) -> str:
    """Names are stored as plain text: not empty, no control characters, at most 200 long."""
    name = name.strip()
    if not name:
        raise InvalidInput(f"the {kind} name is empty")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"the {kind} name is {len(name)} characters long; at most {MAX_NAME}")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") for ch in name):
        raise InvalidInput(f"the {kind} name contains control characters")
    return name


def app_view(app: App, account: str, locks: dict[str, datetime], tz: str) -> AppView:
    return AppView(
        app_id=app.app_id,
        name=app.name,
        account=account,
        edition=app.edition,
        status=app.status,
        live_groups=app.live_groups,
        groups_per_user=app.groups_per_user,
        members_per_group=app.members_per_group,
        history_days=app.history_days,
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
class AppFilter:
    """What `apps list` and the dashboard narrow the fleet by."""

    status: str | None = None
    edition: str | None = None
    account: str | None = None
    search: str | None = None


class AppService:
    def __init__(self, ctx: ServiceContext, housekeeping: Housekeeping):
        self.ctx = ctx
        self.housekeeping = housekeeping

    # --- reads ----------------------------------------------------------------------------------

    async def show(self, app_id: int) -> AppView:
        await self.housekeeping.catch_up()
        return await self.ctx.run(lambda: self._show(app_id))

    def _show(self, app_id: int) -> AppView:
        with self.ctx.uow() as uow:
            return self._view(uow.session, self._app(uow.session, app_id), self.ctx.month())

    def _app(self, s: Session, app_id: int, lock: bool = False) -> App:
        app = repo.get_app(s, app_id, lock=lock)
        if app is None:
            raise NotFound(f"no app {app_id}")
        return app

    def _view(self, s: Session, app: App, month: Month) -> AppView:
        account = s.get(Account, app.account_id).name
        return app_view(app, account, repo.changes_in_month(s, app.app_id, month), self.ctx.tz)

    async def views(self, app_ids: list[int]) -> list[AppView]:
        """Several apps at once, in the order asked (unknown IDs are left out)."""
        def read() -> list[AppView]:
            month = self.ctx.month()
            with self.ctx.uow() as uow:
                s = uow.session
                apps = repo.get_apps(s, app_ids)
                names = repo.account_names(s)
                locks = repo.locks_for(s, list(apps), month)
                return [
                    app_view(apps[a], names[apps[a].account_id], locks.get(a, {}), self.ctx.tz)
                    for a in app_ids
                    if a in apps
                ]

        return await self.ctx.run(read)

    async def list(self, filt: AppFilter = AppFilter()) -> list[AppView]:
        await self.housekeeping.catch_up()
        return await self.ctx.run(lambda: self._list(filt))

    def _list(self, filt: AppFilter) -> list[AppView]:
        for text in (filt.search, filt.account):
            if text is not None and "\x00" in text:
                raise InvalidInput("a filter cannot contain a NUL character")
        if filt.status is not None and filt.status not in STATUSES:
            raise InvalidInput(f"unknown status {filt.status!r}; allowed: {', '.join(STATUSES)}")
        if filt.edition is not None and filt.edition not in EDITIONS:
            raise InvalidInput(f"unknown edition {filt.edition!r}; allowed: {', '.join(EDITIONS)}")
        month = self.ctx.month()
        with self.ctx.uow() as uow:
            s = uow.session
            stmt = select(App, Account.name).join(Account, Account.id == App.account_id)
            if filt.account is not None:
                if repo.find_account(s, filt.account) is None:
                    raise NotFound(f"no account named {filt.account!r}")
                stmt = stmt.where(Account.name == filt.account)
            if filt.status:
                stmt = stmt.where(App.status == filt.status)
            if filt.edition:
                stmt = stmt.where(App.edition == filt.edition)
            if filt.search:
                pattern = _contains_pattern(filt.search.lower())
                stmt = stmt.where(
                    or_(
                        func.lower(App.name).like(pattern, escape="\\"),
                        func.lower(Account.name).like(pattern, escape="\\"),
                        func.cast(App.app_id, String()).like(pattern, escape="\\"),
                    )
                )
            rows = s.execute(stmt.order_by(App.app_id)).all()
            locks = repo.locks_for(s, [app.app_id for app, _ in rows], month)
            return [app_view(app, name, locks.get(app.app_id, {}), self.ctx.tz) for app, name in rows]

    async def history(self, app_id: int) -> list[HistoryEntry]:
        """The app's change history, oldest first."""
        def read():
            with self.ctx.uow() as uow:
                self._app(uow.session, app_id)
                return [
                    HistoryEntry(ev.at, ev.kind, ev.actor, ev.status, repo.package_of(ev))
                    for ev in repo.app_history(uow.session, app_id)
                ]

        return await self.ctx.run(read)

    async def states(self, app_id: int) -> list[State]:
        """The app's whole history as billing states (for its daily-cost chart)."""
        def read():
            with self.ctx.uow() as uow:
                self._app(uow.session, app_id)
                month = self.ctx.month()
                start = month.start(self.ctx.tz)
                return repo.states_between(uow.session, start, month.end(self.ctx.tz), [app_id]).get(app_id, [])

        return await self.ctx.run(read)

    # --- create -----------------------------------------------------------------------------------

    async def create(self, name: str, account: str) -> AppView:
        self.ctx.require_writable()
        await self.housekeeping.catch_up()
        return await self._audited("create", None, lambda now: self._create(name, account, now))

    def _create(self, name: str, account: str, now: datetime) -> AppView:
        name = check_name("app", name)
        account = check_name("account", account)
        ctx = self.ctx
        with ctx.uow(write=True) as uow:
            s = uow.session
            ctx.require(s, "create")
            check_not_before(now, repo.get_instant(s, repo.LATEST_AT), ctx.tz)
            acc = repo.find_account(s, account)
            if acc is None:
                acc = Account(name=account, created_at=now)
                s.add(acc)
                s.flush()
            check_can_create(account, repo.count_apps_not_purged(s, acc.id))
            pkg = default_package("trial")
            app = App(
                app_id=repo.next_app_id(s, FIRST_APP_ID),
                name=name,
                account_id=acc.id,
                status=ACTIVE,
                created_at=now,
                updated_by=ctx.actor,
                **_package_fields(pkg),
            )
            s.add(app)
            s.flush()
            repo.add_event(s, app, "create", now, ctx.actor)
            repo.add_audit(
                s, now, ctx.actor, "create", app.app_id, "done",
                f"created trial app {name!r} in account {account}",
            )
            repo.advance_latest(s, now)
            repo.bump_counter(s)
            view = self._view(s, app, ctx.month(now))
            uow.commit()
            return view

    # --- upgrade and modify -----------------------------------------------------------------

    async def upgrade(
        self, app_id: int, request: ChangeRequest, expected_version: int | None = None
    ) -> ChangeResult:
        self.ctx.require_writable()
        await self.housekeeping.catch_up()
        return await self._audited(
            "upgrade", app_id, lambda now: self._change("upgrade", app_id, request, now, expected_version)
        )

    async def modify(
        self, app_id: int, request: ChangeRequest, expected_version: int | None = None
    ) -> ChangeResult:
        self.ctx.require_writable()
        await self.housekeeping.catch_up()
        return await self._audited(
            "modify", app_id, lambda now: self._change("modify", app_id, request, now, expected_version)
        )

    def plan(self, s: Session, kind: str, app: App, request: ChangeRequest, now: datetime) -> ChangePlan:
        """The domain's verdict on a change of one app (raises when refused)."""
        current = repo.package_of(app)
        if kind == "upgrade":
            return plan_upgrade(app.app_id, app.status, current, request)
        locks = repo.changes_in_month(s, app.app_id, self.ctx.month(now))
        return plan_modify(app.app_id, app.status, current, request, locks, self.ctx.prices, self.ctx.tz)

    def _change(
        self, kind: str, app_id: int, request: ChangeRequest, now: datetime, expected_version: int | None
    ) -> ChangeResult:
        ctx = self.ctx
        with ctx.uow(write=True) as uow:
            s = uow.session
            ctx.require(s, kind)
            app = self._app(s, app_id, lock=True)
            check_not_before(now, repo.get_instant(s, repo.LATEST_AT), ctx.tz)
            _check_version(app, expected_version)
            plan = self.plan(s, kind, app, request, now)
            month = ctx.month(now)
            if plan.nothing_to_change:
                repo.add_audit(s, now, ctx.actor, kind, app_id, "done", "nothing to change")
                repo.bump_counter(s)
                view = self._view(s, app, month)
                uow.commit()
                return ChangeResult(view, plan.describe(), True)
            for field, value in _package_fields(plan.after).items():
                setattr(app, field, value)
            app.version += 1
            app.updated_by = ctx.actor
            event = repo.add_event(s, app, kind, now, ctx.actor)
            try:
                repo.add_item_changes(s, app_id, plan.counted, month, now, event.id)
            except IntegrityError:
                raise Conflict(
                    f"app {app_id} was changed by someone else at the same moment; nothing was "
                    "changed; look at it again and retry"
                ) from None
            repo.add_audit(s, now, ctx.actor, kind, app_id, "done", f"{kind}: {plan.describe()}")
            repo.advance_latest(s, now)
            repo.bump_counter(s)
            view = self._view(s, app, month)
            uow.commit()
            return ChangeResult(view, plan.describe(), False)

    async def preview(self, kind: str, app_ids: list[int], request: ChangeRequest) -> list[CostPreview]:
        """Before → after and money of a proposed change, per app, without changing anything."""
        await self.housekeeping.catch_up()
        return await self.ctx.run(lambda: self._preview(kind, app_ids, request))

    def _preview(self, kind: str, app_ids: list[int], request: ChangeRequest) -> list[CostPreview]:
        ctx = self.ctx
        now = ctx.now()
        month = ctx.month(now)
        start, end = month.start(ctx.tz), month.end(ctx.tz)
        out: list[CostPreview] = []
        with ctx.uow() as uow:
            s = uow.session
            apps = repo.get_apps(s, app_ids)
            states = repo.states_between(s, start, end, list(apps))
            for app_id in app_ids:
                app = apps.get(app_id)
                if app is None:
                    out.append(CostPreview(app_id, "", *([ZERO] * 4), error=f"no app {app_id}"))
                    continue
                hist = states.get(app_id, [])
                before_pkg = repo.package_of(app)
                before = live_cost(hist, month, ctx.tz, ctx.prices, now).projected_total
                monthly_before = ctx.prices.package_price(before_pkg)
                try:
                    plan = self.plan(s, kind, app, request, now)
                except ImtuiError as exc:
                    out.append(
                        CostPreview(app_id, "", before, before, monthly_before, monthly_before, exc.message)
                    )
                    continue
                after_hist = hist + [State(now, plan.after, app.status == ACTIVE)]
                after = live_cost(after_hist, month, ctx.tz, ctx.prices, now).projected_total
                out.append(
                    CostPreview(
                        app_id, plan.describe(), before, after, monthly_before,
                        ctx.prices.package_price(plan.after),
                    )
                )
        return out

    # --- halt and reactivate ----------------------------------------------------------------------

    async def halt(self, app_ids: list[int], reason: str, progress=None) -> list[BulkResult]:
        """Deactivates apps now; each app is halted fully (with its audit record) or not at all."""
        self.ctx.require_writable()
        reason = reason.strip()
        if not reason:
            raise InvalidInput("a halt needs a reason (--reason TEXT)")
        if len(reason) > 500 or any(unicodedata.category(c) in ("Cc", "Cs") for c in reason):
            raise InvalidInput("the reason must be one line of at most 500 characters")
        return await self._bulk("halt", app_ids, reason, progress)

    async def reactivate(self, app_ids: list[int], progress=None) -> list[BulkResult]:
        """Brings deactivated apps back with the package they had (within 90 days)."""
        self.ctx.require_writable()
        return await self._bulk("reactivate", app_ids, None, progress)

    async def _bulk(self, action: str, app_ids: list[int], reason: str | None, progress) -> list[BulkResult]:
        ctx = self.ctx
        await self.housekeeping.catch_up()
        now = ctx.now()
        ids = list(dict.fromkeys(app_ids))
        refused, ready = await ctx.run(lambda: self._bulk_check(action, ids, now))
        plane = ctx.control_plane.deactivate if action == "halt" else ctx.control_plane.activate
        gate = asyncio.Semaphore(ctx.bulk_concurrency)
        done = 0

        async def call(app_id: int) -> tuple[int, ImtuiError | None]:
            nonlocal done
            async with gate:
                try:
                    await plane(app_id)
                    err = None
                except ControlPlaneError as exc:
                    err = Unavailable(f"{exc}; the app was left as it was")
            done += 1
            if progress is not None:
                progress(done, len(ready))
            return app_id, err

        outcomes = await asyncio.gather(*(call(a) for a in ready))
        for app_id, err in outcomes:
            if err is not None:
                refused[app_id] = err
        succeeded = [a for a, err in outcomes if err is None]
        versions = {a: ready[a] for a in succeeded}
        applied, late = await ctx.run(lambda: self._bulk_apply(action, versions, reason, now))
        refused.update(late)
        if late:
            await self._reconcile(action, list(late), gate)
        if refused:
            await ctx.run(lambda: self._audit_refusals(action, refused, now))
        results = []
        for app_id in app_ids:
            if app_id in refused:
                err = refused[app_id]
                results.append(BulkResult(app_id, False, err.message, err.exit_code))
            else:
                results.append(BulkResult(app_id, True, None, 0, applied.get(app_id)))
        return results

    async def _reconcile(self, action: str, app_ids: list[int], gate: asyncio.Semaphore) -> None:
        """Puts the control plane back in line with the database for apps whose change it made
        but the database refused (someone else changed them meanwhile). An app the database now
        holds in the state we asked for (another operator halted it too) is left as it is: a
        halt must never end with a running service."""
        ctx = self.ctx
        target = DEACTIVATED if action == "halt" else ACTIVE

        def read() -> dict[int, str]:
            with ctx.uow() as uow:
                return {row.app_id: row.status for row in repo.bulk_rows(uow.session, app_ids)}

        statuses = await ctx.run(read)
        undo = ctx.control_plane.activate if action == "halt" else ctx.control_plane.deactivate

        async def revert(app_id: int) -> None:
            async with gate:
                try:
                    await undo(app_id)
                except ControlPlaneError:
                    pass  # it stays as the control plane has it; the database is the record

        await asyncio.gather(
            *(revert(a) for a in app_ids if statuses.get(a) not in (target, PURGED))
        )

    def _bulk_check(self, action: str, ids: list[int], now: datetime):
        """Which apps can take the action now: (refusals by app, {app: version} ready)."""
        ctx = self.ctx
        refused: dict[int, ImtuiError] = {}
        ready: dict[int, int] = {}
        with ctx.uow() as uow:
            s = uow.session
            try:
                ctx.require(s, action)
            except ImtuiError as exc:
                return {app_id: exc for app_id in ids}, {}
            apps = {row.app_id: row for row in repo.bulk_rows(s, ids)}
            latest = repo.get_instant(s, repo.LATEST_AT)
            for app_id in ids:
                app = apps.get(app_id)
                try:
                    if app is None:
                        raise NotFound(f"no app {app_id}")
                    check_not_before(now, latest, ctx.tz)
                    if action == "halt":
                        check_can_halt(app_id, app.status, app.purge_at, ctx.tz)
                    else:
                        check_can_reactivate(app_id, app.status)
                    ready[app_id] = app.version
                except ImtuiError as exc:
                    refused[app_id] = exc
        return refused, ready

    def _bulk_apply(self, action: str, versions: dict[int, int], reason: str | None, now: datetime):
        """Records the control plane's successes: set-based, one transaction per batch of apps.

        An app whose version moved since it was checked (someone else changed it meanwhile) is
        left as it is and reported as a conflict; a batch whose instant another process has
        already passed is refused, as time only moves forward.
        """
        ctx = self.ctx
        applied: dict[int, AppView] = {}
        refused: dict[int, ImtuiError] = {}
        ids = list(versions)
        expected = ACTIVE if action == "halt" else DEACTIVATED
        for start in range(0, len(ids), ctx.bulk_batch):
            batch = ids[start : start + ctx.bulk_batch]
            with ctx.uow(write=True) as uow:
                s = uow.session
                try:  # another process may have recorded a later instant while we waited
                    check_not_before(now, repo.get_instant(s, repo.LATEST_AT), ctx.tz)
                except ImtuiError as exc:
                    refused.update((app_id, exc) for app_id in batch)
                    continue
                rows = {row.app_id: row for row in repo.bulk_rows(s, batch)}
                accounts = repo.account_names(s)
                changes = []
                for app_id in batch:
                    row = rows.get(app_id)
                    if row is None or row.version != versions[app_id] or row.status != expected:
                        refused[app_id] = Conflict(
                            f"app {app_id} was changed by someone else at the same moment; "
                            "nothing was changed"
                        )
                        continue
                    if action == "halt":
                        change = dict(
                            status=DEACTIVATED, deactivated_at=now, purge_at=purge_instant(now),
                            halt_reason=reason,
                        )
                        detail = (
                            f"halted: active → deactivated; reason: {reason}; "
                            f"purge on {iso_local(change['purge_at'], ctx.tz)}"
                        )
                    else:
                        change = dict(status=ACTIVE, deactivated_at=None, purge_at=None, halt_reason=None)
                        detail = "reactivated: deactivated → active, package unchanged"
                    changes.append((row, change, detail))
                repo.apply_bulk_changes(s, action, changes, now, ctx.actor)
                for row, change, _ in changes:
                    data = dict(row._mapping) | change | {"version": row.version + 1}
                    applied[row.app_id] = _view_of(data, accounts[row.account_id], ctx.tz)
                if changes:
                    repo.advance_latest(s, now)
                repo.bump_counter(s)
                uow.commit()
        return applied, refused

    def _audit_refusals(self, action: str, refused: dict[int, ImtuiError], now: datetime) -> None:
        with self.ctx.uow(write=True) as uow:
            for app_id, err in refused.items():
                repo.add_audit(uow.session, now, self.ctx.actor, action, app_id, "refused", err.message)
            repo.bump_counter(uow.session)
            uow.commit()

    # --- helpers ------------------------------------------------------------------------------------

    async def _audited(self, action: str, app_id: int | None, fn):
        """Runs one operation at the clock's instant; a refusal is audited and re-raised."""
        now = self.ctx.now()
        try:
            return await self.ctx.run(lambda: fn(now))
        except ImtuiError as exc:
            if not isinstance(exc, Unavailable):
                await self.ctx.run(partial(self.ctx.audit_refusal, action, app_id, exc, now))
            raise


def _contains_pattern(text: str) -> str:
    """A LIKE pattern matching `text` literally anywhere (`%`, `_` and `\\` are not wildcards;
    the escape is explicit because PostgreSQL and SQLite differ in their default)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _view_of(data: dict, account: str, tz: str) -> AppView:
    """An app's read model from a plain row (bulk paths do not load ORM objects)."""
    return AppView(
        app_id=data["app_id"], name=data["name"], account=account, edition=data["edition"],
        status=data["status"], live_groups=data["live_groups"],
        groups_per_user=data["groups_per_user"], members_per_group=data["members_per_group"],
        history_days=data["history_days"], created_at=data["created_at"],
        deactivated_at=data["deactivated_at"], purge_at=data["purge_at"],
        halt_reason=data["halt_reason"], version=data["version"], updated_by=data.get("updated_by"),
    )


def _check_version(app: App, expected: int | None) -> None:
    """A stale edit (the form was filled in before someone else changed the app) is refused."""
    if expected is not None and app.version != expected:
        raise Conflict(
            f"app {app.app_id} was changed by {app.updated_by or 'someone'} since you opened it; "
            "nothing was changed; reload it and try again"
        )


def _package_fields(pkg: Package) -> dict:
    return {
        "edition": pkg.edition,
        "live_groups": pkg.live_groups,
        "groups_per_user": pkg.groups_per_user,
        "members_per_group": pkg.members_per_group,
        "history_days": pkg.history_days,
    }
