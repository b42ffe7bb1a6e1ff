"""The audit trail: who did what, when, to which app, with what result (filterable)."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Label

from imtui.domain.errors import ImtuiError
from imtui.services.models import AuditView
from imtui.ui import format as fmt

LIMIT = 2000


class AuditScreen(Screen):
    """Who did what, when, to which apps, with what result (newest first)."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="audit.back"),
        Binding("slash", "filter", "Filter", id="audit.filter"),
    ]

    def __init__(self, app_id: int | None = None) -> None:
        super().__init__()
        self.app_id = app_id
        self.entries: list[AuditView] = []

    def compose(self) -> ComposeResult:
        title = f"Audit of app {self.app_id}" if self.app_id else "Audit trail"
        yield Label(f"{title} (newest first, last {LIMIT})", classes="dialog-title")
        yield Input(placeholder="filter by actor, action, app, result or detail", id="audit-filter")
        yield DataTable(id="audit", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("When", "Who", "Action", "App", "Result", "Detail")
        self.query_one(DataTable).focus()
        self.load()

    @work(exclusive=True)
    async def load(self) -> None:
        try:
            self.entries = await self.app.services.audit.trail(self.app_id, LIMIT)
        except ImtuiError as exc:
            self.app.notify(exc.message, severity="error")
            return
        self.show(self.query_one("#audit-filter", Input).value)

    def show(self, text: str) -> None:
        tz = self.app.services.tz
        needle = text.strip().lower()
        table = self.query_one(DataTable)
        table.clear()
        for e in self.entries:
            row = (
                fmt.local_time(e.at, tz, "YYYY-MM-DD HH:mm:ss"),
                e.actor,
                e.action,
                str(e.app_id or ""),
                e.result,
                fmt.printable(e.detail),
            )
            if not needle or any(needle in cell.lower() for cell in row):
                table.add_row(*(fmt.plain(cell) for cell in row))

    @on(Input.Changed, "#audit-filter")
    def filter_changed(self, event: Input.Changed) -> None:
        self.show(event.value)

    @on(Input.Submitted, "#audit-filter")
    def filter_done(self) -> None:
        self.query_one(DataTable).focus()

    def action_filter(self) -> None:
        self.query_one("#audit-filter", Input).focus()

    def action_back(self) -> None:
        self.app.pop_screen()
