"""The figures kept in memory between reads, in one place, each with what makes it stale.

`FigureCache` is built once by the composition root (`Services.build`) and handed to the
services that read through it (costing, the fleet table, billing). The month plans themselves
are priced once per kind and price list in the domain (`billing.priced_month`)."""

from __future__ import annotations

import sys
import threading
from array import array
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from imtui.domain.calendar import Month
from imtui.domain.usage import Peaks


@dataclass
class MonthPlans:
    """Every app's plan of one month (as text; apps alike share one string) and each kind of
    plan's curve (month-to-date cents through each day; the last is the projected cost)."""

    plan_of: dict[int, str] = field(default_factory=dict)
    curves: dict[str, array] = field(default_factory=dict)

    def put(self, app_id: int, text: str, curve: array) -> None:
        """Sets an app's plan (its kind's curve is kept once)."""
        text = sys.intern(text)  # one string per kind of plan, however many apps have it
        self.curves.setdefault(text, curve)
        self.plan_of[app_id] = text

    def update(self, other: MonthPlans) -> None:
        self.plan_of.update(other.plan_of)
        for text, curve in other.curves.items():
            self.curves.setdefault(text, curve)

    def totals(self, day: int, app_ids: Iterable[int] | None = None) -> tuple[int, int, int]:
        """(month-to-date through `day`, projected, apps counted) of all the apps, or of the
        given distinct ones (those without a plan this month count for nothing), in cents: apps
        alike share a plan, so each plan's curve is read once."""
        per_plan = Counter(self.plan_of.values() if app_ids is None else map(self.plan_of.get, app_ids))
        per_plan.pop(None, None)
        mtd = projected = apps = 0
        for text, n in per_plan.items():
            curve = self.curves[text]
            mtd += curve[day] * n
            projected += curve[-1] * n
            apps += n
        return mtd, projected, apps


@dataclass
class MonthTable:
    """The fleet's month: every app's plan and overage, and the fleet's totals for `today`, as of
    the newest event `last_event` and the change counter `counter`."""

    month: Month
    today: int
    last_event: int
    counter: int
    plans: MonthPlans
    overage: dict[int, int]
    """Usage overage cents of the apps above a quota this month."""
    peaks: dict[int, Peaks]
    mtd: int = 0
    projected: int = 0

    def figure(self) -> None:
        """Sums the fleet's totals again (after the table changed)."""
        mtd, projected, _ = self.plans.totals(self.today)
        overage = self.overage_cents()
        self.mtd, self.projected = mtd + overage, projected + overage

    def overage_cents(self, app_ids: set[int] | None = None) -> int:
        """Usage overage of the apps billed this month (all, or those given), in cents."""
        plan_of = self.plans.plan_of
        return sum(c for a, c in self.overage.items() if a in plan_of and (app_ids is None or a in app_ids))

    def cents(self, app_id: int) -> tuple[int, int]:
        """An app's month-to-date and projected cents (usage overage included)."""
        curve = self.plans.curves[self.plans.plan_of[app_id]]
        extra = self.overage.get(app_id, 0)
        return curve[self.today] + extra, curve[-1] + extra


@dataclass(frozen=True)
class FleetPackages:
    """Every app's package and status as (app_id, (edition, status, live groups, groups per
    user, members per group, history days)), as of event `as_of`; read once (it may be drawn
    lazily from the rows it came with)."""

    packages: Iterable[tuple[int, tuple]]
    as_of: int


class FigureCache:
    """What the services keep between reads, and when each goes stale:

    - `months`: a `MonthTable` of the current month and of the previous one (for its draft).
      Never dropped while its month is one of those two, but brought up to date on every read
      (`Costing`): apps with events after `last_event` are priced again, the usage overage is
      read again when the change counter moved (an import), and `today` follows the clock.
    - the fleet's packages (`keep_packages`): as the fleet table last read every app; the next
      month table built starts from them and catches up on the events after `as_of`, instead of
      reading every package again. Taken by that build; a newer read replaces them.
    - `finished_cents`: each app's cents of a finished month, by (month, issued). Never stale:
      an issued bill never changes, nor does a draft's package part (its usage overage is not
      kept); once the draft is issued its key changes and the bill is read.

    `lock` is held while a month table is read or brought up to date (reads come from the
    dashboard's worker threads)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.months: dict[Month, MonthTable] = {}
        self._packages: FleetPackages | None = None
        self._finished: dict[tuple[Month, bool], dict[int, int]] = {}

    def keep_month(self, table: MonthTable, current: Month) -> None:
        """Keeps a month's table, dropping those of months other than `current` and the one before."""
        wanted = (current, current.previous())
        self.months = {m: t for m, t in self.months.items() if m in wanted}
        self.months[table.month] = table

    def keep_packages(self, packages: FleetPackages) -> None:
        self._packages = packages

    def take_packages(self) -> FleetPackages | None:
        packages, self._packages = self._packages, None
        return packages

    def has_finished(self, month: Month, issued: bool) -> bool:
        return (month, issued) in self._finished

    def finished_cents(self, month: Month, issued: bool, read: Callable[[], dict[int, int]]) -> dict[int, int]:
        """Each app's cents of a finished month's bill (issued) or draft's package lines, read once."""
        key = (month, issued)
        per_app = self._finished.get(key)
        if per_app is None:
            per_app = self._finished[key] = read()
        return per_app
