"""`imtui demo`: a believable fleet with a few months of history, deterministic for a seed.

The history is generated with the same domain rules as real operations (upgrade and modify
plans, once-per-month locks, halts and reactivations), written in bulk, and then the due month
closes and purges are carried out exactly as for any database.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import func, select

from imtui.domain.calendar import Month
from imtui.domain.editions import OFFERED, PRO, FLAGSHIP, Package, default_package
from imtui.domain.errors import ImtuiError, InvalidInput, Refused, Unavailable
from imtui.domain.rules import (
    ACTIVE,
    DEACTIVATED,
    FIRST_APP_ID,
    MAX_APPS_PER_ACCOUNT,
    PURGE_AFTER,
    ChangeRequest,
    plan_modify,
    plan_upgrade,
    purge_instant,
)
from imtui.persistence import repo
from imtui.persistence.bulk import ids_inserted
from imtui.persistence.tables import Account, App, AuditRecord, Event, ItemChange
from imtui.services.context import ServiceContext

ACCOUNT_NAMES = (
    "acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "wonka", "tyrell",
    "cyberdyne", "soylent", "aperture", "massive", "vandelay", "dunder", "oscorp", "gringotts",
    "monarch", "nakatomi", "pied-piper",
)
PRODUCTS = ("chat", "support", "live", "game", "social", "notify", "classroom", "clinic", "market", "crm")
ENVIRONMENTS = ("prod", "staging", "eu", "us", "asia", "beta", "dev", "test")
REASONS = (
    "customer asked to stop service", "abuse report under review", "unpaid invoices",
    "project cancelled", "migrated to a new app", "security incident",
)
MONTHS_OF_HISTORY = 3


@dataclass
class _Timeline:
    app_id: int
    account_id: int
    name: str
    created_at: datetime
    package: Package = field(default_factory=lambda: default_package("trial"))
    status: str = ACTIVE
    deactivated_at: datetime | None = None
    reason: str | None = None
    events: list[tuple[datetime, str, Package, str]] = field(default_factory=list)
    changes: list[tuple[str, str, datetime, int]] = field(default_factory=list)


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
    """Walks one app through upgrades, monthly modifications, halts and reactivations."""
    tz = ctx.tz
    tl.events.append((tl.created_at, "create", tl.package, ACTIVE))
    at = tl.created_at
    if tl.app_id % 61 == 0 and now - at > PURGE_AFTER + timedelta(days=2):
        # an app halted long ago: the demo's catch-up purges it
        at = _between(rng, at, at + timedelta(days=2))
        tl.status, tl.deactivated_at, tl.reason = DEACTIVATED, at, rng.choice(REASONS)
        tl.events.append((at, "halt", tl.package, DEACTIVATED))
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
        plan = plan_upgrade(tl.app_id, ACTIVE, tl.package, request)
        tl.package = plan.after
        tl.events.append((at, "upgrade", tl.package, ACTIVE))
        tl.changes += [(Month.of(at, tz).key, item, at, len(tl.events) - 1) for item in plan.counted]
        month = Month.of(at, tz).next()
        while month.start(tz) < now:
            if rng.random() < 0.3:
                when = _between(rng, month.start(tz), min(month.end(tz), now))
                try:
                    plan = plan_modify(tl.app_id, ACTIVE, tl.package, _random_request(rng, tl.package), {}, ctx.prices, tz)
                except ImtuiError:
                    plan = None
                if plan is not None and not plan.nothing_to_change:
                    at = max(at, when)
                    tl.package = plan.after
                    tl.events.append((at, "modify", tl.package, ACTIVE))
                    tl.changes += [(Month.of(at, tz).key, item, at, len(tl.events) - 1) for item in plan.counted]
            month = month.next()
    if rng.random() < 0.1 and at < now - timedelta(hours=2):
        # a third of the halts come soon after the last change, so some are old enough to purge
        soon = min(now - timedelta(hours=1), at + timedelta(days=15))
        at = _between(rng, at, soon if rng.random() < 0.35 else now - timedelta(hours=1))
        tl.status, tl.deactivated_at, tl.reason = DEACTIVATED, at, rng.choice(REASONS)
        tl.events.append((at, "halt", tl.package, DEACTIVATED))
        if rng.random() < 0.25 and at < now - timedelta(hours=2) and at + timedelta(days=80) < now:
            at = _between(rng, at, at + timedelta(days=80))
            tl.status, tl.deactivated_at, tl.reason = ACTIVE, None, None
            tl.events.append((at, "reactivate", tl.package, ACTIVE))


async def build_demo(ctx: ServiceContext, apps: int = 500, accounts: int | None = None, seed: int = 1) -> str:
    """Fills an empty database with a demo fleet; returns a one-line summary."""
    ctx.require_writable()
    n_accounts = accounts or max(min(apps, 5), math.ceil(apps / 250))
    if apps > n_accounts * MAX_APPS_PER_ACCOUNT:
        raise InvalidInput(
            f"{apps} apps need at least {math.ceil(apps / MAX_APPS_PER_ACCOUNT)} accounts "
            f"(at most {MAX_APPS_PER_ACCOUNT} apps per account)"
        )
    now = ctx.now()
    try:
        await ctx.run(lambda: _fill(ctx, apps, n_accounts, seed))
    except ImtuiError as exc:
        if not isinstance(exc, Unavailable):
            await ctx.run(partial(ctx.audit_refusal, "demo", None, exc, now))
        raise
    from imtui.services.housekeeping import Housekeeping

    await Housekeeping(ctx).catch_up()
    return f"demo fleet: {apps} apps in {n_accounts} accounts, {MONTHS_OF_HISTORY} months of history"


def _account_name(i: int) -> str:
    base = ACCOUNT_NAMES[i % len(ACCOUNT_NAMES)]
    return base if i < len(ACCOUNT_NAMES) else f"{base}-{i // len(ACCOUNT_NAMES) + 1}"


def _fill(ctx: ServiceContext, n_apps: int, n_accounts: int, seed: int) -> None:
    rng = random.Random(seed)
    # with --now the fleet depends only on that instant and the seed, not on start-up time
    now = (getattr(ctx.clock, "start", None) or ctx.now()).replace(microsecond=0)
    tz = ctx.tz
    start = Month.of(now, tz)
    for _ in range(MONTHS_OF_HISTORY):
        start = start.previous()
    history_start = start.start(tz)
    with ctx.uow(write=True) as uow:
        s = uow.session
        ctx.require(s, "demo")
        existing = s.execute(select(func.count()).select_from(App)).scalar_one()
        if existing:
            raise Refused(
                f"the database already holds {existing} apps; demo fills only an empty database "
                "(point --db at a new file)"
            )
        latest = repo.get_instant(s, repo.LATEST_AT)
        if latest is not None and latest > history_start:
            raise Refused("the database already has history; demo fills only an empty database")
        account_rows = [
            {"id": i + 1, "name": _account_name(i), "created_at": history_start} for i in range(n_accounts)
        ]
        conn = s.connection()
        conn.execute(Account.__table__.insert(), account_rows)
        # every account gets at least one app, then the rest at random (at most 300 each)
        owners = list(range(1, n_accounts + 1))
        load = {a: 1 for a in owners}
        while len(owners) < n_apps:
            a = rng.randint(1, n_accounts)
            if load[a] < MAX_APPS_PER_ACCOUNT:
                load[a] += 1
                owners.append(a)
        timelines = []
        latest_at = history_start
        for i, account_id in enumerate(owners[:n_apps]):
            created = _between(rng, history_start, now - timedelta(hours=3))
            if (FIRST_APP_ID + i) % 61 == 0:
                created = _between(rng, history_start, history_start + timedelta(days=5))
            name = f"{rng.choice(PRODUCTS)}-{rng.choice(ENVIRONMENTS)}-{i + 1}"
            tl = _Timeline(FIRST_APP_ID + i, account_id, name, created)
            _simulate(tl, rng, ctx, now)
            timelines.append(tl)
        app_rows, event_rows, change_rows, audit_rows = [], [], [], []
        event_id = 0
        for tl in timelines:
            ids = []
            for at, kind, pkg, status in tl.events:
                event_id += 1
                ids.append(event_id)
                latest_at = max(latest_at, at)
                event_rows.append({
                    "id": event_id, "app_id": tl.app_id, "at": at, "kind": kind,
                    **_pkg(pkg), "status": status, "actor": ctx.actor,
                })
                detail = {
                    "create": f"created trial app {tl.name!r}",
                    "upgrade": f"upgrade: trial → {pkg.edition}",
                    "modify": f"modify: now {pkg.edition}",
                    "halt": f"halted: active → deactivated; reason: {tl.reason or 'demo'}",
                    "reactivate": "reactivated: deactivated → active, package unchanged",
                }[kind]
                audit_rows.append({
                    "at": at, "actor": ctx.actor, "action": kind, "app_id": tl.app_id,
                    "result": "done", "detail": detail,
                })
            for month, item, at, index in tl.changes:
                change_rows.append({"app_id": tl.app_id, "month": month, "item": item, "at": at, "event_id": ids[index]})
            app_rows.append({
                "app_id": tl.app_id, "name": tl.name, "account_id": tl.account_id, **_pkg(tl.package),
                "status": tl.status, "created_at": tl.created_at, "deactivated_at": tl.deactivated_at,
                "purge_at": purge_instant(tl.deactivated_at) if tl.deactivated_at else None,
                "halt_reason": tl.reason, "version": len(tl.events), "updated_by": ctx.actor,
            })
        for table, rows in ((App, app_rows), (Event, event_rows), (ItemChange, change_rows), (AuditRecord, audit_rows)):
            for i in range(0, len(rows), 5000):
                conn.execute(table.__table__.insert(), rows[i : i + 5000])
        ids_inserted(conn, Account.__tablename__, Event.__tablename__)
        repo.set_meta(s, repo.CREATED_AT, history_start.isoformat())
        repo.advance_latest(s, latest_at)
        repo.bump_counter(s)
        uow.commit()


def _pkg(pkg: Package) -> dict:
    return {
        "edition": pkg.edition, "live_groups": pkg.live_groups, "groups_per_user": pkg.groups_per_user,
        "members_per_group": pkg.members_per_group, "history_days": pkg.history_days,
    }
