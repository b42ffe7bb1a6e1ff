"""Every key of the screen underneath, generated from its bindings (keymap applied)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Label


class HelpScreen(ModalScreen):
    """Every key of the screen it was opened from, generated from its bindings."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="help.close"),
        Binding("f1", "close", "Close", show=False, id="help.close_f1"),
    ]

    def __init__(self, screen: Screen) -> None:
        super().__init__()
        self.under = screen

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(
                f"Keys of {type(self.under).__name__.removesuffix('Screen') or 'this screen'}", classes="dialog-title"
            )
            yield DataTable(id="keys", cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Key", "Binding id (keymap)", "Does")
        seen = set()
        for key, active in self.under.active_bindings.items():
            binding = active.binding
            if (binding.id, key) in seen or binding.system:
                continue
            seen.add((binding.id, key))
            state = "" if active.enabled else "  (disabled)"
            does = binding.description or binding.action
            if binding.tooltip:  # the longer wording, where the footer's word says too little
                does = f"{does}: {binding.tooltip}"
            table.add_row(self.app.get_key_display(binding), binding.id or "", does + state)
        table.add_row("ctrl+p", "", "command palette: jump to, halt, upgrade or modify an app by ID or name")
        table.focus()

    def action_close(self) -> None:
        self.dismiss()
