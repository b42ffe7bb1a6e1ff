"""Signals now (signals.md §2), and their delivery to a webhook (§3).

Everything is read at the run's instant from what the fleet keeps whole, never app by app over
ORM objects: budgets from the month plans `Costing` keeps (`services.budgets.month_figures`),
overage from the usage rows' kept paid peaks, limits and spikes from the last 14 days of the
fleet's packed usage side by side (NumPy; the headroom rules of `domain.fleet_headroom`), purges
and intents by one query each. Only the few apps a signal names are then read further (their
names, a month of usage for `since`). Drift is asked of the platform as `reconcile` asks it, only
with a control plane apart from imtui; when it cannot be asked, drift is left out and a note says
why. The rules and each kind's `since` are `domain.signals`'.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from imtui.domain.audit import DONE, REFUSED, AuditEntry
from imtui.domain.calendar import iso_local, zone
from imtui.domain.editions import Package
from imtui.domain.errors import ImtuiError, InvalidInput, NotFound, Unavailable
from imtui.domain.headroom import AT_LIMIT, WINDOW_DAYS
from imtui.domain.intents import PENDING
from imtui.domain.prices import from_cents
from imtui.domain.signals import (
    DRIFT,
    SPIKE_BASE_DAYS,
    SPIKE_NEEDS_DAYS,
    AppRef,
    Delta,
    Signal,
    Thresholds,
    budget_signals,
    delta,
    drift_signal,
    limit_chain_start,
    limit_signal,
    message_text,
    ordered,
    overage_reached_days,
    overage_signal,
    purge_signal,
    reaches_back,
    scoped,
    spike_signal,
    stuck_signal,
)
from imtui.domain.usage import FIELDS
from imtui.persistence.repos.usage import DAU_AT, GROUPS_AT, MISSING, SLOTS
from imtui.persistence.uow import UnitOfWork
from imtui.services.budgets import first_paid_day, month_figures
from imtui.services.context import ServiceContext, no_cyclic_gc
from imtui.services.costing import Costing
from imtui.services.housekeeping import Housekeeping
from imtui.services.reconcile import ReconcileService
from imtui.services.use_case import account_named, use_case
from imtui.services.webhook import Delivery, WebhookSettings, check_url, post, shown_url, url_key

NOTIFY = "notify"
RECENT_DAYS = WINDOW_DAYS + SPIKE_BASE_DAYS
"""Days of the fleet's usage read at once: a spike's day (one of the last 7) and the 7 before it."""
LOOK_BACK_MONTHS = 36
"""How far back a `limit_reached`'s unbroken chain of days at a limit is followed, at most."""


@dataclass(frozen=True)
class SignalReport:
    """The signals of one run (most severe first), at its instant, and what could not be looked at."""

    at: datetime
    signals: list[Signal]
    notes: list[str] = field(default_factory=list)
    """Sentences about what was left out (drift when the platform could not be asked)."""
    drift_checked: bool = False
    """Whether drift was compared with a platform (only then can a drift signal resolve)."""


@dataclass(frozen=True)
class NotifyResult:
    """What `--notify` did: `sent` when there was something new to say and the webhook took it."""

    url: str
    """The URL as it may be shown (`webhook.shown_url`)."""
    sent: bool
    new: int = 0
    escalated: int = 0
    resolved: int = 0
    delivery: Delivery | None = None


def signal_record(signal: Signal, tz: str) -> dict[str, Any]:
    """One signal as `check --format json` shows it (and a webhook message carries it): amounts
    as strings with two decimals, instants ISO 8601 with the billing time zone's offset."""
    return {
        "key": signal.key,
        "kind": signal.kind,
        "severity": signal.severity,
        "subject": signal.subject,
        "since": iso_local(signal.since, tz),
        "figures": {k: _plain(v, tz) for k, v in signal.figures.items()},
        "text": signal.text,
    }


def _plain(value: Any, tz: str) -> Any:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, datetime):
        return iso_local(value, tz)
    if isinstance(value, list | tuple):
        return [_plain(v, tz) for v in value]
    return value


def message(signals: list[Signal], resolved: list[str], at: datetime, tz: str) -> bytes:
    """The body of a webhook message (§3)."""
    body = {
        "text": message_text(signals, resolved),
        "signals": [signal_record(s, tz) for s in signals],
        "resolved": list(resolved),
        "sent_at": iso_local(at, tz),
    }
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


class SignalService:
    """The signals now (budgets, limits, overage, spikes, purges, drift, stuck intents) and sending
    them to a webhook."""

    def __init__(
        self,
        ctx: ServiceContext,
        housekeeping: Housekeeping,
        costing: Costing,
        reconcile: ReconcileService,
        webhook: WebhookSettings | None = None,
    ):
        self.ctx = ctx
        self.housekeeping = housekeeping
        self.costing = costing
        self.reconcile = reconcile
        self.webhook = webhook or WebhookSettings()
        """How `notify` sends (the composition root sets it from the settings)."""

    @use_case(catches_up=False)
    async def current(self, account: str | None = None, thresholds: Thresholds | None = None) -> list[Signal]:
        """The signals now (of one account and its apps, or of everything), most severe first;
        its preconditions are `report`'s."""
        return (await self.report(account, thresholds)).signals

    @use_case(check=account_named)
    async def report(self, account: str | None = None, thresholds: Thresholds | None = None) -> SignalReport:
        """`current`, with what could not be looked at."""
        thresholds = thresholds or Thresholds()
        now = self.ctx.now()
        found = await self.ctx.run(lambda: self._read(now, account, thresholds))
        drift, notes, checked = await self._drift(account)
        # ordered in a worker thread too: a fleet's thousands of signals would hold up the dashboard's loop
        signals = await self.ctx.run(lambda: ordered([*found, *drift]))
        return SignalReport(now, signals, notes, checked)

    # --- reading -----------------------------------------------------------------------------------

    def _read(self, now: datetime, account: str | None, thresholds: Thresholds) -> list[Signal]:
        ctx = self.ctx
        period = ctx.period(now)
        with ctx.uow() as uow, no_cyclic_gc():
            if account is not None and uow.accounts.find(account) is None:
                raise NotFound(f"no account named {account!r}")
            out = self._budgets(uow, period, account)
            out += self._overage(uow, period)
            out += self._usage(uow, period.today_date, thresholds)
            out += self._purges(uow, now, thresholds)
            out += self._intents(uow, now, thresholds)
        return scoped(out, account)

    def _budgets(self, uow: UnitOfWork, period, account: str | None) -> list[Signal]:
        budgets = [b for b in uow.budgets.all() if account is None or b.account == account]
        if not budgets:
            return []
        figures = month_figures(uow, self.ctx, self.costing, period, [b.account for b in budgets if b.account], True)
        starts = period.bounds
        out: list[Signal] = []
        for b in budgets:
            series = figures.of(b.account)
            out += budget_signals(b, period.key, _amounts(series.month_to_date), _amounts(series.projected), starts)
        return out

    def _overage(self, uow: UnitOfWork, period) -> list[Signal]:
        """`overage_started` of every app whose current month bills an overage block (halted and
        purged apps included: the bill still counts their days). The day each reached its blocks
        is worked out for all of them at once from their packed month (NumPy)."""
        import numpy as np

        prices = self.ctx.prices
        peaks = uow.usage.over_quota(period.month, prices.dau.included, prices.groups.included)
        if not peaks:
            return []
        ids = sorted(peaks)
        refs = uow.signals.refs(ids)
        paid = uow.usage.paid_since(ids)
        matrix = uow.usage.load_matrix([(a, period.key) for a in ids])
        tz = zone(self.ctx.tz)
        first = np.array([first_paid_day(period.key, paid.get(a), tz) for a in ids], dtype=np.int64)
        blocks = np.array([prices.dau.blocks(peaks[a].dau) + prices.groups.blocks(peaks[a].groups) for a in ids])
        reached = overage_reached_days(
            matrix[:, DAU_AT : DAU_AT + SLOTS], matrix[:, GROUPS_AT : GROUPS_AT + SLOTS], first, blocks, prices
        ).tolist()
        starts = period.bounds
        out = []
        for i, a in enumerate(ids):
            if a not in refs:
                continue
            p = peaks[a]
            found = overage_signal(
                _ref(a, refs), period.key, p.dau, p.groups, None, int(first[i]), prices, starts, reached[i]
            )
            if found is not None:
                out.append(found)
        return out

    def _usage(self, uow: UnitOfWork, today: date, thresholds: Thresholds) -> list[Signal]:
        """`limit_reached` and `usage_spike` of active apps, from the fleet's last 14 days."""
        import numpy as np

        ctx = self.ctx
        recent = uow.usage.recent_days(today, RECENT_DAYS)
        if not len(recent.app_ids):
            return []
        active, kinds, packages = uow.apps.active_packages()
        if not len(active):
            return []
        at = np.minimum(np.searchsorted(active, recent.app_ids), len(active) - 1)
        keep = active[at] == recent.app_ids
        app_ids, days, kind_of = recent.app_ids[keep], recent.days[keep], kinds[at[keep]]
        if not len(app_ids):
            return []
        limited = np.flatnonzero(_at_limit(app_ids, days, packages, kind_of, ctx.prices))
        spiking = _spike_candidates(days[:, 0, :], thresholds)
        wanted = sorted({int(app_ids[i]) for i in limited} | {int(app_ids[i]) for i in spiking})
        if not wanted:
            return []
        refs = uow.signals.refs(wanted)
        first = recent.first
        out: list[Signal] = []
        limit_rows = {int(app_ids[i]): i for i in limited}
        if limit_rows:
            records = {a: _records(days[i], first) for a, i in limit_rows.items()}
            pkg = {a: packages[int(kind_of[i])] for a, i in limit_rows.items()}
            self._look_back(uow, records, pkg, today, first)
            found = (
                limit_signal(_ref(a, refs), pkg[a], records[a], today, ctx.tz) for a in sorted(limit_rows) if a in refs
            )
            out += [f for f in found if f is not None]
        for i in spiking:
            a = int(app_ids[i])
            found = _spike(_ref(a, refs), days[i, 0, :], first, today, thresholds, ctx.tz) if a in refs else None
            if found is not None:
                out.append(found)
        return out

    def _look_back(
        self, uow: UnitOfWork, records: dict[int, dict], packages: dict[int, Package], today: date, oldest: date
    ) -> None:
        """Reads earlier months of the apps at a limit while their chain of days at a limit may
        reach back before what was read (`domain.signals.reaches_back`)."""
        reading = dict.fromkeys(records, oldest)  # app → its oldest day read
        for _ in range(LOOK_BACK_MONTHS):
            more = []
            for a, first in reading.items():
                start = limit_chain_start(packages[a], records[a], today)
                if start is not None and reaches_back(start, first):
                    more.append(a)
            if not more:
                return
            months: dict[str, list[int]] = {}
            for a in more:
                before = reading[a] - timedelta(days=1)
                months.setdefault(f"{before.year:04d}-{before.month:02d}", []).append(a)
            reading = {}
            for key, apps in months.items():
                loaded = uow.usage.load((a, key) for a in apps)
                year, number = int(key[:4]), int(key[5:])
                month_first = date(year, number, 1)
                for a in apps:
                    packed = loaded.get((a, key))
                    if packed is not None:  # no record that month: the chain cannot reach through it
                        _add_month(records[a], packed, month_first)
                        reading[a] = month_first

    def _purges(self, uow: UnitOfWork, now: datetime, thresholds: Thresholds) -> list[Signal]:
        out = []
        for p in uow.signals.purging_by(now + timedelta(days=thresholds.purge_days)):
            found = purge_signal(
                AppRef(p.app_id, p.name, p.account), p.deactivated_at, p.purge_at, now, thresholds, self.ctx.tz
            )
            if found is not None:
                out.append(found)
        return out

    def _intents(self, uow: UnitOfWork, now: datetime, thresholds: Thresholds) -> list[Signal]:
        oldest: dict[int, Any] = {}
        for intent in uow.intents.pending():  # oldest first
            if intent.state == PENDING:
                oldest.setdefault(intent.app_id, intent)
        if not oldest:
            return []
        refs = uow.signals.refs(oldest)
        out = []
        for a, intent in sorted(oldest.items()):
            if a in refs:
                found = stuck_signal(
                    _ref(a, refs), intent.action, intent.requested_at, intent.actor, now, thresholds, self.ctx.tz
                )
                if found is not None:
                    out.append(found)
        return out

    async def _drift(self, account: str | None) -> tuple[list[Signal], list[str], bool]:
        """Drift as `reconcile` finds it; nothing (and no note) with the embedded control plane,
        a note instead of drift when the platform cannot be asked now."""
        try:
            found = await self.reconcile.check()
        except InvalidInput:
            return [], [], False  # the embedded control plane: nothing apart from imtui to compare
        except ImtuiError as exc:
            return [], [f"drift was not checked: {exc.message}"], False
        if not found.drift:
            return [], [], True
        ids = [d.app_id for d in found.drift]

        def read():
            with self.ctx.uow() as uow:
                return uow.signals.refs(ids), uow.signals.status_set_at(ids)

        refs, set_at = await self.ctx.run(read)
        now = self.ctx.now()
        signals = [
            drift_signal(_ref(d.app_id, refs), d, set_at.get(d.app_id, now)) for d in found.drift if d.app_id in refs
        ]
        return scoped(signals, account), [], True

    # --- notification (§3) ------------------------------------------------------------------------

    @use_case(writes=True, catches_up=False)
    async def notify(self, url: str, report: SignalReport, account: str | None = None) -> NotifyResult:
        """Delivers what is new to the webhook at `url`: signals it was not told of, signals whose
        `since` moved, and signals it was told of that no longer hold (`resolved`, once). One POST,
        only when there is something to say; remembered (per URL hash and signal key) only after a
        2xx, so a failed delivery is sent again by the next run. Allowed to every role, refused in
        read-only runs; each delivery audited (`notify`). A webhook that never answered 2xx is exit 1."""
        ctx = self.ctx
        url = check_url(url)
        if not 0 < self.webhook.timeout <= 600:  # NaN too: a malformed setting
            raise InvalidInput("IMTUI_NOTIFY_TIMEOUT must be a number of seconds, more than 0 and at most 600")
        key, shown = url_key(url), shown_url(url)

        def read():
            with ctx.uow() as uow:
                return uow.notifications.of_url(key)

        notified = await ctx.run(read)

        def in_scope(signal_key: str) -> bool:
            told = notified[signal_key]
            if account is not None and told.account != account:
                return False  # another account's, or the fleet's: not looked at in this run
            return told.kind != DRIFT or report.drift_checked

        change: Delta = delta(report.signals, {k: n.since for k, n in notified.items()}, in_scope)
        if change.empty:
            return NotifyResult(shown, False)
        sending = change.to_send
        body = message(sending, change.resolved, report.at, ctx.tz)
        delivery = await post(url, body, self.webhook)
        counts = f"{len(change.new)} new, {len(change.escalated)} escalated, {len(change.resolved)} resolved"
        now = ctx.now()
        if not delivery.ok:
            tries = f"{delivery.attempts} attempt{'s' if delivery.attempts != 1 else ''}"
            why = f"{delivery.reason} ({tries})"
            entry = AuditEntry(now, ctx.actor, NOTIFY, None, REFUSED, f"{shown}: not delivered ({counts}): {why}")
            await ctx.run(lambda: ctx.audit_refusals([entry]))
            raise Unavailable(f"notify {shown}: {why}; nothing is recorded as sent, so the next run sends it again")

        def write() -> None:
            with ctx.uow(write=True) as uow:
                told = [(s.key, s.kind, s.account, s.since) for s in sending]
                uow.notifications.told(key, told, change.resolved, now)
                detail = f"{shown}: delivered {counts} (HTTP {delivery.status})"
                uow.audit.add(AuditEntry(now, ctx.actor, NOTIFY, None, DONE, detail))
                uow.meta.bump_counter()
                uow.commit()

        await ctx.run(write)
        return NotifyResult(shown, True, len(change.new), len(change.escalated), len(change.resolved), delivery)


def _amounts(cents: Iterable[int]) -> list[Decimal]:
    return [from_cents(c) for c in cents]


def _ref(app_id: int, refs: dict[int, tuple[str, str, str]]) -> AppRef:
    name, account, _ = refs[app_id]
    return AppRef(app_id, name, account)


def _records(days, first: date) -> dict[date, tuple[int, ...]]:
    """One app's rows of the window (`RecentDays.days[i]`) as records by day."""
    columns = days.T.tolist()  # (window, 5)
    return {first + timedelta(days=d): tuple(c) for d, c in enumerate(columns) if c[0] != MISSING}


def _at_limit(app_ids, days, packages: list[Package], kind_of, prices):
    """Which apps (a boolean per row) were at a limit or quota in the last 7 days of the window
    (`domain.fleet_headroom`'s `AT_LIMIT`, from those days' peaks)."""
    import numpy as np

    from imtui.domain.fleet_headroom import FleetUsage, fleet_headroom  # NumPy: loaded when first used

    week = days[:, :, SPIKE_BASE_DAYS:]
    present = week[:, 0, :] != MISSING
    other = np.where(present, np.maximum(week[:, 1, :] - week[:, 2, :], 0), MISSING).max(axis=1)
    peaks = np.column_stack([week.max(axis=2), other]).astype(np.int64)
    n = len(app_ids)
    usage = FleetUsage(
        app_ids, peaks, present.sum(axis=1), np.full((n, 3), MISSING, dtype=np.int64), np.zeros(n, dtype=np.int64)
    )
    return (fleet_headroom(packages, kind_of, usage, prices).flags & AT_LIMIT) != 0


def _spike(ref: AppRef, row, first: date, today: date, thresholds: Thresholds, tz: str) -> Signal | None:
    """`usage_spike` of one app from its DAU of the window (`row`, from `first`)."""
    dau = {first + timedelta(days=d): int(v) for d, v in enumerate(row.tolist()) if v != MISSING}
    latest = max(d for d in dau if d > today - timedelta(days=WINDOW_DAYS))
    return spike_signal(ref, dau, latest, thresholds, tz)


def _add_month(records: dict[date, tuple], packed, month_first: date) -> None:
    """One app's packed month (`domain.usage`'s layout) added to its records by day; days
    already read are kept."""
    for d in range(SLOTS):
        if packed[d] == MISSING:
            continue
        day = month_first + timedelta(days=d)
        if day.month != month_first.month:
            break
        records.setdefault(day, tuple(packed[f * SLOTS + d] for f in range(len(FIELDS))))


def _spike_candidates(dau, thresholds: Thresholds) -> list[int]:
    """Rows of `dau` (apps × the 14 days, oldest first; -1: no record) that may hold a spike on
    their latest recorded day of the last 7: a coarse filter in floating point (a margin keeps
    every true spike), each survivor then judged exactly by `domain.signals.spike_signal`."""
    import numpy as np

    n, window = dau.shape
    recent = dau[:, SPIKE_BASE_DAYS:] != MISSING
    has = recent.any(axis=1)
    # the latest recorded day of the last 7, as an index into the window
    latest = SPIKE_BASE_DAYS + (recent.shape[1] - 1 - np.argmax(recent[:, ::-1], axis=1))
    rows = np.arange(n)
    value = dau[rows, latest].astype(np.float64)
    offsets = latest[:, None] - np.arange(1, SPIKE_BASE_DAYS + 1)[None, :]
    base = dau[rows[:, None], offsets].astype(np.float64)
    base[base == MISSING] = np.nan
    counted = (~np.isnan(base)).sum(axis=1)
    enough = has & (counted >= SPIKE_NEEDS_DAYS)
    with np.errstate(all="ignore"):
        mid = np.where(enough, np.nanmedian(np.where(enough[:, None], base, 0), axis=1), np.inf)
    ratio = float(thresholds.spike_ratio)
    possible = enough & (value >= ratio * mid - 1) & (value - mid >= thresholds.spike_min - 1)
    return np.flatnonzero(possible).tolist()
