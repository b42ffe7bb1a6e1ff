"""The reactivate confirmation of a signal's remedy (`purge_soon`): the exact apps, the monthly
cost that starts again, the equivalent command. Focus starts on Reactivate: it takes nothing
away (the halt's own undo, `z`, needs no confirmation); escape or Cancel changes nothing."""

from __future__ import annotations

from decimal import Decimal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from imtui.services.fleet import FleetRow
from imtui.ui import format as fmt
from imtui.ui.equivalent import CommandBox, reactivate_command
from imtui.ui.widgets.targets import target_lines


class ReactivateDialog(ModalScreen):
    """Dismisses with the app IDs to reactivate when confirmed, `None` when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="reactivate.cancel")]

    def __init__(self, targets: list[FleetRow]) -> None:
        super().__init__()
        self.targets = targets

    def compose(self) -> ComposeResult:
        n = len(self.targets)
        resumes = sum((t.monthly for t in self.targets), Decimal("0.00"))
        with Vertical(id="dialog"):
            yield Label(f"Reactivate {n} app{'s' if n > 1 else ''}", classes="dialog-title")
            with VerticalScroll(id="reactivate-targets"):
                yield from target_lines(self.targets, lambda t: t.status)
            yield Static(
                f"Service resumes at once and billing with it: {fmt.money(resumes)} a month. "
                "Its data is kept (no purge).",
                id="reactivate-cost",
                markup=False,
            )
            with CommandBox():
                yield Static(
                    reactivate_command(t.app_id for t in self.targets), id="command", classes="command", markup=False
                )
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button(f"Reactivate {n}", id="confirm", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#confirm", Button).focus()

    @on(Button.Pressed, "#confirm")
    def confirm(self) -> None:
        self.dismiss([t.app_id for t in self.targets])

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
