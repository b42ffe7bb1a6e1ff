"""Signals: risks worth a person's attention now (signals.md §2), each derived by a pure function
from figures the service layer reads at the run's instant.

A signal has a kind, a severity, a subject (an app, an account or the fleet), a stable key
(`kind:subject[:period]`), `since` (the instant it was first true, as far as the data shows), the
figures behind it and one plain sentence. How each kind finds its `since` is said in its
function's docstring; the rule throughout is that `since` stays put while the signal stays true
and the data behind it does not change, and moves only when the signal escalates (§3 notifies a
moved `since` again).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from imtui.domain.billing import MonthPlan
from imtui.domain.budgets import Budget, is_forecast, is_over, is_warning, money, used_pct
from imtui.domain.calendar import zone
from imtui.domain.drift import Drift
from imtui.domain.editions import Package
from imtui.domain.errors import InvalidInput
from imtui.domain.headroom import LIMIT, USE_FIGURES, WINDOW_DAYS, Use, WindowPeaks, highest, limits, uses
from imtui.domain.prices import PriceList

BUDGET_OVER, BUDGET_WARNING, BUDGET_FORECAST = "budget_over", "budget_warning", "budget_forecast"
LIMIT_REACHED, OVERAGE_STARTED, USAGE_SPIKE = "limit_reached", "overage_started", "usage_spike"
PURGE_SOON, DRIFT, INTENT_STUCK = "purge_soon", "drift", "intent_stuck"
KINDS = (
    BUDGET_OVER,
    BUDGET_WARNING,
    BUDGET_FORECAST,
    LIMIT_REACHED,
    OVERAGE_STARTED,
    USAGE_SPIKE,
    PURGE_SOON,
    DRIFT,
    INTENT_STUCK,
)
"""Every kind, in the order of signals.md's table (the order signals of one severity are listed in)."""
CRITICAL, WARNING = "critical", "warning"
SEVERITIES = (WARNING, CRITICAL)
"""In increasing order."""
SEVERITY = {
    BUDGET_OVER: CRITICAL,
    BUDGET_WARNING: WARNING,
    BUDGET_FORECAST: WARNING,
    LIMIT_REACHED: CRITICAL,
    OVERAGE_STARTED: WARNING,
    USAGE_SPIKE: WARNING,
    PURGE_SOON: CRITICAL,
    DRIFT: CRITICAL,
    INTENT_STUCK: CRITICAL,
}
FLEET = "fleet"
"""How keys spell the fleet."""
SPIKE_BASE_DAYS = 7
"""A spike's day is held against the records of this many calendar days before it."""
SPIKE_NEEDS_DAYS = 4
"""…of which at least this many must have a record."""


@dataclass(frozen=True)
class Thresholds:
    """The thresholds signals are judged by (`check --spike-ratio`, `--spike-min`, `--purge-days`)."""

    spike_ratio: Decimal = Decimal(2)
    """A spike's dau is at least this many times the median of the days before…"""
    spike_min: int = 1000
    """…and at least this much above it."""
    purge_days: int = 7
    """A deactivated app purged within this many days is `purge_soon`."""
    stuck_minutes: int = 10
    """An intent pending for more than this many minutes is `intent_stuck`."""


def check_thresholds(
    spike_ratio: str | Decimal | None = None,
    spike_min: str | int | None = None,
    purge_days: str | int | None = None,
) -> Thresholds:
    """Thresholds from the command line (None: the default); a malformed one is invalid input (2).
    Decision: the ratio is a number from 1 to 1,000 of at most two decimals, the minimum a whole
    number up to 1,000,000,000, the purge window a whole number of days from 1 to 90."""
    base = Thresholds()
    ratio = base.spike_ratio
    if spike_ratio is not None:
        text = str(spike_ratio).strip()
        try:
            ratio = Decimal(text)
        except InvalidOperation:
            raise InvalidInput(f"--spike-ratio {text!r} is not a number such as 2 or 1.5") from None
        if not ratio.is_finite() or ratio.as_tuple().exponent < -2 or not 1 <= ratio <= 1000:
            raise InvalidInput(f"--spike-ratio must be a number from 1 to 1000 (two decimals at most), not {text!r}")
    least = base.spike_min if spike_min is None else _whole("--spike-min", spike_min, 0, 1_000_000_000)
    days = base.purge_days if purge_days is None else _whole("--purge-days", purge_days, 1, 90)
    return Thresholds(ratio, least, days, base.stuck_minutes)


def _whole(option: str, value: str | int, low: int, high: int) -> int:
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise InvalidInput(f"{option} must be a whole number from {low:,} to {high:,}, not {text!r}")
    return int(text)


@dataclass(frozen=True)
class Signal:
    """One risk now. `figures` hold plain values (int, str, Decimal amounts, datetimes, None)."""

    key: str
    kind: str
    severity: str
    app_id: int | None
    """The app, for an app's signal."""
    account: str | None
    """The account of the subject (an app's own account; None for the fleet)."""
    fleet: bool
    since: datetime
    figures: dict[str, Any] = field(hash=False, compare=True)
    text: str = ""

    @property
    def subject(self) -> dict[str, Any]:
        """As `check --format json` shows it: `{"app_id": …}`, `{"account": …}` or `{"fleet": true}`."""
        if self.app_id is not None:
            return {"app_id": self.app_id}
        if self.fleet:
            return {"fleet": True}
        return {"account": self.account}

    def at_least(self, severity: str) -> bool:
        return SEVERITIES.index(self.severity) >= SEVERITIES.index(severity)


class AppRef(NamedTuple):
    """What a sentence names an app by."""

    app_id: int
    name: str
    account: str


def key_of(kind: str, subject: str | int, period: str | None = None) -> str:
    return f"{kind}:{subject}" if period is None else f"{kind}:{subject}:{period}"


def ordered(signals: Iterable[Signal]) -> list[Signal]:
    """Most severe first; within a severity in the table's order of kinds, then the fleet, the
    accounts by name and the apps by ID."""

    severity_at = {severity: i for i, severity in enumerate(SEVERITIES)}
    kind_at = {kind: i for i, kind in enumerate(KINDS)}

    def rank(s: Signal):
        where = (0, "", 0) if s.fleet else (1, s.account or "", 0) if s.app_id is None else (2, "", s.app_id)
        return (-severity_at[s.severity], kind_at[s.kind], where, s.key)

    return sorted(signals, key=rank)


def scoped(signals: Iterable[Signal], account: str | None) -> list[Signal]:
    """The signals `check --account A` shows: A's and its apps', never the fleet's."""
    if account is None:
        return list(signals)
    return [s for s in signals if not s.fleet and s.account == account]


def exceeds(signals: Iterable[Signal], fail_on: str | None) -> bool:
    """Whether any signal is at or above `fail_on` (`warning`, `critical`; None: never)."""
    return fail_on is not None and any(s.at_least(fail_on) for s in signals)


def when(instant: datetime, tz: str) -> str:
    """An instant in a sentence: `2026-11-27 09:00 (Asia/Shanghai)`."""
    local = instant.astimezone(zone(tz))
    return f"{local:%Y-%m-%d %H:%M} ({tz})"


def _app(app: AppRef) -> str:
    return f"app {app.app_id} ({app.name}, account {app.account})"


def _App(app: AppRef) -> str:  # noqa: N802  (the same, starting a sentence)
    return f"App {app.app_id} ({app.name}, account {app.account})"


def _words(item: str) -> str:
    return item.replace("_", " ")


def run_start(flags: Sequence[bool]) -> int | None:
    """The first index of the run of True that ends at the last element (None if it is False):
    the day a condition that still holds has held since, without a break."""
    if not flags or not flags[-1]:
        return None
    i = len(flags) - 1
    while i > 0 and flags[i - 1]:
        i -= 1
    return i


# --- budgets -------------------------------------------------------------------------------------


def budget_signals(
    budget: Budget,
    month: str,
    month_to_date: Sequence[Decimal],
    projected: Sequence[Decimal],
    day_starts: Sequence[datetime],
) -> list[Signal]:
    """`budget_over`, `budget_warning`, `budget_forecast` of one budget in the month `month`.

    `month_to_date[i]` and `projected[i]` are the figures as the data shows them for day i of the
    month (0 … today; the last pair is now's, exactly as the bill counts it); `day_starts[i]` is
    00:00 of day i in the billing time zone.

    `since`: 00:00 of the first day of the unbroken run of days, ending today, on which the
    condition held. Month-to-date through a day is the package cost through it plus the overage
    of the peaks recorded through it; the projection of a day is the package cost with the
    settings held that day carried on to the month's end (`projection_curves`) plus that day's
    overage. A budget set or
    changed mid-month applies to the whole month (§1), so `since` may precede it."""
    subject = FLEET if budget.account is None else budget.account
    who = "The fleet" if budget.account is None else f"Account {budget.account}"
    mtd, proj = month_to_date[-1], projected[-1]
    figures = {
        "month": month,
        "budget": budget.amount,
        "warn_at": budget.warn_at,
        "month_to_date": mtd,
        "projected": proj,
        "used_pct": used_pct(budget, mtd),
    }

    def signal(kind: str, flags: list[bool], text: str) -> Signal:
        start = run_start(flags)
        assert start is not None
        return Signal(
            key_of(kind, subject, month),
            kind,
            SEVERITY[kind],
            None,
            budget.account,
            budget.account is None,
            day_starts[start],
            dict(figures),
            text,
        )

    if is_over(budget, mtd):
        return [
            signal(
                BUDGET_OVER,
                [is_over(budget, m) for m in month_to_date],
                f"{who} has spent {money(mtd)} in {month}, over its budget of {money(budget.amount)} "
                f"({figures['used_pct']} %).",
            )
        ]
    out = []
    if is_warning(budget, mtd):
        out.append(
            signal(
                BUDGET_WARNING,
                [is_warning(budget, m) for m in month_to_date],
                f"{who} has spent {money(mtd)} in {month}, {figures['used_pct']} % of its budget of "
                f"{money(budget.amount)} (warning at {budget.warn_at} %).",
            )
        )
    if is_forecast(budget, proj):
        out.append(
            signal(
                BUDGET_FORECAST,
                [is_forecast(budget, p) for p in projected],
                f"{who} is heading for at least {money(proj)} in {month}, over its budget of "
                f"{money(budget.amount)} ({money(mtd)} so far).",
            )
        )
    return out


def projection_curves(plans: Sequence[MonthPlan], days: int):
    """Each plan's projected package cents as it shows on each day of one month (NumPy): what
    was billed through that day, with the settings held that day carried on to the month's end
    (history retention: the dearest in effect so far, for the whole month); on the day of a plan's
    last change, its whole month (`MonthPlan.curve()[-1]`). Plans × days, int64."""
    import numpy as np

    line_plan, prices, covered = [], [], []
    hist_plan, hist_cents, hist_first = [], [], []
    for i, plan in enumerate(plans):
        for pl in plan.daily:
            row = bytearray(days)
            for first, last in pl.runs:
                row[first : last + 1] = b"\x01" * (last - first + 1)
            line_plan.append(i)
            prices.append(pl.price_cents)
            covered.append(bytes(row))
        for _, cents, first in plan.history:
            hist_plan.append(i)
            hist_cents.append(cents)
            hist_first.append(first)
    out = np.zeros((len(plans), days), dtype=np.int64)
    day = np.arange(days, dtype=np.int64)[None, :]
    if line_plan:
        on = np.frombuffer(b"".join(covered), dtype=np.uint8).reshape(len(line_plan), days).astype(np.int64)
        held = np.cumsum(on, axis=1) + on * (days - 1 - day)
        price = np.asarray(prices, dtype=np.int64)[:, None]
        np.add.at(out, np.asarray(line_plan), (2 * price * held + days) // (2 * days))
    if hist_plan:
        best = np.zeros((len(plans), days), dtype=np.int64)
        cents = np.where(day >= np.asarray(hist_first)[:, None], np.asarray(hist_cents, dtype=np.int64)[:, None], 0)
        np.maximum.at(best, np.asarray(hist_plan), cents)
        out += best
    return out


# --- usage: limits, overage, spikes ---------------------------------------------------------------


Record = Sequence[int]
"""One day's usage: dau, groups, live_groups, max_groups_per_user, max_members_per_group."""


def _figures(record: Record) -> dict[str, int]:
    dau, groups, live, per_user, members = record[:5]
    return {
        "dau": dau,
        "groups": groups,
        "live_groups": live,
        "max_groups_per_user": per_user,
        "max_members_per_group": members,
        "other_groups": max(groups - live, 0),
    }


def limits_at(package: Package, record: Record) -> bool:
    """Whether one day's record is at (≥ 100 % of) one of the package's limits (not quotas)."""
    figures = _figures(record)
    return any(
        kind == LIMIT and allowance and figures[figure] >= allowance for _, kind, figure, allowance in limits(package)
    )


def window_peaks(records: Mapping[date, Record], first: date, last: date) -> WindowPeaks:
    """The peaks of the records of the days from `first` to `last`."""
    days = [_figures(r) for d, r in records.items() if first <= d <= last]
    if not days:
        return WindowPeaks()
    return WindowPeaks(*(max(d[f] for d in days) for f in USE_FIGURES), len(days))


def limit_chain_start(package: Package, records: Mapping[date, Record], today: date) -> date | None:
    """The first day at a limit of the unbroken chain of such days (each at most 7 days after
    the one before) that ends within the 7 days ending `today`; None when no day of those 7 is
    at a limit. The chain may reach back past the records given: the caller reads further back
    while it reaches its oldest record (`reaches_back`)."""
    at = sorted(d for d, r in records.items() if d <= today and limits_at(package, r))
    if not at or (today - at[-1]).days >= WINDOW_DAYS:
        return None
    start = at[-1]
    for day in reversed(at[:-1]):
        if (start - day).days > WINDOW_DAYS:
            break
        start = day
    return start


def reaches_back(start: date, oldest: date) -> bool:
    """Whether a chain starting on `start` could go on before `oldest`, the first day read."""
    return (start - oldest).days < WINDOW_DAYS


def limit_signal(app: AppRef, package: Package, records: Mapping[date, Record], today: date, tz: str) -> Signal | None:
    """`limit_reached`: an active app at one of its limits (≥ 100 %) in the last 7 days (today
    included), judged against its current package, as the dashboard's headroom is.

    `records`: the app's records by day, reaching back as far as the caller read (at least the
    window). `since`: 00:00 of the first day at a limit of the unbroken chain of such days ending
    in the window (two days at a limit at most 7 days apart keep the signal true between them):
    the signal has been true, without a break, from that day on."""
    first = today - timedelta(days=WINDOW_DAYS - 1)
    week = window_peaks(records, first, today)
    reached = [u for u in uses(package, week) if u.kind == LIMIT and u.peak >= u.allowance]
    if not reached:
        return None
    start = limit_chain_start(package, records, today)
    assert start is not None
    top: Use = highest(reached)  # type: ignore[assignment]
    figures = {
        "item": top.item,
        "peak": top.peak,
        "allowance": top.allowance,
        "use_pct": top.use_pct,
        "items": [u.item for u in reached],
    }
    text = (
        f"{_App(app)} is at its {_words(top.item)} limit ({top.peak:,} of {top.allowance:,}, "
        f"{top.use_pct} %) in the last {WINDOW_DAYS} days: its users see errors."
    )
    return Signal(
        key_of(LIMIT_REACHED, app.app_id),
        LIMIT_REACHED,
        SEVERITY[LIMIT_REACHED],
        app.app_id,
        app.account,
        False,
        _day_start(start, tz),
        figures,
        text,
    )


def _day_start(day: date, tz: str) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone(tz))


class DayUsage(NamedTuple):
    """An app's dau and groups by 0-based day of a month (None: no record that day)."""

    dau: Sequence[int | None]
    groups: Sequence[int | None]


def overage_reached(usage: DayUsage, first_paid: int | None, prices: PriceList, blocks: int) -> int | None:
    """The first paid day (0-based) whose record brought the month's blocks to `blocks`."""
    run_dau = run_groups = None
    for day in range(len(usage.dau)):
        if first_paid is None or day < first_paid or usage.dau[day] is None:
            continue
        run_dau = usage.dau[day] if run_dau is None else max(run_dau, usage.dau[day])
        run_groups = usage.groups[day] if run_groups is None else max(run_groups, usage.groups[day])
        if prices.dau.blocks(run_dau) + prices.groups.blocks(run_groups) >= blocks:
            return day
    return None


def running_blocks(dau, groups, first_paid, prices: PriceList):
    """The DAU and group blocks of many apps' months as recorded through each day (NumPy):
    `dau` and `groups` (apps × days, -1: no record), `first_paid` (per app; a day past the
    month: never paid) → (DAU blocks, group blocks), each apps × days."""
    import numpy as np

    days = np.arange(dau.shape[1])[None, :]
    paid = (days >= np.asarray(first_paid)[:, None]) & (dau >= 0)
    run_dau = np.maximum.accumulate(np.where(paid, dau, -1).astype(np.int64), axis=1)
    run_groups = np.maximum.accumulate(np.where(paid, groups, -1).astype(np.int64), axis=1)

    def started(peak, price):
        return np.where(peak > price.included, -(-(peak - price.included) // price.block), 0)

    return started(run_dau, prices.dau), started(run_groups, prices.groups)


def overage_reached_days(dau, groups, first_paid, blocks, prices: PriceList):
    """`overage_reached` of many apps at once (`running_blocks`): the day per app its blocks
    reached `blocks` (per app; -1: not reached)."""
    import numpy as np

    dau_blocks, group_blocks = running_blocks(dau, groups, first_paid, prices)
    reached = dau_blocks + group_blocks >= np.asarray(blocks)[:, None]
    return np.where(reached.any(axis=1), reached.argmax(axis=1), -1)


def overage_cents_by_day(dau, groups, first_paid, prices: PriceList):
    """The month's overage in cents as the data shows it through each day, for many apps at once
    (`running_blocks`): the blocks of the peaks of the paid days recorded up to that day
    (domain.md §6). Apps × days."""
    dau_blocks, group_blocks = running_blocks(dau, groups, first_paid, prices)
    return dau_blocks * int(prices.dau.price * 100) + group_blocks * int(prices.groups.price * 100)


def overage_signal(
    app: AppRef,
    month: str,
    peak_dau: int,
    peak_groups: int,
    usage: DayUsage | None,
    first_paid: int | None,
    prices: PriceList,
    day_starts: Sequence[datetime],
    reached: int | None = None,
) -> Signal | None:
    """`overage_started`: the app's month (`month`) bills a DAU or group overage block; its
    peaks are the month's paid peaks as billed. One signal per app and month (the key carries the
    month); it stays for an app halted or purged since (the bill still counts those days).

    `since`: 00:00 of the first paid day whose record brought the month's number of blocks to
    what it is now (`overage_reached`, or `reached` when the caller worked it out for many apps
    at once), so `since` moves (an escalation) each time another block starts."""
    dau_blocks, groups_blocks = prices.dau.blocks(peak_dau), prices.groups.blocks(peak_groups)
    blocks = dau_blocks + groups_blocks
    if not blocks:
        return None
    amount = dau_blocks * prices.dau.price + groups_blocks * prices.groups.price
    if reached is None and usage is not None:
        reached = overage_reached(usage, first_paid, prices, blocks)
    if reached is None or reached < 0:  # the packed days disagree with the kept peaks: the first paid day
        reached = max(first_paid or 0, 0)
    parts = []
    if dau_blocks:
        parts.append(f"a DAU overage (peak {peak_dau:,}: {_blocks(dau_blocks)})")
    if groups_blocks:
        parts.append(f"a group overage (peak {peak_groups:,}: {_blocks(groups_blocks)})")
    text = f"{_App(app)} bills {' and '.join(parts)} in {month}: {money(amount)} so far."
    figures = {
        "month": month,
        "blocks": blocks,
        "dau_peak": peak_dau,
        "dau_blocks": dau_blocks,
        "groups_peak": peak_groups,
        "groups_blocks": groups_blocks,
        "amount": amount,
    }
    return Signal(
        key_of(OVERAGE_STARTED, app.app_id, month),
        OVERAGE_STARTED,
        SEVERITY[OVERAGE_STARTED],
        app.app_id,
        app.account,
        False,
        day_starts[min(reached, len(day_starts) - 1)],
        figures,
        text,
    )


def _blocks(n: int) -> str:
    return f"{n} block" if n == 1 else f"{n} blocks"


def median(values: Sequence[int]) -> Decimal:
    """The exact median (the mean of the middle two of an even count)."""
    ordered_ = sorted(values)
    n = len(ordered_)
    if n % 2:
        return Decimal(ordered_[n // 2])
    return (Decimal(ordered_[n // 2 - 1]) + Decimal(ordered_[n // 2])) / 2


def spike_signal(app: AppRef, dau: Mapping[date, int], latest: date, thresholds: Thresholds, tz: str) -> Signal | None:
    """`usage_spike`: the app's `dau` on `latest` (its latest recorded day) is at least
    `spike_ratio` × the median `dau` of the records of the 7 calendar days before it **and** at
    least `spike_min` above that median, with records on at least 4 of those 7 days.

    `since`: 00:00 of that day (the spike is that day's record); a spike on a later day moves it."""
    if latest not in dau:
        return None
    base = [dau[d] for i in range(1, SPIKE_BASE_DAYS + 1) if (d := latest - timedelta(days=i)) in dau]
    if len(base) < SPIKE_NEEDS_DAYS:
        return None
    mid = median(base)
    value = dau[latest]
    if not (value >= thresholds.spike_ratio * mid and value - mid >= thresholds.spike_min):
        return None
    ratio = (Decimal(value) / mid).quantize(Decimal("0.01")) if mid else None
    shown_mid = int(mid) if mid == mid.to_integral_value() else float(mid)  # exact: a half at most
    figures = {
        "day": latest.isoformat(),
        "dau": value,
        "median": shown_mid,
        "ratio": ratio,
        "days": len(base),
    }
    times = f"{ratio:,} times" if ratio is not None else "far above"
    text = (
        f"{_App(app)} had {value:,} daily active users on {latest.isoformat()}, {times} the median "
        f"{_number(mid)} of the {SPIKE_BASE_DAYS} days before."
    )
    return Signal(
        key_of(USAGE_SPIKE, app.app_id),
        USAGE_SPIKE,
        SEVERITY[USAGE_SPIKE],
        app.app_id,
        app.account,
        False,
        _day_start(latest, tz),
        figures,
        text,
    )


def _number(value: Decimal) -> str:
    return f"{int(value):,}" if value == value.to_integral_value() else f"{value:,.1f}"


# --- lifecycle: purges, drift, intents ------------------------------------------------------------


def purge_soon(purge_at: datetime, now: datetime, thresholds: Thresholds) -> bool:
    """Whether a deactivated app's purge is close enough to say so (`purge_soon`)."""
    return now < purge_at <= now + timedelta(days=thresholds.purge_days)


def purge_signal(
    app: AppRef, deactivated_at: datetime, purge_at: datetime, now: datetime, thresholds: Thresholds, tz: str
) -> Signal | None:
    """`purge_soon`: a deactivated app whose purge instant is within `purge_days` days of now
    (and not yet reached: at that instant it is purged).

    `since`: the instant the purge came within the window (`purge_at` − `purge_days` days), or
    the app's deactivation if that was later."""
    window = timedelta(days=thresholds.purge_days)
    if not purge_soon(purge_at, now, thresholds):
        return None
    since = max(deactivated_at, purge_at - window)
    text = (
        f"{_App(app)} will be purged at {when(purge_at, tz)}: its data then becomes unrecoverable. "
        f"To keep it: imtui apps reactivate {app.app_id}"
    )
    figures = {"deactivated_at": deactivated_at, "purge_at": purge_at}
    return Signal(
        key_of(PURGE_SOON, app.app_id),
        PURGE_SOON,
        SEVERITY[PURGE_SOON],
        app.app_id,
        app.account,
        False,
        since,
        figures,
        text,
    )


def drift_signal(app: AppRef, drift: Drift, since: datetime) -> Signal:
    """`drift`: the platform serves (or has stopped) an app otherwise than imtui's status says,
    as `reconcile` finds it.

    `since`: the instant imtui's status of the app was last set (its halt, purge, reactivation or
    creation): the platform cannot be known to have differed before, and nothing records when
    it began to."""
    if drift.serving:
        text = (
            f"The platform still serves {_app(app)}, which imtui has {drift.status}: "
            "imtui reconcile --fix stops it again."
        )
    else:
        text = f"The platform has stopped {_app(app)}, which imtui has active: imtui reconcile --fix starts it."
    figures = {"status": drift.status, "platform": "serving" if drift.serving else "stopped", "fix": drift.fix}
    return Signal(
        key_of(DRIFT, app.app_id), DRIFT, SEVERITY[DRIFT], app.app_id, app.account, False, since, figures, text
    )


def stuck_signal(
    app: AppRef, action: str, requested_at: datetime, actor: str, now: datetime, thresholds: Thresholds, tz: str
) -> Signal | None:
    """`intent_stuck`: a halt or reactivate intent pending for more than `stuck_minutes`.

    `since`: the instant it had been pending that long (`requested_at` + `stuck_minutes`)."""
    limit = timedelta(minutes=thresholds.stuck_minutes)
    if now - requested_at <= limit:
        return None
    minutes = int((now - requested_at).total_seconds() // 60)
    text = (
        f"The {action} of {_app(app)}, asked for by {actor} at {when(requested_at, tz)}, has waited {minutes} "
        "minutes for the platform to confirm it; any imtui run settles it once the platform answers."
    )
    figures = {"action": action, "requested_at": requested_at, "minutes": minutes, "actor": actor}
    return Signal(
        key_of(INTENT_STUCK, app.app_id),
        INTENT_STUCK,
        SEVERITY[INTENT_STUCK],
        app.app_id,
        app.account,
        False,
        requested_at + limit,
        figures,
        text,
    )


# --- notification (§3) -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Delta:
    """What a webhook has not been told yet: signals new to it, signals whose `since` moved, and
    keys it was told of that no longer hold."""

    new: list[Signal]
    escalated: list[Signal]
    resolved: list[str]

    @property
    def empty(self) -> bool:
        return not (self.new or self.escalated or self.resolved)

    @property
    def to_send(self) -> list[Signal]:
        return ordered([*self.new, *self.escalated])


def delta(
    signals: Iterable[Signal],
    notified: Mapping[str, datetime],
    in_scope: Callable[[str], bool] = lambda key: True,
) -> Delta:
    """Compares the signals now with what a webhook was last told (`notified`: key → `since`).
    A notified key that no signal holds now is resolved only when `in_scope(key)` (a run that
    looked at one account, or could not ask the platform for drift, resolves nothing else)."""
    new, escalated, now_keys = [], [], set()
    for s in signals:
        now_keys.add(s.key)
        told = notified.get(s.key)
        if told is None:
            new.append(s)
        elif told != s.since:
            escalated.append(s)
    resolved = sorted(k for k in notified if k not in now_keys and in_scope(k))
    return Delta(ordered(new), ordered(escalated), resolved)


def message_text(signals: Sequence[Signal], resolved: Sequence[str]) -> str:
    """The `text` of a webhook message: one line per signal sent, then one per resolved key."""
    lines = [f"[{s.severity}] {s.text}" for s in signals]
    lines += [f"[resolved] {key}" for key in resolved]
    return "\n".join(lines)
