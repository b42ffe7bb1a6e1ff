"""The figures kept for the dashboard (month plans written with events, shared per kind, brought
up to date incrementally) stay exactly what a recount from scratch says, to the cent: after the
demo, after changes and usage, after a day boundary, after a month's draft and after its issue."""

from __future__ import annotations

import io
import random
from datetime import timedelta
from decimal import Decimal

import pytest

from imtui.domain.changes import ChangeRequest
from imtui.domain.errors import ImtuiError
from imtui.domain.period import BillingPeriod
from imtui.domain.usage import overage_cost
from imtui.persistence.database import Database
from tests.support.billing import recount
from tests.support.oracles import paid_peaks
from tests.support.services import at

TZ = "Asia/Shanghai"


def scratch(db_url: str, prices, now, app_ids) -> dict[int, tuple[Decimal, Decimal]]:
    """(month-to-date, projected) of each app, recounted day by day from its raw history and
    its raw usage records (nothing kept is read)."""
    period = BillingPeriod.of(now, TZ)
    db = Database(db_url)
    try:
        with db.uow() as uow:
            states = uow.history.states_between(period.start, period.end, app_ids)
            apps = uow.apps.many(app_ids)
            out = {}
            for app_id in app_ids:
                history = states.get(app_id, [])
                app = apps[app_id]
                first = period.date(0)
                records = uow.usage.records(app_id, first, period.date(period.days - 1))
                paid_from = None
                if app.paid_since is not None:
                    paid_day = BillingPeriod.of(app.paid_since, TZ).today_date
                    paid_from = max((paid_day - first).days, 0) if paid_day <= period.date(period.days - 1) else None
                days = [
                    (records[period.date(i)][0], records[period.date(i)][1]) if period.date(i) in records else None
                    for i in range(period.days)
                ]
                overage = Decimal(overage_cost(paid_peaks(days, paid_from), prices)) / 100
                out[app_id] = (
                    recount(history, period.month, TZ, prices, period.today) + overage,
                    recount(history, period.month, TZ, prices) + overage,
                )
            return out
    finally:
        db.close()


async def check(services, db_path, prices, sample) -> None:
    now = services.now()
    figures = await services.fleet.costs()
    everyone = sorted(figures)
    expected = scratch(db_path, prices, now, everyone)
    for app_id in sample:
        assert figures[app_id] == expected[app_id], app_id
    fleet = await services.billing.cost_summary()
    assert fleet.month_to_date == sum(m for m, _ in expected.values())
    assert fleet.projected == sum(p for _, p in expected.values())
    # a large mark (figures summed, no lines) and a small one (lines): both the recount's sums
    for marked in (everyone[1:], sample[:40]):  # more than LINES_UP_TO, then fewer
        summary = await services.billing.cost_summary(marked)
        assert summary.month_to_date == sum(expected[a][0] for a in marked)
        assert summary.projected == sum(expected[a][1] for a in marked)


async def check_issued(services, db_path, prices, month: str) -> None:
    """Every app's issued bill of a month is its recount from scratch, to the cent."""
    view = await services.billing.bill(BillingPeriod.of(at(f"{month}-15T00:00"), TZ).month)
    assert view.state == "issued"
    billed = {app.app_id: app.total for account in view.accounts for app in account.apps}
    last_second = BillingPeriod.of(at(f"{month}-15T00:00"), TZ).end - timedelta(seconds=1)
    expected = scratch(db_path, prices, last_second, sorted(await services.fleet.costs()))
    assert billed == {a: whole for a, (_, whole) in expected.items() if whole}


def assert_plans_complete(db_url: str, prices, tz: str) -> None:
    """The promise the readers rely on: every app with events in a month has that month's plan,
    covering its newest event of the month, priced as this price list and time zone price it."""
    db = Database(db_url)
    try:
        with db.uow() as uow:
            first = BillingPeriod.of(uow.meta.created_at, tz).month
            last = BillingPeriod.of(uow.meta.latest, tz).month
            month = first
            while month <= last:
                period = BillingPeriod.for_month(month, month.end(tz), tz)
                newest = uow.history.newest_between(period.start, period.end)
                stored = {row[0]: row[1:3] for row in uow.plans.of_month(month.key)}
                for app_id, event in newest.items():
                    assert stored.get(app_id) == (event, f"{prices.fingerprint} {tz}"), (month, app_id)
                month = month.next()
    finally:
        db.close()


@pytest.mark.parametrize("seed", [5])
async def test_kept_figures_equal_a_recount_from_scratch(make_services, clock, db_path, seed):
    clock.set(at("2026-11-20T10:00:00"))
    services = make_services()
    await services.demo.build(apps=240, seed=seed)
    prices = services._ctx.prices
    rng = random.Random(seed)
    apps = await services.apps.list()
    sample = rng.sample([a.app_id for a in apps], 60)
    await check(services, db_path, prices, sample)
    await check_issued(services, db_path, prices, "2026-10")  # a month of the demo's history, closed at open
    assert_plans_complete(db_path, prices, TZ)

    # changes of every kind, and usage with overage, then a fresh process reading what was kept
    clock.set(at("2026-11-20T12:00:00"))
    for app in rng.sample(apps, 60):
        try:
            if app.edition == "trial":
                await services.changes.upgrade(app.app_id, ChangeRequest(edition=rng.choice(["pro", "flagship"])))
            elif app.status == "active" and rng.random() < 0.5:
                await services.changes.modify(
                    app.app_id, ChangeRequest(groups_per_user=1000 if app.edition == "pro" else 3000)
                )
            elif app.status == "active":
                await services.lifecycle.halt([app.app_id], "exactness")
            else:
                await services.lifecycle.reactivate([app.app_id])
        except ImtuiError:
            pass  # refused (a lock, a purge): nothing changed, which is fine too
        clock.advance(minutes=1)
    busy = [a.app_id for a in apps if a.status == "active"][:20]
    rows = "\n".join(f"2026-11-19,{a},{rng.randint(9_000, 40_000)},{rng.randint(0, 250_000)},1,1,1" for a in busy)
    header = "date,app_id,dau,groups,live_groups,max_groups_per_user,max_members_per_group\n"
    await services.usage.import_file(io.BytesIO((header + rows + "\n").encode()), "u.csv")
    await check(services, db_path, prices, sample + busy)
    await check(make_services(), db_path, prices, sample + busy)
    assert_plans_complete(db_path, prices, TZ)

    # a day boundary: the same table, worked out again for the new day
    clock.advance(days=1)
    await check(services, db_path, prices, sample)

    # the month's draft: December's figures, and November's bill as the panel shows it
    clock.set(at("2026-12-01T00:00:05"))
    await check(services, db_path, prices, sample)
    draft = await services.billing.bill()
    nov_draft = await services.billing.bill(BillingPeriod.of(at("2026-11-15T00:00"), TZ).month)
    assert nov_draft.state == "draft"
    summary = await services.billing.cost_summary()
    assert summary.last_month == nov_draft.total
    nov = scratch(db_path, prices, at("2026-11-30T23:59:59"), sorted(await services.fleet.costs()))
    assert nov_draft.total == sum(p for _, p in nov.values())
    assert draft.state == "open"

    # the issue: the bill written is the recount, and the panel's last month is it
    clock.set(at("2026-12-03T00:00:05"))
    issued = await services.billing.bill(BillingPeriod.of(at("2026-11-15T00:00"), TZ).month)
    assert issued.state == "issued" and issued.total == nov_draft.total
    assert (await services.billing.cost_summary()).last_month == issued.total
    await check(make_services(), db_path, prices, sample)
    await check_issued(services, db_path, prices, "2026-11")
    assert_plans_complete(db_path, prices, TZ)
