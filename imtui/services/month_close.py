"""A month's close (domain.md §5), in its two steps: the draft at 00:00 on the 1st, the issue at
00:00 on the 3rd, carried out by `Housekeeping` whatever process looks first; and the one
computation of a month's bill lines both bills and the close read (`plan_lines`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime

from imtui.domain.audit import DONE, AuditEntry
from imtui.domain.billing import BillLine, MonthPlan
from imtui.domain.calendar import Month
from imtui.domain.month_close import draft_instant, issue_instant
from imtui.domain.period import BillingPeriod
from imtui.domain.prices import to_cents
from imtui.domain.usage import overage_lines
from imtui.persistence.repos.bills import StoredLine
from imtui.persistence.uow import UnitOfWork
from imtui.services.context import ServiceContext
from imtui.services.costing import fleet_plans


def plan_lines(
    uow: UnitOfWork,
    ctx: ServiceContext,
    period: BillingPeriod,
    app_ids: list[int] | None = None,
    to_date: bool = True,
    whole: bool = True,
    packages: Iterable[tuple[int, tuple]] | None = None,
) -> Iterator[tuple[int, list[BillLine] | None, list[BillLine] | None]]:
    """The one computation of a month's bill lines (open and draft bills, the close, the FOCUS
    export): every app's (or the given apps') package by day, from its month plan, and its usage
    overage, as (app ID, the lines through `period.today`, the whole month's lines), by app ID;
    `to_date` or `whole` False leaves that list out (None). Apps with nothing to bill (in the
    whole month, or in the one list asked for) are left out. Apps alike share their lists: read,
    never change them. `packages`: as `fleet_plans` takes them."""
    prices, today = ctx.prices, period.today
    if app_ids is None:  # only peaks above a quota bill anything: the fleet's few are read alone
        peaks = uow.usage.over_quota(period.month, prices.dau.included, prices.groups.included)
    else:
        peaks = uow.usage.month_peaks(period.month, app_ids)
    by_plan: dict[str, tuple[list[BillLine] | None, list[BillLine] | None]] = {}
    for app_id, text in sorted(fleet_plans(uow, ctx, period, app_ids, packages).plan_of.items()):
        pair = by_plan.get(text)
        if pair is None:
            plan = MonthPlan.decode(text)
            pair = by_plan[text] = (plan.lines(today) if to_date else None, plan.lines() if whole else None)
        over = overage_lines(peaks.get(app_id), prices)
        if over:
            pair = (None if pair[0] is None else pair[0] + over, None if pair[1] is None else pair[1] + over)
        if pair[1] if whole else pair[0]:
            yield app_id, pair[0], pair[1]


def draft_month(uow: UnitOfWork, ctx: ServiceContext, month: Month, now: datetime) -> None:
    """The first step of a month's close, at 00:00 on the 1st: its package lines are final (time
    has moved past them); its usage may still change until it is issued."""
    uow.bills.draft(month, now, ctx.actor)
    uow.meta.advance_latest(draft_instant(month, ctx.tz))


def issue_month(uow: UnitOfWork, ctx: ServiceContext, month: Month, now: datetime) -> None:
    """The second step, at 00:00 on the 3rd: every account's bill is written, once, for good."""
    period = BillingPeriod.for_month(month, now, ctx.tz)
    owner = uow.apps.owners()
    lines: dict[int, list[StoredLine]] = defaultdict(list)
    for app_id, _, app_lines in plan_lines(uow, ctx, period, to_date=False):
        lines[owner[app_id]] += [
            StoredLine(app_id, ln.item, ln.setting, to_cents(ln.unit_price), ln.days, to_cents(ln.amount))
            for ln in app_lines
        ]
    accounts = uow.accounts.existing_before(period.end)
    totals = {a: sum(ln.amount_cents for ln in lines.get(a, ())) for a in accounts}
    uow.bills.issue(month, now, ctx.actor, totals, lines)
    uow.audit.add(
        AuditEntry(now, ctx.actor, "close_month", None, DONE, f"issued the bills of {month.key} for every account")
    )
    uow.meta.advance_latest(issue_instant(month, ctx.tz))
