"""Review: the right-sizing suggestions of the marked or filtered apps (raise what is near a
limit, lower what is paid and unused), with the monthly price or saving of each. Accepting some
opens the modify form filled with them, with its usual preview and confirmation."""

from __future__ import annotations

from decimal import Decimal

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Static

from imtui.domain.changes import ChangeRequest
from imtui.domain.errors import ImtuiError
from imtui.services.review import AppReview
from imtui.ui import format as fmt


def request_of(suggestions) -> ChangeRequest:
    """The modify request that applies a set of one app's suggestions."""
    values = {s.item: s.to for s in suggestions}
    live = values.get("live_groups", ...)
    return ChangeRequest(
        live_unlimited=None if live is ... else live is None,
        groups_per_user=values.get("groups_per_user"),
        members_per_group=values.get("members_per_group"),
    )


class ReviewScreen(Screen):
    """Dismisses with [(request, app IDs)] for the accepted suggestions, or None."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="review.back"),
        Binding("space", "toggle", "Mark", id="review.mark"),
        Binding("a", "mark_all", "Mark all", id="review.mark_all"),
        Binding("enter", "accept", "Accept → modify", priority=True, id="review.accept"),
    ]

    def __init__(self, app_ids: list[int], lowering_only: bool = False) -> None:
        super().__init__()
        self.app_ids = app_ids
        self.lowering_only = lowering_only
        """Only suggestions that save (a budget signal's remedy)."""
        self.rows: list[tuple[AppReview, object]] = []
        self.marked: set[int] = set()

    def compose(self) -> ComposeResult:
        what = "lowering suggestions" if self.lowering_only else "right-sizing suggestions"
        yield Label(f"Review of {len(self.app_ids)} apps: {what}", classes="dialog-title")
        yield Static("reading usage…", id="review-summary", markup=False)
        yield DataTable(id="review", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(" ", "App", "Suggestion", "Monthly", "Unlocks", "Headroom", "Name", "Why")
        table.focus()
        self.load()

    @work(exclusive=True)
    async def load(self) -> None:
        try:
            reviews = await self.app.services.review.review(app_ids=self.app_ids)
        except ImtuiError as exc:
            self.app.notify(exc.message, severity="error", title="Could not review")
            return
        self.rows = [
            (r, s) for r in reviews for s in r.review.suggestions if not self.lowering_only or s.monthly_delta < 0
        ]
        scarce = sum(1 for r in reviews if r.review.note)
        saving = sum((s.monthly_delta for _, s in self.rows if s.monthly_delta < 0), Decimal(0))
        raising = sum((s.monthly_delta for _, s in self.rows if s.monthly_delta > 0), Decimal(0))
        self.query_one("#review-summary", Static).update(
            f"{len(reviews)} active apps · {len(self.rows)} suggestions · lowering saves "
            f"{fmt.money(-saving)}/month, raising costs {fmt.money(raising)}/month · "
            f"{scarce} apps without enough usage data · space marks, enter accepts"
        )
        self._show()

    def _show(self) -> None:
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        for i, (r, s) in enumerate(self.rows):
            head = r.review.headroom
            table.add_row(
                "*" if i in self.marked else " ",
                str(r.app_id),
                f"{fmt.SHORT_ITEMS[s.item]} {fmt.setting(s.frm)} → {fmt.setting(s.to)}",
                Text(f"{s.monthly_delta:+,.2f}", justify="right"),
                f"until {s.unlocks_on}" if s.unlocks_on else "",
                f"{head.use_pct}% {fmt.SHORT_ITEMS.get(head.item, head.item)}" if head else "-",
                fmt.plain(r.name),
                fmt.plain(s.reason),
            )
        if self.rows:
            table.move_cursor(row=min(keep, len(self.rows) - 1))

    def action_toggle(self) -> None:
        row = self.query_one(DataTable).cursor_row
        if 0 <= row < len(self.rows):
            self.marked ^= {row}
            self._show()
            self.query_one(DataTable).move_cursor(row=min(row + 1, len(self.rows) - 1))

    def action_mark_all(self) -> None:
        self.marked = set() if len(self.marked) == len(self.rows) else set(range(len(self.rows)))
        self._show()

    def action_accept(self) -> None:
        chosen = sorted(self.marked) or [self.query_one(DataTable).cursor_row]
        chosen = [i for i in chosen if 0 <= i < len(self.rows)]
        if not chosen:
            return
        per_app: dict[int, list] = {}
        for i in chosen:
            r, s = self.rows[i]
            per_app.setdefault(r.app_id, []).append(s)
        grouped: dict[ChangeRequest, list[int]] = {}
        for app_id, suggestions in per_app.items():
            grouped.setdefault(request_of(suggestions), []).append(app_id)
        self.dismiss(list(grouped.items()))

    def action_back(self) -> None:
        self.dismiss(None)
