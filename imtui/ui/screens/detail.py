"""One app: its package with lock dates, change history, bills and the daily-cost chart."""

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
from imtui.ui import format as fmt


class DetailScreen(Screen):
    BINDINGS = [
        Binding("escape", "back", "Back", id="detail.back"),
        Binding("h", "halt", "Halt", id="detail.halt"),
        Binding("r", "reactivate", "Reactivate", id="detail.reactivate"),
        Binding("l", "audit", "Audit", id="detail.audit"),
    ]

    def __init__(self, app_id: int) -> None:
        super().__init__()
        self.app_id = app_id

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail"):
            yield Label(f"App {self.app_id}", classes="dialog-title", id="detail-title", markup=False)
            yield Static("loading…", id="package", markup=False)
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

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in ("halt", "reactivate") and not self.app.may(action):
            return None
        return True

    @work(exclusive=True)
    async def load(self) -> None:
        sv = self.app.services
        tz = sv.tz
        try:
            app = await sv.apps.show(self.app_id)
            history = await sv.apps.history(self.app_id)
            cost = await sv.billing.cost_summary([self.app_id])
            months = await sv.billing.issued_months()
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
