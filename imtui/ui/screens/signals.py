"""Signals: the risks worth a person's attention now, most severe first (tui.md). `enter` goes to
the app or account; a signal with an obvious remedy offers it on `f`: `purge_soon` → reactivate,
`limit_reached` → the modify form filled with the raise suggestion, a budget over or forecast
over → the review of that account's lowering suggestions."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Static

from imtui.domain.errors import ImtuiError
from imtui.domain.signals import BUDGET_FORECAST, BUDGET_OVER, CRITICAL, LIMIT_REACHED, PURGE_SOON, Signal
from imtui.ui import format as fmt

REMEDIES = {
    PURGE_SOON: "reactivate",
    LIMIT_REACHED: "modify",
    BUDGET_OVER: "review",
    BUDGET_FORECAST: "review",
}
"""The one-key remedy of a kind of signal (what the applications screen then opens)."""
REMEDY_WORDS = {"reactivate": "reactivate it", "modify": "raise its limit", "review": "review its savings"}


def subject_text(signal: Signal) -> str:
    if signal.app_id is not None:
        return f"app {signal.app_id}"
    return "the fleet" if signal.fleet else f"account {fmt.printable(signal.account or '')}"


def go_to(signal: Signal) -> tuple[str, object]:
    """Where `enter` goes: the app, or the account's (or the fleet's) apps."""
    if signal.app_id is not None:
        return "app", signal.app_id
    return "account", None if signal.fleet else signal.account


def remedy(signal: Signal) -> tuple[str, object] | None:
    """The remedy `f` asks for, with its subject (an app ID, or an account; None: the fleet)."""
    kind = REMEDIES.get(signal.kind)
    if kind is None:
        return None
    if kind == "review":
        return kind, None if signal.fleet else signal.account
    return kind, signal.app_id


class SignalsScreen(Screen):
    """Lists the signals; dismisses with what the applications screen should do next:
    ("app", id), ("account", name or None), ("reactivate", id), ("modify", id),
    ("review", account or None); or None."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="signals.back"),
        Binding("enter", "go", "Go to it", priority=True, id="signals.go"),
        Binding("f", "remedy", "Remedy", id="signals.remedy"),
        Binding("g", "reload", "Refresh", show=False, id="signals.reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.signals: list[Signal] = []

    def compose(self) -> ComposeResult:
        yield Label("Signals: what needs someone now", classes="dialog-title")
        yield Static("looking…", id="signals-summary", markup=False)
        yield DataTable(id="signals", cursor_type="row")
        yield Static("", id="signals-sentence", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Severity", "Kind", "Subject", "Since", "Remedy [f]", "Sentence")
        table.focus()
        self.load()

    def action_reload(self) -> None:
        self.load()

    @work(exclusive=True, group="signals")
    async def load(self) -> None:
        try:
            report = await self.app.services.signals.report()
        except ImtuiError as exc:
            self.app.notify(exc.message, severity="error", title="Could not read the signals")
            return
        self.signals = report.signals
        critical = sum(1 for s in self.signals if s.severity == CRITICAL)
        notes = "".join(f" · {note}" for note in report.notes)
        self.query_one("#signals-summary", Static).update(
            f"{len(self.signals)} signals, {critical} critical · enter goes to it · f applies its remedy{notes}"
        )
        main = self._main()
        if main is not None:
            main.show_signal_count(self.signals)
        tz = self.app.services.tz
        table = self.query_one(DataTable)
        table.clear()
        for s in self.signals:
            fix = remedy(s)
            table.add_row(
                fmt.SEVERITY.get(s.severity, s.severity),
                s.kind,
                subject_text(s),
                fmt.local_time(s.since, tz),
                REMEDY_WORDS[fix[0]] if fix else "-",
                fmt.plain(s.text),
            )
        self._show_sentence()

    def _main(self):
        try:
            return self.app.main
        except LookupError:
            return None

    def on_data_table_row_highlighted(self) -> None:
        self._show_sentence()

    def _show_sentence(self) -> None:
        signal = self.current()
        self.query_one("#signals-sentence", Static).update(signal.text if signal else "")

    def current(self) -> Signal | None:
        row = self.query_one(DataTable).cursor_row
        return self.signals[row] if 0 <= row < len(self.signals) else None

    def action_go(self) -> None:
        signal = self.current()
        if signal is not None:
            self.dismiss(go_to(signal))

    def action_remedy(self) -> None:
        signal = self.current()
        if signal is None:
            return
        fix = remedy(signal)
        if fix is None:
            self.app.notify(f"a {signal.kind} signal has no one-key remedy; enter goes to it", title="Signals")
            return
        self.dismiss(fix)

    def action_back(self) -> None:
        self.dismiss(None)
