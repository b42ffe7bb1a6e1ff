"""Bills: the issued months per account with their lines, and the open month's preview."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Static

from imtui.domain.calendar import Month
from imtui.domain.errors import ImtuiError
from imtui.ui import format as fmt


class BillsScreen(Screen):
    """Issued months per account with their lines, and the open month's preview."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="bills.back"),
        Binding("left,p", "month(1)", "Older month", priority=True, id="bills.older"),
        Binding("right,n", "month(-1)", "Newer month", priority=True, id="bills.newer"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.months: list[str | None] = [None]
        self.index = 0

    def compose(self) -> ComposeResult:
        yield Label("Bills", classes="dialog-title", id="bills-title")
        yield Static("", id="bills-summary")
        yield DataTable(id="bills", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("Account", "App", "Item", "Setting", "Days", "Amount")
        self.load_months()

    @work(exclusive=True, group="bills-months")
    async def load_months(self) -> None:
        try:
            self.months = [None] + await self.app.services.billing.months()
        except ImtuiError as exc:
            self.app.notify(exc.message, severity="error")
        self.load()

    def action_month(self, step: int) -> None:
        self.index = max(0, min(self.index + step, len(self.months) - 1))
        self.load()

    def action_back(self) -> None:
        self.app.pop_screen()

    @work(exclusive=True, group="bills")
    async def load(self) -> None:
        key = self.months[self.index]
        try:
            bill = await self.app.services.billing.bill(Month.parse(key) if key else None)
        except ImtuiError as exc:
            self.app.notify(exc.message, severity="error")
            return
        tz = self.app.services.tz
        if bill.state == "open":
            summary = (
                f"{bill.month} open · month to date {fmt.money(bill.total)} · projected "
                f"{fmt.money(bill.projected_total)} {bill.currency} (usage overage at least)"
            )
        elif bill.state == "draft":
            summary = (
                f"{bill.month} draft (usage may still arrive until the 3rd) · total "
                f"{fmt.money(bill.total)} {bill.currency}"
            )
        else:
            summary = (
                f"{bill.month} issued {fmt.local_time(bill.issued_at, tz)} · total "
                f"{fmt.money(bill.total)} {bill.currency}"
            )
        self.query_one("#bills-summary", Static).update(
            Text(summary + f"   (← or p older · → or n newer; {len(self.months) - 1} finished months)")
        )
        table = self.query_one(DataTable)
        table.clear()
        for acc in bill.accounts:
            table.add_row(fmt.plain(acc.account), "", "account total", "", "", fmt.money(acc.total))
            for app in acc.apps:
                for ln in app.lines:
                    table.add_row(
                        "", str(app.app_id), fmt.item_name(ln.item), ln.setting, str(ln.days), fmt.money(ln.amount)
                    )
        if not bill.accounts:
            table.add_row("", "", "nothing billed", "", "", "0.00")
