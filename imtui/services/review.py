"""Headroom and right-sizing: which apps are about to hit a limit, which pay for capacity they do
not use (the rules are `domain.headroom`'s)."""

from __future__ import annotations

from operator import itemgetter
from typing import NamedTuple

from imtui.domain.editions import Package
from imtui.domain.errors import NotFound
from imtui.domain.headroom import NEAR_PCT, Review, Rules, judge, rules_of
from imtui.domain.lifecycle import ACTIVE
from imtui.persistence.repos.apps import FLEET_AT, FLEET_PACKAGE
from imtui.services.context import ServiceContext, no_cyclic_gc
from imtui.services.housekeeping import Housekeeping
from imtui.services.use_case import account_named, use_case

BLOCK = 10_000
"""Apps whose headroom is worked out at once (bounds the memory it takes)."""
_STATUS, _ACCOUNT = FLEET_AT["status"], FLEET_AT["account"]
NO_LOCKS: dict = {}
"""What `judge` is given before the locks are read (never written to)."""


class AppReview(NamedTuple):
    """One active app's headroom and suggestions, with what identifies it."""

    app_id: int
    name: str
    account: str
    edition: str
    review: Review


class ReviewService:
    """Headroom and right-sizing suggestions from usage."""

    def __init__(self, ctx: ServiceContext, housekeeping: Housekeeping):
        self.ctx = ctx
        self.housekeeping = housekeeping

    @use_case(check=account_named)
    async def review(
        self,
        account: str | None = None,
        near: bool = False,
        suggest: bool = False,
        app_ids: list[int] | None = None,
    ) -> list[AppReview]:
        """Every active app's review (of one account, or of the given apps); `near`: only apps
        near or at a limit or quota; `suggest`: only apps with a suggestion."""
        return await self.ctx.run(lambda: self._review(account, near, suggest, app_ids))

    def _review(self, account, near, suggest, app_ids) -> list[AppReview]:
        ctx = self.ctx
        period = ctx.period()
        prices, tz = ctx.prices, ctx.tz
        # a hundred thousand reviews are many small objects that all live to the end: the cyclic
        # collector would walk them again and again (reference counting frees everything here)
        with no_cyclic_gc(), ctx.uow() as uow:
            account_id = None if account is None else uow.accounts.find(account)
            if account is not None and account_id is None:
                raise NotFound(f"no account named {account!r}")
            account_name = uow.accounts.names()
            active = [
                r
                for rows in uow.apps.fleet_rows(app_ids)
                for r in rows
                if r[_STATUS] == ACTIVE and (account_id is None or r[_ACCOUNT] == account_id)
            ]
            active.sort(key=itemgetter(0))  # read in storage order; paired with the usage by app ID
            usage = uow.usage.recent(period.today_date, [r[0] for r in active])
            # the apps with usage are some of `active`, both by ID, so one walk pairs them
            peaks = _Peaks(usage, tz)
            del usage
            judged, with_usage = peaks.review, peaks.app_ids
            rules: dict[tuple, Rules] = {}
            idle: dict[tuple, Review] = {}  # the review of an app without usage, by package
            out: list[AppReview] = []
            advised: list[tuple[int, Rules, int]] = []  # (place in `out`, rules, usage row)
            at, n = 0, len(with_usage)
            for row in active:
                edition, _status, *values = row[FLEET_PACKAGE]
                key = (edition, *values)
                package_rules = rules.get(key)
                if package_rules is None:
                    package_rules = rules[key] = rules_of(Package(*key), prices)
                if at < n and with_usage[at] == row[0]:
                    used = at
                    at += 1
                    r = judged(package_rules, used, NO_LOCKS)
                else:
                    used = -1
                    r = idle.get(key)
                    if r is None:
                        r = idle[key] = judged(package_rules, used, NO_LOCKS)
                if not _listed(r, near, suggest):  # locks change neither: filtered before they are read
                    continue
                if r.suggestions:
                    advised.append((len(out), package_rules, used))
                out.append(AppReview(row[0], row[1], account_name[row[_ACCOUNT]], edition, r))
            # a suggestion for an item changed this month says when it unlocks
            locks = uow.locks.of_apps([out[i].app_id for i, _, _ in advised], period.month) if advised else {}
            for i, package_rules, used in advised:
                app = out[i]
                if app.app_id in locks:
                    out[i] = app._replace(review=judged(package_rules, used, locks[app.app_id]))
        return out

    @use_case()
    async def fleet_headroom(self):
        """Every active app's headroom and flags, worked out for the whole fleet at once
        (`domain.fleet_headroom`): (app ids, `FleetHeadroom`), row for row."""
        return await self.ctx.run_detached(self._fleet_headroom)

    def _fleet_headroom(self):
        import numpy as np

        from imtui.domain.fleet_headroom import FleetHeadroom, FleetUsage, fleet_headroom  # NumPy: when first used

        ctx = self.ctx
        with ctx.uow() as uow:
            active, kinds, packages = uow.apps.active_packages()
            usage = uow.usage.recent(ctx.period().today_date, active)
        kind_of = kinds[np.searchsorted(active, usage.app_ids)]
        # a block of apps at a time: the rules' intermediate arrays stay small
        blocks = [
            fleet_headroom(packages, kind_of[i : i + BLOCK], FleetUsage(*(c[i : i + BLOCK] for c in usage)), ctx.prices)
            for i in range(0, max(len(kind_of), 1), BLOCK)
        ]
        joined = FleetHeadroom(*(np.concatenate(column) for column in list(zip(*blocks))[:4]), blocks[0].items)
        return usage.app_ids, joined


def _listed(review: Review, near: bool, suggest: bool) -> bool:
    """Whether a review is listed: only apps near a limit with `near`, only apps with a
    suggestion with `suggest`."""
    if near and not (review.headroom and review.headroom.use_pct >= NEAR_PCT):
        return False
    return bool(review.suggestions) or not suggest


class _Peaks:
    """The fleet's peaks (`UsageRepo.recent`) as plain lists, no object per app, by usage row."""

    def __init__(self, usage, tz: str) -> None:
        self.app_ids = usage.app_ids.tolist()
        self.weeks, self.week_days = usage.week.tolist(), usage.week_days.tolist()
        self.months, self.month_days = usage.month.tolist(), usage.month_days.tolist()
        self.tz = tz

    def review(self, package_rules: Rules, at: int, locks) -> Review:
        """The review of the app on usage row `at` (-1: none)."""
        if at < 0:
            return judge(package_rules, None, None, 0, locks, self.tz)
        week = self.weeks[at] if self.week_days[at] else None
        return judge(package_rules, week, self.months[at], self.month_days[at], locks, self.tz)
