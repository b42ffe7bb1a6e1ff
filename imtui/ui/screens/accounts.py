"""Accounts: every account (and the fleet) with this month's figures, last month's bill and its
budget's state; `enter` shows an account's apps, `b` sets, changes or (an empty amount) removes
its budget, as `imtui budgets set|remove` does (tui.md, signals.md §1)."""

from __future__ import annotations

from decimal import Decimal

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Input, Label, Static

from imtui.domain.budgets import subject
from imtui.domain.errors import ImtuiError
from imtui.services.budgets import AccountFigures
from imtui.ui import format as fmt
from imtui.ui.equivalent import CommandBox, budget_command
from imtui.ui.widgets.fitted_table import FittedTable

FLEET_LABEL = "(fleet)"
COLUMNS = ("Account", "Apps", "Month to date", "Projected", "Last month", "Budget", "Used", "State")
SORTS = ("account", "apps", "month_to_date", "projected", "last_month", "budget", "used", "state")
"""The columns `o` sorts by, in turn (the table's columns, left to right)."""
STATE_ORDER = {None: -1, "ok": 0, "forecast": 1, "warning": 2, "over": 3}
"""A budget's state by severity (what sorting by state orders by)."""


def _sort_value(row: AccountFigures, key: str):
    """What a row sorts by (missing figures first)."""
    if key == "account":
        return row.account or ""
    if key == "budget":
        return row.budget.amount if row.budget else Decimal(-1)
    if key == "used":
        return row.budget.used_pct if row.budget else -1
    if key == "state":
        return STATE_ORDER.get(row.budget.state if row.budget else None, -1)
    value = getattr(row, key)
    return Decimal(-1) if value is None else value


class AccountsScreen(Screen):
    """One row per account, the fleet first; dismisses with the account whose apps to show
    (`enter`: the name, or "" for the whole fleet), or None."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="accounts.back"),
        Binding("enter", "show_apps", "Show its apps", priority=True, id="accounts.show_apps"),
        Binding(
            "b",
            "budget",
            "Budget",
            tooltip="set or change the budget of the account (or the fleet); an empty amount removes it",
            id="accounts.budget",
        ),
        Binding("o", "cycle_sort", "Sort", tooltip="sort by the next column", id="accounts.sort"),
        Binding("O", "reverse_sort", "Reverse sort", show=False, id="accounts.reverse_sort"),
        Binding("g", "reload", "Refresh", show=False, tooltip="read the figures again", id="accounts.reload"),
    ]
    PERMISSIONS = {"budget": "budget"}
    """Actions this run may be refused (dimmed, and said why when pressed)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[AccountFigures] = []
        self.sort_key = "account"
        self.sort_reverse = False

    def compose(self) -> ComposeResult:
        yield Label("Accounts: this month's costs and budgets", classes="dialog-title")
        yield Static("reading the accounts…", id="accounts-summary", markup=False)
        yield FittedTable(*COLUMNS, id="accounts", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(FittedTable)
        table.refill([])
        table.focus()
        self.load()

    def action_reload(self) -> None:
        self.load(self._key())

    @work(exclusive=True, group="accounts")
    async def load(self, keep: str | None = None) -> None:
        try:
            rows = await self.app.services.budgets.accounts()
        except ImtuiError as exc:
            self.query_one("#accounts-summary", Static).update(f"could not read the accounts: {exc.message}")
            self.app.notify(exc.message, severity="error", title="Could not read the accounts")
            return
        self.rows = rows
        self._show(keep)

    def _summary(self) -> str:
        budgets = [r.budget for r in self.rows if r.budget]
        over = sum(1 for b in budgets if b.state == "over")
        order = f"sort {self.sort_key}{' ▼' if self.sort_reverse else ' ▲'} [o]"
        if not self.app.may("budget"):
            keys = "read-only: budgets cannot be set here"
        else:
            keys = "b sets or removes a budget"
        n, m = len(self.rows) - 1, len(budgets)
        return f"{n} account{'s' * (n != 1)} · {m} budget{'s' * (m != 1)}, {over} over · {order} · {keys}"

    def _ordered(self) -> list[AccountFigures]:
        """The fleet first, then the accounts in the chosen order (ties by name)."""
        fleet, accounts = self.rows[:1], sorted(self.rows[1:], key=lambda r: r.account or "")
        return fleet + sorted(accounts, key=lambda r: _sort_value(r, self.sort_key), reverse=self.sort_reverse)

    def _show(self, keep: str | None = None) -> None:
        self.query_one("#accounts-summary", Static).update(self._summary())
        table = self.query_one(FittedTable)
        table.refill(
            (
                [
                    fmt.plain(row.account) if row.account is not None else FLEET_LABEL,
                    Text(f"{row.apps:,}", justify="right"),
                    Text(fmt.money(row.month_to_date), justify="right"),
                    Text(fmt.money(row.projected), justify="right"),
                    Text(fmt.money(row.last_month), justify="right"),
                    Text(fmt.money(row.budget.amount) if row.budget else "-", justify="right"),
                    Text(f"{row.budget.used_pct}%" if row.budget else "-", justify="right"),
                    fmt.budget_state(row.budget.state if row.budget else None),
                ],
                row.account if row.account is not None else "",
            )
            for row in self._ordered()
        )
        if keep is not None:
            try:
                table.move_cursor(row=table.get_row_index(keep))
            except KeyError:  # pragma: no cover - an account is never deleted
                pass

    def current(self) -> AccountFigures | None:
        table = self.query_one(DataTable)
        ordered = self._ordered()
        return ordered[table.cursor_row] if 0 <= table.cursor_row < len(ordered) else None

    def action_cycle_sort(self) -> None:
        self.sort_key = SORTS[(SORTS.index(self.sort_key) + 1) % len(SORTS)]
        self._show(self._key())

    def action_reverse_sort(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self._show(self._key())

    @on(DataTable.HeaderSelected)
    def header_selected(self, event: DataTable.HeaderSelected) -> None:
        """A click on a column's header sorts by it (again: the other way)."""
        key = SORTS[event.column_index]
        if key == self.sort_key:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_key, self.sort_reverse = key, False
        self._show(self._key())

    def _key(self) -> str | None:
        row = self.current()
        return None if row is None else (row.account or "")

    def action_show_apps(self) -> None:
        row = self.current()
        if row is not None:
            self.dismiss(row.account or "")

    def action_back(self) -> None:
        self.dismiss(None)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "budget" and not self.app.may("budget"):
            return None  # shown dimmed: a viewer or a read-only run cannot set budgets
        return True

    def action_budget(self) -> None:
        row = self.current()
        if row is None or self.app.refuse_unless_allowed("budget"):
            return

        def chosen(answer: tuple[str, str] | None) -> None:
            if answer is not None:
                self.save_budget(row.account, *answer)

        self.app.push_screen(BudgetDialog(row), chosen)

    @work(exclusive=True, group="accounts-budget")
    async def save_budget(self, account: str | None, amount: str, warn_at: str) -> None:
        """Sets (or, with no amount, removes) the budget through the service, which checks the
        values and the role and audits it; a refusal is one line and changes nothing."""
        budgets = self.app.services.budgets
        try:
            if amount.strip():
                change = await budgets.set(account, amount.strip(), warn_at.strip() or None)
            else:
                change = await budgets.remove(account)
        except ImtuiError as exc:
            self.app.notify(exc.message, severity="error", title="Budget not changed")
            return
        if not change.changed:
            what = "has no budget" if change.after is None else "already has that budget"
            self.app.notify(f"{subject(account)} {what}; nothing changed", title="Budget")
        elif change.after is None:
            self.app.notify(f"removed the budget of {subject(account)}", title="Budget")
        else:
            self.app.notify(
                f"the budget of {subject(account)} is {fmt.money(change.after.amount)} a month "
                f"(warning at {change.after.warn_at}%)",
                title="Budget",
            )
        self.load(account or "")


class BudgetDialog(ModalScreen):
    """Asks for a budget's amount and warning threshold; dismisses with both texts (an empty
    amount removes the budget), or None when cancelled. The service checks them."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="budget.cancel")]

    def __init__(self, row: AccountFigures) -> None:
        super().__init__()
        self.row = row

    def compose(self) -> ComposeResult:
        status = self.row.budget
        now = (
            f"now {fmt.money(status.amount)} a month, warning at {status.warn_at}% "
            f"({fmt.budget_state(status.state)}, {status.used_pct}% used)"
            if status
            else "no budget now"
        )
        with Vertical(id="dialog"):
            yield Label(f"Budget of {fmt.printable(subject(self.row.account))}", classes="dialog-title")
            yield Static(
                f"this month: {fmt.money(self.row.month_to_date)} so far, {fmt.money(self.row.projected)} projected · {now}",
                markup=False,
            )
            yield Label("Monthly amount (empty removes the budget)")
            yield Input(value=str(status.amount) if status else "", id="budget-amount")
            yield Label("Warn at % of the budget (empty keeps it; 80 for a new one)")
            yield Input(value=str(status.warn_at) if status else "", id="budget-warn")
            with CommandBox():
                yield Static("", id="command", classes="command", markup=False)
            yield Static("enter: next field, then save · escape cancels", markup=False)

    def on_mount(self) -> None:
        self.query_one("#budget-amount", Input).focus()
        self._command()

    @on(Input.Changed)
    def _command(self) -> None:
        amount, warn = (self.query_one(f"#budget-{n}", Input).value for n in ("amount", "warn"))
        self.query_one("#command", Static).update(budget_command(self.row.account, amount, warn))

    @on(Input.Submitted, "#budget-amount")
    def amount_done(self) -> None:
        self.query_one("#budget-warn", Input).focus()

    @on(Input.Submitted, "#budget-warn")
    def warn_done(self) -> None:
        self.dismiss((self.query_one("#budget-amount", Input).value, self.query_one("#budget-warn", Input).value))

    def action_cancel(self) -> None:
        self.dismiss(None)
