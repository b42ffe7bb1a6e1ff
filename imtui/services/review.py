"""Headroom and right-sizing: which apps are about to hit a limit, which pay for capacity they do
not use (the rules are `domain.headroom`'s)."""

from __future__ import annotations

from array import array
from dataclasses import dataclass

from imtui.domain.editions import Package
from imtui.domain.errors import InvalidInput, NotFound
from imtui.domain.headroom import NEAR_PCT, Review, WindowPeaks, review
from imtui.domain.lifecycle import ACTIVE
from imtui.services.context import ServiceContext
from imtui.services.housekeeping import Housekeeping

BLOCK = 10_000
"""Apps whose headroom is worked out at once (bounds the memory it takes)."""
NO_USAGE = WindowPeaks()
NO_USAGE_WINDOWS = (NO_USAGE, NO_USAGE)


@dataclass(frozen=True)
class AppReview:
    """One active app's headroom and suggestions, with what identifies it."""

    app_id: int
    name: str
    account: str
    edition: str
    review: Review


class ReviewService:
    def __init__(self, ctx: ServiceContext, housekeeping: Housekeeping):
        self.ctx = ctx
        self.housekeeping = housekeeping

    async def review(
        self,
        account: str | None = None,
        near: bool = False,
        suggest: bool = False,
        app_ids: list[int] | None = None,
    ) -> list[AppReview]:
        """Every active app's review (of one account, or of the given apps); `near`: only apps
        near or at a limit or quota; `suggest`: only apps with a suggestion."""
        if account is not None and "\x00" in account:
            raise InvalidInput("an account name cannot contain a NUL character")
        await self.housekeeping.catch_up()
        return await self.ctx.run(lambda: self._review(account, near, suggest, app_ids))

    def _review(self, account, near, suggest, app_ids) -> list[AppReview]:
        ctx = self.ctx
        period = ctx.period()
        with ctx.uow() as uow:
            if account is not None and uow.accounts.find(account) is None:
                raise NotFound(f"no account named {account!r}")
            rows = uow.apps.fleet_rows(app_ids)
            active = [r for r in rows if r[4] == ACTIVE and (account is None or r[2] == account)]
            windows = uow.usage.windows(period.today_date, [r[0] for r in active])
            packages: dict[tuple, Package] = {}
            found: list[tuple[tuple, Package, Review]] = []
            for row in active:
                key = (row[3], *row[5:])
                package = packages.get(key)
                if package is None:
                    package = packages[key] = Package(*key)
                week, month = windows.get(row[0], NO_USAGE_WINDOWS)
                found.append((row, package, review(package, week, month, {}, ctx.prices, ctx.tz)))
            # a suggestion for an item changed this month says when it unlocks
            advised = [row[0] for row, _, r in found if r.suggestions]
            locks = uow.locks.of_apps(advised, period.month) if advised else {}
        out = []
        for (app_id, name, account_name, edition, *_), package, r in found:
            if app_id in locks:
                week, month = windows.get(app_id, NO_USAGE_WINDOWS)
                r = review(package, week, month, locks[app_id], ctx.prices, ctx.tz)
            if near and not (r.headroom and r.headroom.use_pct >= NEAR_PCT):
                continue
            if suggest and not r.suggestions:
                continue
            out.append(AppReview(app_id, name, account_name, edition, r))
        return out

    async def fleet_headroom(self):
        """Every active app's headroom and flags, worked out for the whole fleet at once
        (`domain.fleet_headroom`): (app ids, `FleetHeadroom`), row for row."""
        await self.housekeeping.catch_up()
        return await self.ctx.run_detached(self._fleet_headroom)

    def _fleet_headroom(self):
        import numpy as np

        from imtui.domain.fleet_headroom import FleetHeadroom, FleetUsage, fleet_headroom

        ctx = self.ctx
        packages: list[Package] = []
        index: dict[tuple, int] = {}
        ids, kinds = array("q"), array("q")
        with ctx.uow() as uow:
            for batch in uow.apps.active_package_batches():
                for row in batch:
                    key = row[1:]
                    kind = index.get(key)
                    if kind is None:
                        kind = index[key] = len(packages)
                        packages.append(Package(*key))
                    ids.append(row[0])
                    kinds.append(kind)
            active = np.frombuffer(ids, dtype=np.int64)
            usage = uow.usage.recent(ctx.period().today_date, active)
        kind_of = np.frombuffer(kinds, dtype=np.int64)[np.searchsorted(active, usage.app_ids)]
        # a block of apps at a time: the rules' intermediate arrays stay small
        blocks = [
            fleet_headroom(packages, kind_of[i : i + BLOCK], FleetUsage(*(c[i : i + BLOCK] for c in usage)), ctx.prices)
            for i in range(0, max(len(kind_of), 1), BLOCK)
        ]
        joined = FleetHeadroom(*(np.concatenate(column) for column in list(zip(*blocks))[:4]), blocks[0].items)
        return usage.app_ids, joined
