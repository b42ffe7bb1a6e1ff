"""`imtui demo`: a believable fleet with a few months of history, deterministic for a seed.

The history is generated with the same domain rules as real operations (upgrade and modify
plans, once-per-month locks, halts and reactivations), written in bulk, and then the due month
closes and purges are carried out exactly as for any database.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from imtui.domain.apps import FIRST_APP_ID, MAX_APPS_PER_ACCOUNT, App
from imtui.domain.audit import DONE, AuditEntry
from imtui.domain.calendar import Month, zone
from imtui.domain.changes import ChangeRequest, plan_modify, plan_upgrade
from imtui.domain.editions import FLAGSHIP, OFFERED, PRO, Package
from imtui.domain.errors import ImtuiError, InvalidInput, Refused
from imtui.domain.lifecycle import ACTIVE, HALT, PURGE_AFTER, REACTIVATE, halted, new_app, reactivated
from imtui.domain.period import BillingPeriod
from imtui.services import demo_usage
from imtui.services.context import ServiceContext, no_cyclic_gc
from imtui.services.costing import record_plans
from imtui.services.use_case import use_case

ACCOUNT_NAMES = (
    "acme",
    "globex",
    "initech",
    "umbrella",
    "hooli",
    "stark",
    "wayne",
    "wonka",
    "tyrell",
    "cyberdyne",
    "soylent",
    "aperture",
    "massive",
    "vandelay",
    "dunder",
    "oscorp",
    "gringotts",
    "monarch",
    "nakatomi",
    "pied-piper",
)
PRODUCTS = ("chat", "support", "live", "game", "social", "notify", "classroom", "clinic", "market", "crm")
ENVIRONMENTS = ("prod", "staging", "eu", "us", "asia", "beta", "dev", "test")
REASONS = (
    "customer asked to stop service",
    "abuse report under review",
    "unpaid invoices",
    "project cancelled",
    "migrated to a new app",
    "security incident",
)
MONTHS_OF_HISTORY = 3


@dataclass
class _Timeline:
    """One demo app's life: the app as it is now, and every event and monthly change it had."""

    app: App
    account_id: int
    events: list[tuple[datetime, str, App]] = field(default_factory=list)
    changes: list[tuple[str, str, datetime, int]] = field(default_factory=list)

    def event(self, kind: str, at: datetime, app: App) -> None:
        self.app = app
        self.events.append((at, kind, app))


def _random_request(rng: random.Random, package: Package) -> ChangeRequest:
    edition = package.edition
    if rng.random() < 0.2:
        edition = FLAGSHIP if edition == PRO else PRO
    offered = OFFERED[edition]
    choice = {item: rng.choice(values) for item, values in offered.items()}
    picks = rng.sample(list(offered), rng.randint(1, 2)) if edition == package.edition else list(offered)
    return ChangeRequest(
        edition=edition if edition != package.edition else None,
        live_unlimited=(choice["live_groups"] is None) if "live_groups" in picks else None,
        groups_per_user=choice["groups_per_user"] if "groups_per_user" in picks else None,
        members_per_group=choice["members_per_group"] if "members_per_group" in picks else None,
        history_days=choice["history_days"] if "history_days" in picks else None,
    )


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    span = (end - start).total_seconds()
    return start + timedelta(seconds=int(rng.random() * span))


def _simulate(tl: _Timeline, rng: random.Random, ctx: ServiceContext, now: datetime) -> None:
    """Walks one app through upgrades, monthly modifications, halts and reactivations, with the
    same domain rules as real operations."""
    tz, actor = ctx.tz, ctx.actor
    at = tl.app.created_at
    tl.event("create", at, tl.app)
    if tl.app.app_id % 61 == 0 and now - at > PURGE_AFTER + timedelta(days=2):
        # an app halted long ago: the demo's catch-up purges it
        at = _between(rng, at, at + timedelta(days=2))
        tl.event(HALT, at, halted(tl.app, at, rng.choice(REASONS), actor))
        return
    if rng.random() < 0.7:
        at = _between(rng, at, min(now, at + timedelta(days=20)))
        extra = rng.random() < 0.5
        request = ChangeRequest(
            edition=PRO if rng.random() < 0.7 else FLAGSHIP,
            live_unlimited=True if extra and rng.random() < 0.3 else None,
            members_per_group=None,
        )
        if extra:
            offered = OFFERED[request.edition]
            request = ChangeRequest(
                edition=request.edition,
                live_unlimited=request.live_unlimited,
                groups_per_user=rng.choice(offered["groups_per_user"]),
                members_per_group=rng.choice(offered["members_per_group"]),
                history_days=rng.choice(offered["history_days"]),
            )
        plan = plan_upgrade(tl.app.app_id, ACTIVE, tl.app.package, request)
        tl.event("upgrade", at, replace(tl.app.changed(package=plan.after), paid_since=at))
        tl.changes += [(Month.of(at, tz).key, item, at, len(tl.events) - 1) for item in plan.counted]
        month = Month.of(at, tz).next()
        while month.start(tz) < now:
            if rng.random() < 0.3:
                when = _between(rng, month.start(tz), min(month.end(tz), now))
                request = _random_request(rng, tl.app.package)
                try:
                    plan = plan_modify(tl.app.app_id, ACTIVE, tl.app.package, request, {}, ctx.prices, tz)
                except ImtuiError:
                    plan = None
                if plan is not None and not plan.nothing_to_change:
                    at = max(at, when)
                    tl.event("modify", at, tl.app.changed(package=plan.after))
                    tl.changes += [(Month.of(at, tz).key, item, at, len(tl.events) - 1) for item in plan.counted]
            month = month.next()
    if rng.random() < 0.1 and at < now - timedelta(hours=2):
        # a third of the halts come soon after the last change, so some are old enough to purge
        soon = min(now - timedelta(hours=1), at + timedelta(days=15))
        at = _between(rng, at, soon if rng.random() < 0.35 else now - timedelta(hours=1))
        tl.event(HALT, at, halted(tl.app, at, rng.choice(REASONS), actor))
        if rng.random() < 0.25 and at < now - timedelta(hours=2) and at + timedelta(days=80) < now:
            at = _between(rng, at, at + timedelta(days=80))
            tl.event(REACTIVATE, at, reactivated(tl.app, actor))


class DemoService:
    """`imtui demo`: fills an empty database with a demo fleet."""

    def __init__(self, ctx: ServiceContext, housekeeping):
        self.ctx = ctx
        self.housekeeping = housekeeping

    @use_case(writes=True, catches_up=False)
    async def build(self, apps: int = 500, accounts: int | None = None, seed: int = 1) -> str:
        """Fills an empty database with a demo fleet; returns a one-line summary. It catches up
        after the fill, not before: the history it writes is what falls due."""
        ctx = self.ctx
        n_accounts = accounts or max(min(apps, 5), math.ceil(apps / 250))
        if apps > n_accounts * MAX_APPS_PER_ACCOUNT:
            raise InvalidInput(
                f"{apps} apps need at least {math.ceil(apps / MAX_APPS_PER_ACCOUNT)} accounts "
                f"(at most {MAX_APPS_PER_ACCOUNT} apps per account)"
            )
        await ctx.audited("demo", None, lambda now: _fill(ctx, apps, n_accounts, seed, now))
        await self.housekeeping.catch_up()  # the history just written: what fell due in it, carried out
        return f"demo fleet: {apps} apps in {n_accounts} accounts, {MONTHS_OF_HISTORY} months of history"


def _account_name(i: int) -> str:
    base = ACCOUNT_NAMES[i % len(ACCOUNT_NAMES)]
    return base if i < len(ACCOUNT_NAMES) else f"{base}-{i // len(ACCOUNT_NAMES) + 1}"


def _fill(ctx: ServiceContext, n_apps: int, n_accounts: int, seed: int, now: datetime) -> None:
    # millions of records that live until the end: the cyclic collector would walk them again and
    # again as they grow, and they hold no cycles
    with no_cyclic_gc():
        _fill_now(ctx, n_apps, n_accounts, seed, now)


def _fill_now(ctx: ServiceContext, n_apps: int, n_accounts: int, seed: int, now: datetime) -> None:
    """The whole demo fleet in one transaction: accounts, apps with their simulated histories,
    their usage and every month's plans (`demo` fills only an empty database)."""
    rng = random.Random(seed)
    now = now.replace(microsecond=0)  # the fleet depends only on --now and the seed
    tz = ctx.tz
    start = Month.of(now, tz)
    for _ in range(MONTHS_OF_HISTORY):
        start = start.previous()
    history_start = start.start(tz)
    with ctx.uow(write=True) as uow:
        ctx.require(uow, "demo")
        _require_empty(uow, history_start)
        names = {i + 1: _account_name(i) for i in range(n_accounts)}
        uow.accounts.insert_many(names, history_start)
        timelines = _timelines(ctx, rng, names, _owners(rng, n_apps, n_accounts), history_start, now)
        latest_at = _insert_histories(uow, timelines, ctx.actor, history_start)
        lives = [_life(tl, now) for tl in timelines]
        today = now.astimezone(zone(tz)).date()
        months = demo_usage.generate(lives, history_start.astimezone(zone(tz)).date(), today, tz, seed)
        paid = {life.app_id: life.paid_since.astimezone(zone(tz)).date() for life in lives if life.paid_since}
        uow.usage.store(months, paid)
        # every event comes with its month's plan (the readers rely on it): the history's months too
        month = ctx.period(history_start).month
        while month <= ctx.period(now).month:
            period = BillingPeriod.for_month(month, now, tz)
            record_plans(uow, ctx, sorted(uow.history.newest_between(period.start, period.end)), period)
            month = month.next()
        uow.meta.set_created(history_start)
        uow.meta.advance_latest(latest_at)
        uow.meta.bump_counter()
        uow.commit()


def _require_empty(uow, history_start: datetime) -> None:
    """Refuses a database that already holds apps or history."""
    existing = uow.apps.count()
    if existing:
        raise Refused(
            f"the database already holds {existing} apps; demo fills only an empty database (point --db at a new file)"
        )
    latest = uow.meta.latest
    if latest is not None and latest > history_start:
        raise Refused("the database already has history; demo fills only an empty database")


def _owners(rng: random.Random, n_apps: int, n_accounts: int) -> list[int]:
    """Each app's account: every account gets at least one app, then the rest at random (at
    most `MAX_APPS_PER_ACCOUNT` each)."""
    owners = list(range(1, n_accounts + 1))
    load = {a: 1 for a in owners}
    while len(owners) < n_apps:
        a = rng.randint(1, n_accounts)
        if load[a] < MAX_APPS_PER_ACCOUNT:
            load[a] += 1
            owners.append(a)
    return owners[:n_apps]


def _timelines(
    ctx: ServiceContext,
    rng: random.Random,
    names: dict[int, str],
    owners: list[int],
    history_start: datetime,
    now: datetime,
) -> list[_Timeline]:
    """Each app created at a random instant of the history and its life simulated up to `now`."""
    timelines = []
    for i, account_id in enumerate(owners):
        created = _between(rng, history_start, now - timedelta(hours=3))
        if (FIRST_APP_ID + i) % 61 == 0:
            created = _between(rng, history_start, history_start + timedelta(days=5))
        name = f"{rng.choice(PRODUCTS)}-{rng.choice(ENVIRONMENTS)}-{i + 1}"
        tl = _Timeline(new_app(FIRST_APP_ID + i, name, names[account_id], created, ctx.actor), account_id)
        _simulate(tl, rng, ctx, now)
        timelines.append(tl)
    return timelines


def _insert_histories(uow, timelines: list[_Timeline], actor: str, history_start: datetime) -> datetime:
    """The apps, their events, once-a-month changes and audit records written in bulk; returns
    the newest event's instant."""
    app_rows, event_rows, change_rows, audit = [], [], [], []
    event_id = 0
    latest_at = history_start
    for tl in timelines:
        ids = []
        for at, kind, state in tl.events:
            event_id += 1
            ids.append(event_id)
            latest_at = max(latest_at, at)
            event_rows.append((event_id, state, kind, at))
            audit.append(AuditEntry(at, actor, kind, state.app_id, DONE, _detail(kind, state)))
        for month, item, at, index in tl.changes:
            change_rows.append((tl.app.app_id, month, item, at, ids[index]))
        app_rows.append((tl.app, tl.account_id))
    uow.apps.insert_many(app_rows)
    uow.history.insert_many(event_rows, actor)
    uow.locks.insert_many(change_rows)
    uow.audit.add_many(audit)
    uow.ids_inserted("accounts", "events")
    return latest_at


def _life(tl: _Timeline, now: datetime) -> demo_usage.Life:
    """What one app's usage depends on: its days, when it left trial, when it was halted."""
    halted, since = [], None
    for at, kind, _ in tl.events:
        if kind == HALT:
            since = at
        elif kind == REACTIVATE and since is not None:
            halted.append((since, at))
            since = None
    if since is not None:
        halted.append((since, None))
    app = tl.app
    purged = app.purge_at if app.purge_at is not None and app.purge_at <= now else None
    return demo_usage.Life(app.app_id, app.created_at, app.paid_since, app.package, tuple(halted), purged)


def _detail(kind: str, app: App) -> str:
    """The audit sentence of a demo event."""
    return {
        "create": f"created trial app {app.name!r}",
        "upgrade": f"upgrade: trial → {app.edition}",
        "modify": f"modify: now {app.edition}",
        HALT: f"halted: active → deactivated; reason: {app.halt_reason or 'demo'}",
        REACTIVATE: "reactivated: deactivated → active, package unchanged",
    }[kind]
