"""One app: its package with lock dates, headroom and suggestions, usage charts (30 or 90
days), the daily-cost chart, change history and bills."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Sparkline, Static

from imtui.domain.calendar import Month
from imtui.domain.editions import ITEMS
from imtui.domain.errors import ImtuiError
from imtui.domain.signals import Thresholds, purge_soon
from imtui.ui import format as fmt
from imtui.ui.widgets.usage_charts import UsageCharts, UsageSeries


class DetailScreen(Screen):
    """One app whole; its halt and reactivate keys hand back to the applications screen."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="detail.back"),
        Binding("h", "halt", "Halt", id="detail.halt"),
        Binding("r", "reactivate", "Reactivate", id="detail.reactivate"),
        Binding("l", "audit", "Audit", id="detail.audit"),
        Binding("t", "window", "30/90 days", id="detail.usage_window"),
    ]
    PERMISSIONS = {"halt": "halt", "reactivate": "reactivate"}
    """Actions this run may be refused (dimmed, and said why when pressed)."""

    def __init__(self, app_id: int) -> None:
        super().__init__()
        self.app_id = app_id
        self.window = 30
        """Days the usage charts show (30 or 90)."""

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail"):
            yield Label(f"App {self.app_id}", classes="dialog-title", id="detail-title", markup=False)
            yield Static("loading…", id="package", markup=False)
            yield Label("Usage and headroom (t: 30 or 90 days)")
            yield Static("", id="headroom", markup=False)
            yield UsageCharts(id="usage-charts")
            yield Label("Daily cost this month")
            yield Sparkline([], id="detail-spark")
            yield Static("", id="detail-cost")
            yield Label("Change history")
            yield DataTable(id="history", cursor_type="row")
            yield Label("Bills")
            yield DataTable(id="detail-bills", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#history", DataTable).add_columns("When", "What", "Who", "State after")
        self.query_one("#detail-bills", DataTable).add_columns("Month", "State", "Item", "Setting", "Days", "Amount")
        self.load()

    def _reactivate_hint(self) -> str:
        """How to take the app back: this screen's reactivate key (as remapped), or who can."""
        if not self.app.may("reactivate"):
            return f"an operator can reactivate it (imtui apps reactivate {self.app_id})"
        keys = [k for k, a in self.active_bindings.items() if a.binding.id == "detail.reactivate"]
        key = self.app.get_key_display(self.active_bindings[keys[0]].binding) if keys else "r"
        return f"{key} reactivates it"

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in ("halt", "reactivate") and not self.app.may(action):
            return None
        return True

    def action_window(self) -> None:
        self.window = 90 if self.window == 30 else 30
        self.load_usage()

    @work(exclusive=True, group="detail-usage")
    async def load_usage(self) -> None:
        sv = self.app.services
        try:
            app = await sv.apps.show(self.app_id)
            days = await sv.usage.series(self.app_id, self.window)
            reviews = await sv.review.review(app_ids=[self.app_id])
        except ImtuiError as exc:
            self.app.notify(exc.message, severity="error")
            return
        from imtui.domain.editions import Package

        package = Package(app.edition, app.live_groups, app.groups_per_user, app.members_per_group, app.history_days)
        self.query_one(UsageCharts).data = UsageSeries(days, package)
        lines = []
        if not reviews:
            lines.append("not active: no headroom")
        for r in reviews:
            head = r.review.headroom
            lines.append(
                f"headroom: {head.use_pct}% of the {head.item} {head.kind} ({head.peak:,} of {head.allowance:,}, last 7 days)"
                if head
                else "headroom: no usage in the last 7 days"
            )
            for s in r.review.suggestions:
                lock = f"; locked until {s.unlocks_on}" if s.unlocks_on else ""
                lines.append(
                    f"suggest {s.item} {fmt.setting(s.frm)} → {fmt.setting(s.to)} "
                    f"({s.monthly_delta:+,.2f}/month): {s.reason}{lock}"
                )
            if r.review.note:
                lines.append(r.review.note)
        self.query_one("#headroom", Static).update("\n".join(fmt.printable(line) for line in lines))

    @work(exclusive=True)
    async def load(self) -> None:
        self.load_usage()
        sv = self.app.services
        tz = sv.tz
        try:
            app = await sv.apps.show(self.app_id)
            history = await sv.apps.history(self.app_id)
            cost = await sv.billing.cost_summary([self.app_id])
            months = await sv.billing.months()
            bills = [await sv.billing.bill(Month.parse(m), app_id=self.app_id) for m in months[:6]]
            bills.insert(0, await sv.billing.bill(None, app_id=self.app_id))
        except ImtuiError as exc:
            self.app.notify(exc.message, severity="error")
            return
        self.current = app
        lines = [
            f"{fmt.printable(app.name)}  ·  account {fmt.printable(app.account)}  ·  "
            f"{fmt.status(app.status, self.app.no_color)}  ·  {app.edition} ({app.billing})",
            f"created {fmt.local_time(app.created_at, tz)}",
        ]
        if app.deactivated_at:
            lines.append(
                f"halted {fmt.local_time(app.deactivated_at, tz)} ({app.halt_reason or 'no reason'}); "
                f"purge {fmt.local_time(app.purge_at, tz)}"
            )
        if app.status == "deactivated" and app.purge_at is not None:
            now = sv.now()
            if purge_soon(app.purge_at, now, Thresholds()):
                left = app.purge_at - now
                hours = int(left.total_seconds() // 3600)
                when = (
                    f"in {left.days} days" if left.days > 1 else f"in {hours} hours" if hours > 1 else "within 2 hours"
                )
                lines.append(
                    f"‼ purge soon: purged at {fmt.local_time(app.purge_at, tz)} ({when}), its data then "
                    f"unrecoverable; {self._reactivate_hint()}"
                )
        for item in ITEMS:
            value = app.edition if item == "edition" else fmt.setting(getattr(app, item))
            lock = f"  🔒 changed this month; unlocks {app.unlock_dates[item]}" if item in app.unlock_dates else ""
            lines.append(f"  {item:<18} {value}{lock}")
        self.query_one("#package", Static).update("\n".join(lines))
        self.query_one("#detail-spark", Sparkline).data = [float(d) for d in cost.daily] or [0.0]
        self.query_one("#detail-cost", Static).update(
            f"month to date {fmt.money(cost.month_to_date)} · projected {fmt.money(cost.projected)} · "
            f"last month {fmt.money(cost.last_month)}"
        )
        table = self.query_one("#history", DataTable)
        table.clear()
        for entry in reversed(history):
            table.add_row(
                fmt.local_time(entry.at, tz),
                entry.kind,
                fmt.plain(entry.actor),
                f"{fmt.status(entry.status, self.app.no_color)} · {fmt.package(entry.package)}",
            )
        bt = self.query_one("#detail-bills", DataTable)
        bt.clear()
        for bill in bills:
            rows = [(ln, acc) for acc in bill.accounts for a in acc.apps for ln in a.lines]
            if not rows:
                bt.add_row(bill.month, bill.state, "nothing billed", "", "", "0.00")
            for ln, _ in rows:
                bt.add_row(bill.month, bill.state, ln.item, ln.setting, str(ln.days), fmt.money(ln.amount))

    def action_back(self) -> None:
        self.dismiss(None)

    def action_halt(self) -> None:
        self.dismiss(("halt", self.app_id))  # the applications screen owns the halt flow

    def action_reactivate(self) -> None:
        self.dismiss(("reactivate", self.app_id))

    def action_audit(self) -> None:
        self.app.open_audit(self.app_id)
