"""The applications screen's reads (mixed into `MainScreen`): the fleet's rows first, then, one
after the other, the fleet's cost, the signal count, headroom and every row's cost; what changed
since (polled); the drift look and the signal count as time passes."""

from __future__ import annotations

import gc
from datetime import datetime

from textual import work

from imtui.domain.calendar import local_date
from imtui.domain.errors import ImtuiError
from imtui.services.reconcile import PlatformSilent
from imtui.services.signals import SignalReport
from imtui.ui.fleet_model import FleetModel
from imtui.ui.widgets.app_table import AppTable
from imtui.ui.widgets.cost_panel import CostPanel

DRIFT_SECONDS = 15.0
"""How often the dashboard compares the fleet with the platform (when there is one)."""

SIGNALS_SECONDS = 300.0
"""How old the signal count may grow while nothing changes (some signals come with time alone:
a purge drawing near, an intent pending too long); a change or a new day counts them at once."""

PREPARED_SORTS = ("name", "account")
"""Sorts worked out when the loaded dashboard is idle: text sorts are the slowest, so the first
sort by them is as quick as any other."""


class FleetLoading:
    """Reading the fleet and its figures into the screen's model (`MainScreen` holds the state)."""

    model: FleetModel
    apps_table: AppTable
    counter: int
    """The database's change counter as of the rows shown (-1: not read yet)."""
    last_event: int
    day: str | None
    unreachable_since: datetime | None
    signal_counts: tuple[int, int] | None
    signal_report: SignalReport | None
    _signals_seen: tuple[int, str | None] | None
    _counting: bool
    _count_again: bool
    _heap_frozen: bool

    @work(exclusive=True, group="fleet")
    async def reload(self) -> None:
        """Reads every row (costs follow in a second step, so the first frame comes fast)."""
        snap = await self._read(self.app.services.fleet.snapshot(with_costs=False))
        if snap is not None:
            self._show_rows(snap, self.model.set_rows)
            self.call_after_refresh(self.load_costs)  # rows are painted before costs are computed

    @work(exclusive=True, group="fleet")
    async def load_changes(self) -> None:
        """Only the rows that changed since the last read (by anyone, in any process)."""
        snap = await self._read(self.app.services.fleet.changes(self.last_event))
        if snap is not None:
            self._show_rows(snap, self.model.update_rows)
            self.refresh_costs()
            self.load_headroom()  # changed packages, or usage imported
            self.load_signals()

    async def _read(self, call):
        try:
            return await call
        except ImtuiError as exc:
            self.app.notify(exc.message, severity="error", title="Could not read the fleet")
            return None

    def _prepare_sorts(self, sort_keys: tuple[str, ...]) -> None:
        """The text columns' sort orders, one after each refresh so keystrokes are not held up."""
        if sort_keys:
            self.model.prepare_order(sort_keys[0])
            self.call_after_refresh(self._prepare_sorts, sort_keys[1:])

    def _show_rows(self, snap, apply) -> None:
        table = self.apps_table
        keep = table.cursor_app
        apply(snap.rows)
        self.counter = snap.counter
        self.last_event = snap.last_event
        self.day = local_date(snap.as_of, self.app.services.tz)
        table.refresh_rows(keep_app=keep)
        self.show_summary()

    @work(exclusive=True, group="fleet-costs")
    async def load_costs(self) -> None:
        """The fleet's month-to-date and projected cost first (the panel this product is named
        for), then the signal count (what needs someone now), then headroom (the review's first
        question), then every row's cost: one after the other, so each comes as early as it can
        (run beside each other they held each other up: they share the CPU)."""
        await self._costs_fleet_now()
        await self._count_signals()
        await self._headroom_now()
        costs = await self._read(self.app.services.fleet.costs())
        if costs is not None:
            self.model.set_costs(costs)
            table = self.apps_table
            table.refresh_rows(keep_app=table.cursor_app)
            self.refresh_costs("cursor", "marked")
        self.call_after_refresh(self.model.index)  # the text filter's index, while nothing else runs
        self.call_after_refresh(self._prepare_sorts, PREPARED_SORTS)
        if not self._heap_frozen:
            # The fleet just read is most of this process's objects and lives as long as it:
            # kept out of the cyclic collector, whose full passes over it would otherwise hold up
            # a keystroke at scale (bench/README.md). Rows are freed by reference counting.
            gc.freeze()
            self._heap_frozen = True

    @work(exclusive=True, group="fleet-headroom")
    async def load_headroom(self) -> None:
        """Every active app's headroom again (packages changed, or usage was imported)."""
        await self._headroom_now()

    async def _headroom_now(self) -> None:
        """Every active app's headroom (its highest use of a limit or quota, last 7 days)."""
        headroom = await self._read(self.app.services.fleet.headroom())
        if headroom is not None:
            self.model.set_headroom(headroom)
            table = self.apps_table
            table.headroom_loaded = True
            table.refresh_rows(keep_app=table.cursor_app)
            self.show_summary()

    @work(exclusive=True, group="drift")
    async def load_drift(self) -> None:
        """Settles what dead processes left unsettled, then counts the apps that drift
        (`drifted_apps` does both; an error leaves it to the next look). When the platform does
        not answer, the last figure is kept and the summary says since when."""
        services = self.app.services
        try:
            drifted = await services.reconcile.drifted_apps()
        except PlatformSilent:
            if self.unreachable_since is None:
                self.unreachable_since = services.now()
                self.show_summary()
            return
        if self.unreachable_since is not None:
            self.unreachable_since = None
            self.show_summary()
        if drifted != self.model.drifted:
            self.model.drifted = drifted
            if self.model.drift_only:
                self._reapply()
            else:
                self.show_summary()

    @work(group="signal-count")
    async def load_signals(self) -> None:
        """Counts the signals again for the summary line (after a change, or as time passes)."""
        await self._count_signals()

    async def _count_signals(self) -> None:
        """Counts the signals (an error leaves the last count). A count asked for while one runs
        is made once that one is done: never two at once (each takes a second or more and
        ~100 MiB at 100,000 apps), and none missed."""
        if self._counting:
            self._count_again = True
            return
        self._counting = True
        try:
            while True:
                self._count_again = False
                seen = self.signals_point()
                try:
                    report = await self.app.services.signals.report()
                except ImtuiError:
                    report = None
                if report is not None:
                    self.counted(report, seen)
                if not self._count_again:
                    return
        finally:
            self._counting = False

    def signals_point(self) -> tuple[int, str | None]:
        """What signals read now are read at: the change counter and the day."""
        return self.counter, self.day

    def counted(self, report: SignalReport, seen: tuple[int, str | None]) -> None:
        """Signals read (here or by the Signals screen) at `seen`: the summary line counts them."""
        self.signal_report, self._signals_seen = report, seen
        self.show_signal_count(report.signals)

    def fresh_signals(self) -> SignalReport | None:
        """The signals last counted if nothing changed since (no change by anyone, the same day,
        less than `SIGNALS_SECONDS` ago): what the Signals screen shows without reading again."""
        report = self.signal_report
        if report is None or self._counting or self._signals_seen != (self.counter, self.day):
            return None
        if (self.app.services.now() - report.at).total_seconds() >= SIGNALS_SECONDS:
            return None
        return report

    def show_signal_count(self, signals) -> None:
        critical = sum(1 for s in signals if s.severity == "critical")
        if (critical, len(signals)) != self.signal_counts:
            self.signal_counts = (critical, len(signals))
            self.show_summary()

    async def poll(self) -> None:
        """Cheap check for changes by anyone (a change counter) and for a new day."""
        if self.counter < 0:  # the first read is still under way: it is what "changed" is measured from
            return
        try:
            counter = await self.app.services.fleet.change_counter()
        except ImtuiError:
            return
        today = local_date(self.app.services.now(), self.app.services.tz)
        if today != self.day:  # a new day (or month): every month-to-date figure moves, not the rows
            self.day = today
            self.load_costs()  # the signals with them
            if counter != self.counter:
                self.load_changes()
        elif counter != self.counter:
            self.load_changes()
        else:
            self.refresh_costs("cursor", "fleet")  # cheap: keeps "figures as of" fresh
            report = self.signal_report
            if report is not None and (self.app.services.now() - report.at).total_seconds() >= SIGNALS_SECONDS:
                self.load_signals()  # signals that come with time alone (a purge near, an intent stuck)

    def tick(self) -> None:
        self.query_one(CostPanel).now = self.app.services.now()
