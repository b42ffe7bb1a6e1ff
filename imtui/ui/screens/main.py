"""The applications screen: the fleet table, its filter and marks, and the live cost panel."""

from __future__ import annotations

import gc
import re
from datetime import datetime

from rich.cells import cell_len
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from imtui.domain.calendar import local_date
from imtui.domain.errors import ImtuiError
from imtui.services.fleet import FleetRow
from imtui.services.models import BulkResult, result_kind
from imtui.services.reconcile import PlatformSilent
from imtui.services.signals import SignalReport
from imtui.ui import format as fmt
from imtui.ui.fleet_model import EDITION_FILTERS, SORT_KEYS, STATUS_FILTERS, USAGE_FILTERS, FleetModel
from imtui.ui.widgets.app_table import AppTable
from imtui.ui.widgets.cost_panel import CostFigures, CostPanel

DRIFT_SECONDS = 15.0
"""How often the dashboard compares the fleet with the platform (when there is one)."""

SIGNALS_SECONDS = 300.0
"""How old the signal count may grow while nothing changes (some signals come with time alone:
a purge drawing near, an intent pending too long); a change or a new day counts them at once."""

WIDE = 170
"""From this width on, the cost panel sits beside the table instead of below it."""

KEY_HINT = re.compile(r" \[.\]$")


def fit_summary(parts: list[str | tuple[str, str | None]], width: int) -> str:
    """The summary line on one line of `width` if it can be, shortened step by step: every part
    in full; without the parts whose short wording is None (a filter at its default); also
    without key hints (the footer and help list the keys); every part in its short wording."""
    kept = [p if isinstance(p, str) else p[0] for p in parts if isinstance(p, str) or p[1]]
    short = [p if isinstance(p, str) else p[1] for p in parts if isinstance(p, str) or p[1]]
    tries = (
        [p if isinstance(p, str) else p[0] for p in parts],
        kept,
        [KEY_HINT.sub("", p) for p in kept],
    )
    for words in tries:
        if cell_len(text := " · ".join(words)) <= width:
            return text
    return " · ".join(KEY_HINT.sub("", p) for p in short)


PREPARED_SORTS = ("name", "account")
"""Sorts worked out when the loaded dashboard is idle: text sorts are the slowest, so the first
sort by them is as quick as any other."""

#: Actions that change something, by the permission each needs: dimmed and disabled in a
#: read-only run or for a user whose role does not allow them.
CHANGING_ACTIONS = {
    "upgrade": "upgrade",
    "modify": "modify",
    "halt": "halt",
    "reactivate": "reactivate",
    "undo_halt": "reactivate",
}


class MainScreen(Screen):
    """Applications. Targets of an action are the marked apps, or the app under the cursor."""

    PERMISSIONS = CHANGING_ACTIONS

    BINDINGS = [
        Binding("slash", "filter", "Filter", id="main.filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="main.clear_filter"),
        Binding("space", "toggle_mark", "Mark", id="main.mark"),
        Binding("v", "mark_range", "Mark range", show=False, id="main.mark_range"),
        Binding("a", "mark_all", "Mark all", show=False, id="main.mark_all"),
        Binding("n", "clear_marks", "Unmark all", show=False, id="main.clear_marks"),
        Binding("asterisk", "marked_only", "Marked only", show=False, id="main.marked_only"),
        Binding("s", "cycle_status", "Status", show=False, id="main.status_filter"),
        Binding("e", "cycle_edition", "Edition", show=False, id="main.edition_filter"),
        Binding("f", "cycle_usage", "Usage", show=False, id="main.usage_filter"),
        Binding("D", "drift_only", "Drift only", show=False, id="main.drift_only"),
        Binding("R", "review", "Review", id="main.review"),
        Binding("o", "cycle_sort", "Sort", show=False, id="main.sort"),
        Binding("O", "reverse_sort", "Reverse sort", show=False, id="main.reverse_sort"),
        Binding("u", "upgrade", "Upgrade", id="main.upgrade"),
        Binding("m", "modify", "Modify", id="main.modify"),
        Binding("h", "halt", "Halt", id="main.halt"),
        Binding("r", "reactivate", "Reactivate", show=False, id="main.reactivate"),
        Binding("z", "undo_halt", "Undo halt", show=False, id="main.undo_halt"),
        Binding("enter", "detail", "Detail", id="main.detail"),
        Binding("b", "bills", "Bills", id="main.bills"),
        Binding("l", "audit", "Audit", id="main.audit"),
        Binding("A", "accounts", "Accounts", id="main.accounts"),
        Binding("exclamation_mark", "signals", "Signals", id="main.signals"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.model = FleetModel()
        self.counter = -1
        self.last_event = 0
        self.day: str | None = None
        self.last_halted: list[int] = []
        self._cost_parts: dict = {}
        self.anchor: int | None = None
        self.unreachable_since: datetime | None = None
        """When the platform stopped answering the drift look (None while it answers)."""
        self.signal_counts: tuple[int, int] | None = None
        """How many signals there are now, critical ones and all (None: not counted yet)."""
        self.signal_report: SignalReport | None = None
        """The signals last counted, for the Signals screen while nothing changed since."""
        self._signals_seen: tuple[int, str | None] | None = None
        """The change counter and day the signals were last counted at."""
        self._counting = False
        self._count_again = False
        self._heap_frozen = False

    def compose(self) -> ComposeResult:
        with Vertical(id="fleet"):
            yield Static("loading the fleet…", id="summary", markup=False)
            yield Static("", id="progress")
            yield Input(placeholder="filter by ID, name or account; enter keeps it, escape clears it", id="filter")
            yield AppTable(self.model, id="apps")
        yield CostPanel(id="cost-panel")
        yield Footer()

    def on_resize(self, event) -> None:
        self.set_class(event.size.width < WIDE, "narrow")
        self.call_after_refresh(self.show_summary)  # its wording fits the new width

    def on_mount(self) -> None:
        self.set_class(self.app.size.width < WIDE, "narrow")
        self.query_one("#filter").display = False
        self.query_one("#progress").display = False
        self.query_one(AppTable).focus()
        self.query_one(AppTable).plain = self.app.no_color
        early = self.app.services.fleet.take_preloaded()
        if early is None:
            self.reload()
        else:  # read just before the UI loaded: the first frame shows the rows
            self._show_rows(early, self.model.set_rows)
            self.call_after_refresh(self.load_costs)
        self.set_interval(self.app.settings.refresh_seconds, self.poll)
        self.set_interval(1.0, self.tick)
        self.set_interval(DRIFT_SECONDS, self.load_drift)
        self.call_after_refresh(self.load_drift)

    # --- loading ------------------------------------------------------------------------------------

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
        table = self.query_one(AppTable)
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
            table = self.query_one(AppTable)
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
            table = self.query_one(AppTable)
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

    def action_drift_only(self) -> None:
        """Only the apps the platform runs otherwise than their status says (`imtui reconcile`)."""
        if self.model.drifted is None and not self.model.drift_only:
            self.app.notify("drift is known only with a platform apart from imtui (--control-plane URL)")
            return
        self.model.drift_only = not self.model.drift_only
        self._reapply()

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

    def refresh_costs(self, *scopes: str) -> None:
        """Recomputes the cost panel's columns: `cursor`, `marked`, `fleet` (all by default)."""
        for scope in scopes or ("cursor", "marked", "fleet"):
            getattr(self, f"_costs_{scope}")()

    @work(exclusive=True, group="costs-cursor")
    async def _costs_cursor(self) -> None:
        app_id = self.query_one(AppTable).cursor_app
        summary = await self._summary([app_id]) if app_id is not None else None
        self._show_costs(cursor_app=app_id, cursor=summary)

    @work(exclusive=True, group="costs-marked")
    async def _costs_marked(self) -> None:
        marked = sorted(self.model.marked)
        self._show_costs(marked=await self._summary(marked) if marked else None)

    @work(exclusive=True, group="costs-fleet")
    async def _costs_fleet(self) -> None:
        await self._costs_fleet_now()

    async def _costs_fleet_now(self) -> None:
        shown = self._cost_parts.get("fleet")
        if shown is None or shown.month != (self.day or "")[:7]:
            # a new month (or the first figures): this month's come before last month's
            quick = await self._summary(None, last_month=False)
            if quick is not None:
                self._show_costs(fleet=quick)
        self._show_costs(fleet=await self._summary(None))

    async def _summary(self, app_ids, last_month: bool = True):
        try:
            return await self.app.services.billing.cost_summary(app_ids, last_month)
        except ImtuiError as exc:
            self.app.notify(exc.message, severity="error", title="Could not compute costs")
            return None

    def _show_costs(self, **parts) -> None:
        self._cost_parts.update(parts)
        p = self._cost_parts
        self.query_one(CostPanel).figures = CostFigures(
            p.get("cursor_app"),
            p.get("cursor"),
            p.get("marked"),
            p.get("fleet"),
            self.app.services.tz,
        )

    def show_summary(self) -> None:
        m = self.model
        hidden = m.hidden_marked()
        marked = f"{len(m.marked)} marked"
        parts: list[str | tuple[str, str | None]] = [
            f"{len(m.rows)} apps",
            fmt.signal_count(*self.signal_counts) if self.signal_counts is not None else fmt.SIGNALS_COUNTING,
            f"{len(m.view)} shown",
            (f"{marked} ({hidden} hidden by filter)", f"{marked} ({hidden} hidden)") if hidden else marked,
        ]
        if m.text:
            parts.append(f"filter “{m.text}”")
        if m.account is not None:
            parts.append(f"account {m.account} [esc]")
        for word, value, key in (("status", m.status, "s"), ("edition", m.edition, "e"), ("usage", m.usage, "f")):
            parts.append((f"{word} {value or 'any'} [{key}]", f"{word} {value} [{key}]" if value else None))
        parts.append(f"sort {m.sort_key}{' ▼' if m.sort_reverse else ' ▲'} [o]")
        if m.marked_only:
            parts.append("marked only [*]")
        if self.unreachable_since is not None:  # the drift is not known now: say why, not nothing
            since = fmt.local_time(self.unreachable_since, self.app.services.tz, "HH:mm")
            parts.append((f"platform unreachable since {since} [D]", f"platform unreachable since {since}"))
        elif m.drifted is not None:
            parts.append(f"{len(m.drifted)} drifted{' (only these shown)' if m.drift_only else ''} [D]")
        if self.app.settings.read_only:
            parts.append("READ-ONLY")
        summary = self.query_one("#summary", Static)
        summary.update(fit_summary(parts, summary.size.width or self.app.size.width - 2))

    def show_progress(self, text: str) -> None:
        bar = self.query_one("#progress", Static)
        bar.update(text)
        bar.display = bool(text)

    def _reapply(self) -> None:
        table = self.query_one(AppTable)
        keep = table.cursor_app
        self.model.apply()
        table.refresh_rows(keep_app=keep)
        self.show_summary()

    # --- filter, sort, marks ----------------------------------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    @on(Input.Changed, "#filter")
    def filter_changed(self, event: Input.Changed) -> None:
        self.model.text = event.value
        table = self.query_one(AppTable)
        self.model.apply()
        table.refresh_rows()
        table.cursor = 0
        self.show_summary()

    @on(Input.Submitted, "#filter")
    def filter_done(self) -> None:
        self.query_one(AppTable).focus()
        if not self.query_one("#filter", Input).value:
            self.query_one("#filter").display = False

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if box.value:
            box.value = ""
        box.display = False
        if self.model.account is not None:
            self.model.account = None
            self._reapply()
        self.query_one(AppTable).focus()

    def show_account(self, account: str | None) -> None:
        """Only this account's apps (None: the whole fleet), other filters cleared."""
        self.model.text, self.model.status, self.model.edition, self.model.usage = "", None, None, None
        self.model.marked_only = False
        self.model.account = account
        box = self.query_one("#filter", Input)
        box.value = ""
        box.display = False
        self._reapply()
        table = self.query_one(AppTable)
        table.cursor = 0
        table.focus()

    def action_toggle_mark(self) -> None:
        table = self.query_one(AppTable)
        app_id = table.cursor_app
        if app_id is None:
            return
        self.model.toggle(app_id)
        self.anchor = table.cursor
        table.refresh()
        table.action_cursor(1)
        self._marks_changed()

    def action_mark_range(self) -> None:
        table = self.query_one(AppTable)
        self.model.mark_range(self.anchor if self.anchor is not None else table.cursor, table.cursor)
        table.refresh()
        self._marks_changed()

    def action_mark_all(self) -> None:
        self.model.mark_all_filtered()
        self.query_one(AppTable).refresh()
        self._marks_changed()

    def action_clear_marks(self) -> None:
        self.model.clear_marks()
        self.query_one(AppTable).refresh_rows(keep_app=self.query_one(AppTable).cursor_app)
        self._marks_changed()

    def action_marked_only(self) -> None:
        self.model.marked_only = not self.model.marked_only
        self._reapply()

    def _marks_changed(self) -> None:
        self.show_summary()
        self.refresh_costs("marked")

    def action_cycle_status(self) -> None:
        self.model.status = self.model.cycle(STATUS_FILTERS, self.model.status)
        self._reapply()

    def action_cycle_usage(self) -> None:
        self.model.usage = self.model.cycle(tuple(USAGE_FILTERS), self.model.usage)
        self._reapply()

    def action_review(self) -> None:
        """Right-sizing suggestions of the marked apps, or else of the apps the filter shows."""
        from imtui.ui.screens.review import ReviewScreen

        rows = self.model.marked_rows() or [self.model.rows[i] for i in self.model.view]
        if rows:
            self.app.push_screen(ReviewScreen([r.app_id for r in rows]), self._review_accepted)

    def _review_accepted(self, accepted) -> None:
        """Each accepted request opens the modify form filled in, one after the other."""
        if not accepted:
            return
        (request, app_ids), *rest = accepted
        targets = [row for a in app_ids if (row := self.model.row_of(a)) is not None]

        def next_form(_=None) -> None:
            self._review_accepted(rest)

        self.open_change_form("modify", targets, request, then=next_form if rest else None)

    def action_cycle_edition(self) -> None:
        self.model.edition = self.model.cycle(EDITION_FILTERS, self.model.edition)
        self._reapply()

    def action_cycle_sort(self) -> None:
        keys = tuple(SORT_KEYS)
        self.model.sort_key = keys[(keys.index(self.model.sort_key) + 1) % len(keys)]
        self._reapply()

    def action_reverse_sort(self) -> None:
        self.model.sort_reverse = not self.model.sort_reverse
        self._reapply()

    @on(AppTable.SortRequested)
    def sort_requested(self, event: AppTable.SortRequested) -> None:
        if self.model.sort_key == event.key:
            self.model.sort_reverse = not self.model.sort_reverse
        else:
            self.model.sort_key, self.model.sort_reverse = event.key, False
        self._reapply()

    @on(AppTable.CursorMoved)
    def cursor_moved(self) -> None:
        self.refresh_costs("cursor")

    # --- actions on apps ----------------------------------------------------------------------------

    def targets(self) -> list[FleetRow]:
        """The marked apps, or else the app under the cursor."""
        if self.model.marked:
            return self.model.marked_rows()
        row = self.model.row(self.query_one(AppTable).cursor)
        return [row] if row else []

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in CHANGING_ACTIONS and not self.app.may(CHANGING_ACTIONS[action]):
            return None
        if action == "undo_halt" and not self.last_halted:
            return None
        return True

    def action_upgrade(self) -> None:
        self.open_change_form("upgrade", self.targets())

    def action_modify(self) -> None:
        self.open_change_form("modify", self.targets())

    def action_halt(self) -> None:
        self.start_halt(self.targets(), hidden_marked=self.model.hidden_marked())

    def action_reactivate(self) -> None:
        self.reactivate([r.app_id for r in self.targets()])

    def action_undo_halt(self) -> None:
        if self.last_halted:
            self.reactivate(self.last_halted)
            self.last_halted = []

    def action_detail(self) -> None:
        from imtui.ui.screens.detail import DetailScreen

        app_id = self.query_one(AppTable).cursor_app
        if app_id is not None:
            self.app.push_screen(DetailScreen(app_id), self._detail_closed)

    def _detail_closed(self, request: tuple[str, int] | None) -> None:
        """The detail screen hands its halt and reactivate keys back here."""
        if request is None:
            return
        action, app_id = request
        row = self.model.row_of(app_id)
        if row is None:
            return
        if action == "halt":
            self.start_halt([row])
        else:
            self.reactivate([app_id])

    def action_bills(self) -> None:
        self.app.open_bills()

    def action_audit(self) -> None:
        self.app.open_audit()

    # --- accounts and signals: each ends in what to show or do here ---------------------------------

    def action_accounts(self) -> None:
        from imtui.ui.screens.accounts import AccountsScreen

        def shown(account: str | None) -> None:
            if account is not None:
                self.show_account(account or None)

        self.app.push_screen(AccountsScreen(), shown)

    def action_signals(self) -> None:
        from imtui.ui.screens.signals import SignalsScreen

        self.app.push_screen(SignalsScreen(), self.follow_signal)

    def follow_signal(self, request: tuple[str, object] | None) -> None:
        """Goes where a signal points, or opens its remedy (the usual forms and checks apply)."""
        if request is None:
            return
        what, subject = request
        if what == "app" and isinstance(subject, int) and not self.focus_app(subject):
            self.app.notify(f"app {subject} is not in the fleet any more", severity="warning")
        elif what == "account":
            self.show_account(subject if isinstance(subject, str) else None)
        elif what == "reactivate" and isinstance(subject, int):
            self.focus_app(subject)
            self.confirm_reactivate([subject])
        elif what == "modify" and isinstance(subject, int):
            self.focus_app(subject)
            self.raise_limit(subject)
        elif what == "review":
            self.review_savings(subject if isinstance(subject, str) else None)

    @work(group="operations")
    async def raise_limit(self, app_id: int) -> None:
        """The modify form of an app at a limit, filled with its raise suggestions."""
        from imtui.ui.screens.review import request_of

        row = self.model.row_of(app_id)
        if row is None or self.app.refuse_unless_allowed("modify"):
            return
        try:
            reviews = await self.app.services.review.review(app_ids=[app_id])
        except ImtuiError as exc:
            self.app.notify(exc.message, severity="error", title="Could not review")
            return
        raises = [s for r in reviews for s in r.review.suggestions if s.monthly_delta > 0]
        if not raises:
            self.app.notify(f"app {app_id} has no raise to suggest now (see its detail)", title="Modify")
            return
        self.open_change_form("modify", [row], request_of(raises))

    def review_savings(self, account: str | None) -> None:
        """The review of an account's (None: the fleet's) lowering suggestions."""
        from imtui.ui.screens.review import ReviewScreen

        ids = [r.app_id for r in self.model.rows if r.status == "active" and (account is None or r.account == account)]
        if ids:
            self.app.push_screen(ReviewScreen(ids, lowering_only=True), self._review_accepted)

    # --- the halt flow: confirm, halt, report, offer the way back --------------------------------

    def start_halt(self, targets: list[FleetRow], hidden_marked: int = 0) -> None:
        """Asks to confirm halting exactly these apps (focus on Cancel)."""
        from imtui.ui.screens.halt import HaltDialog

        if self.app.refuse_unless_allowed("halt") or not targets:
            return
        self.app.push_screen(HaltDialog(targets, hidden_marked), self._halt_confirmed)

    def _halt_confirmed(self, result: tuple[list[int], str] | None) -> None:
        if result:
            app_ids, reason = result
            self.halt(app_ids, reason)

    @work(group="operations")
    async def halt(self, app_ids: list[int], reason: str) -> None:
        lifecycle = self.app.services.lifecycle
        results = await self._bulk("Halting", lambda progress: lifecycle.halt(app_ids, reason, progress))
        done = [r.app_id for r in results or () if r.ok]
        if done:
            self.last_halted = done
            self.refresh_bindings()
            self.app.notify(
                f"halted {len(done)} app{'s' if len(done) > 1 else ''}: "
                f"{', '.join(map(str, done[:5]))}{'…' if len(done) > 5 else ''}. "
                "Press z to reactivate them.",
                title="Halted",
                timeout=30,
            )

    def confirm_reactivate(self, app_ids: list[int]) -> None:
        """Asks to confirm reactivating these apps (a signal's remedy: the list it was chosen
        from is not the app itself), then reactivates them."""
        from imtui.ui.screens.reactivate import ReactivateDialog

        targets = [row for a in app_ids if (row := self.model.row_of(a)) is not None]
        if self.app.refuse_unless_allowed("reactivate") or not targets:
            return

        def confirmed(ids: list[int] | None) -> None:
            if ids:
                self.reactivate(ids)

        self.app.push_screen(ReactivateDialog(targets), confirmed)

    @work(group="operations")
    async def reactivate(self, app_ids: list[int]) -> None:
        if self.app.refuse_unless_allowed("reactivate") or not app_ids:
            return
        lifecycle = self.app.services.lifecycle
        results = await self._bulk("Reactivating", lambda progress: lifecycle.reactivate(app_ids, progress))
        if results and all(r.ok for r in results):
            n = len(results)
            self.app.notify(f"reactivated {n} app{'s' if n > 1 else ''}", title="Reactivated")

    async def _bulk(self, verb: str, call) -> list[BulkResult] | None:
        """Runs a bulk operation showing progress, then the result list (or a notice for one)."""

        def progress(done: int, total: int) -> None:
            self.show_progress(f"{verb} {done}/{total}…" if done < total else "")

        self.show_progress(f"{verb}…")
        try:
            results = await call(progress)
        except ImtuiError as exc:
            kind = result_kind(exc)  # the platform did not answer: "not done", not refused
            self.app.notify(
                exc.message, severity="error", title=f"{verb} {kind}" if kind == "refused" else f"{verb}: {kind}"
            )
            return None
        finally:
            self.show_progress("")
        self.show_results(verb, results)
        if any(r.outcome == "not done" for r in results):
            self.load_drift()  # the summary says since when at once
        return results

    def show_results(self, verb: str, results: list[BulkResult], list_refusals: bool = False, then=None) -> None:
        """After an operation: reload what changed; list every app's outcome (also one refused
        app's, with `list_refusals`), or say it in one notice. `then` runs after that."""
        from imtui.ui.screens.results import ResultsScreen

        self.load_changes()
        failed = [r for r in results if not r.ok]
        if len(results) > 1 or (failed and list_refusals):
            kinds = [r.outcome for r in failed]
            title = f"{verb}: {len(results) - len(failed)} done, {kinds.count('refused')} refused" + "".join(
                f", {kinds.count(k)} {k}" for k in ("not done", "not known yet") if k in kinds
            )
            self.app.push_screen(ResultsScreen(title, results), (lambda _: then()) if then else None)
            return
        elif failed:
            self.app.notify(
                failed[0].error or "refused",
                severity="error",
                title=f"{verb} refused" if failed[0].outcome == "refused" else f"{verb}: {failed[0].outcome}",
            )
        elif results and list_refusals:  # one app changed: say so (or that nothing changed)
            self.app.notify(f"app {results[0].app_id}: {results[0].error or 'done'}", title=verb.capitalize())
        if then is not None:
            then()

    # --- upgrade and modify ------------------------------------------------------------------------

    def open_change_form(self, kind: str, targets: list[FleetRow], request=None, then=None) -> None:
        """The upgrade or modify form for the targets (filled in with `request` when given);
        `then` runs once it is closed."""
        from imtui.ui.screens.change_form import ChangeForm

        if self.app.refuse_unless_allowed(kind) or not targets:
            return

        def done(results: list[BulkResult] | None) -> None:
            if results is not None:
                self.show_results(kind, results, list_refusals=True, then=then)
            elif then is not None:
                then()

        self.app.push_screen(ChangeForm(kind, targets, request), done)

    def focus_app(self, app_id: int) -> bool:
        """Puts the cursor on an app, clearing filters that hide it."""
        table = self.query_one(AppTable)
        if self.model.find(app_id) is None:
            self.model.text, self.model.status, self.model.edition = "", None, None
            self.model.marked_only, self.model.account = False, None
            self.query_one("#filter", Input).value = ""
            self._reapply()
        found = self.model.find(app_id)
        if found is None:
            return False
        table.cursor = found
        table.focus()
        return True
