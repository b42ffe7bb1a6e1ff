"""After a bulk operation: which apps changed, which were refused and why."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Label

from imtui.services.models import BulkResult
from imtui.ui import format as fmt

OUTCOME_LABELS = {
    "done": "✓ done",
    "refused": "✕ refused",
    "not done": "○ not done",  # the platform did not answer; nothing changed (not a refusal)
    "not known yet": "? not known yet",
}


class ResultsScreen(ModalScreen):
    """The outcome of a bulk operation, app by app (done, refused, not done, not known yet)."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="results.close"),
        # priority: the focused list would take enter for itself (select a row) and nothing closed
        Binding("enter", "close", "Close", show=False, priority=True, id="results.close_enter"),
    ]

    def __init__(self, title: str, results: list[BulkResult]) -> None:
        super().__init__()
        self.title_text = title
        self.results = results

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield DataTable(id="results", cursor_type="row")
            yield Button("Close", id="close", compact=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("App", "Result", "Why")
        ordered = sorted(self.results, key=lambda r: r.ok)  # refusals first
        for r in ordered:
            table.add_row(str(r.app_id), OUTCOME_LABELS.get(r.outcome, f"✕ {r.outcome}"), fmt.plain(r.error or ""))
        table.focus()

    def on_button_pressed(self) -> None:
        self.dismiss()

    def action_close(self) -> None:
        self.dismiss()
