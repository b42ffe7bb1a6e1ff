"""The halt confirmation: exact targets, the money that stops, the warning, a reason, and for
more than one app the count typed out. Focus starts on Cancel."""

from __future__ import annotations

from decimal import Decimal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from imtui.services.fleet import FleetRow
from imtui.ui import format as fmt
from imtui.ui.equivalent import CommandBox, halt_command
from imtui.ui.widgets.targets import target_lines


class HaltDialog(ModalScreen):
    """Dismisses with `(app_ids, reason)` when confirmed, `None` when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="halt.cancel")]

    def __init__(self, targets: list[FleetRow], hidden_marked: int = 0) -> None:
        super().__init__()
        self.targets = targets
        self.hidden_marked = hidden_marked

    def compose(self) -> ComposeResult:
        n = len(self.targets)
        stops = sum((t.monthly for t in self.targets), Decimal("0.00"))
        with Vertical(id="dialog", classes="danger"):
            yield Label(f"HALT {n} APP{'S' if n > 1 else ''}", classes="dialog-title")
            with VerticalScroll(id="halt-targets"):
                yield from target_lines(self.targets, lambda t: f"{fmt.money(t.monthly):>10}/month")
            yield Static(f"Monthly cost that stops: {fmt.money(stops)}", id="halt-cost")
            if self.hidden_marked:
                yield Static(
                    f"{self.hidden_marked} of these marked apps are hidden by the current filter.",
                    classes="warning",
                    id="halt-hidden",
                )
            yield Static(
                "⚠ Service stops at once. After 90 days the app's data is unrecoverable.",
                classes="warning",
            )
            if n > 1:  # above the reason, so shift+tab from Cancel reaches the reason first
                yield Input(placeholder=f"type {n} to confirm", id="count", compact=True)
            yield Input(placeholder="reason (required)", id="reason", compact=True)
            with CommandBox():  # the whole equivalent command; a long one scrolls
                yield Static("", id="command", classes="command", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button(f"Halt {n}", id="confirm", variant="error", disabled=True, compact=True)

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()
        self._update()

    def _ready(self) -> bool:
        reason = self.query_one("#reason", Input).value.strip()
        if not reason:
            return False
        if len(self.targets) > 1:
            return self.query_one("#count", Input).value.strip() == str(len(self.targets))
        return True

    @on(Input.Changed)
    def _update(self) -> None:
        self.query_one("#confirm", Button).disabled = not self._ready()
        reason = self.query_one("#reason", Input).value
        command = halt_command((t.app_id for t in self.targets), reason)
        self.query_one("#command", Static).update(command)  # every ID, quoted: it runs as printed

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        if event.input.id == "reason" and len(self.targets) > 1:
            self.query_one("#count", Input).focus()
        elif self._ready():
            self.query_one("#confirm", Button).focus()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#confirm")
    def confirm(self) -> None:
        if self._ready():
            reason = self.query_one("#reason", Input).value.strip()
            self.dismiss(([t.app_id for t in self.targets], reason))
