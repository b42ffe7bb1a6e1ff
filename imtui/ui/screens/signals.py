"""Signals: the risks worth a person's attention now, most severe first (tui.md). `enter` goes to
the app or account; a signal with an obvious remedy offers it on `f`, through the usual
confirmation: `purge_soon` → reactivate (asked first), `limit_reached` → the modify form filled
with the raise suggestion, a budget over or forecast over → the review of that account's
lowering suggestions. The list is the one the summary line counted while nothing changed since."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Static

from imtui.domain.errors import ImtuiError
from imtui.domain.signals import BUDGET_FORECAST, BUDGET_OVER, CRITICAL, LIMIT_REACHED, PURGE_SOON, Signal
from imtui.ui import format as fmt
from imtui.ui.widgets.fitted_table import FittedTable

REMEDIES = {
    PURGE_SOON: "reactivate",
    LIMIT_REACHED: "modify",
    BUDGET_OVER: "review",
    BUDGET_FORECAST: "review",
}
"""The one-key remedy of a kind of signal (what the applications screen then opens)."""
COLUMNS = ("Severity", "Kind", "Subject", "Since", "Remedy (f)", "Sentence")
REMEDY_WORDS = {"reactivate": "reactivate", "modify": "raise limit", "review": "review savings"}


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
        Binding(
            "f",
            "remedy",
            "Remedy",
            tooltip="purge_soon: reactivate (asks to confirm); limit_reached: the modify form with the raise; "
            "budget over or forecast: the review of the account's savings",
            id="signals.remedy",
        ),
        Binding("g", "reload", "Refresh", show=False, tooltip="count the signals again", id="signals.reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.signals: list[Signal] = []

    def compose(self) -> ComposeResult:
        yield Label("Signals: what needs someone now", classes="dialog-title")
        yield Static("looking…", id="signals-summary", markup=False)
        yield FittedTable(*COLUMNS, id="signals", cursor_type="row")
        yield Static("", id="signals-sentence", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(FittedTable)
        table.refill([])
        table.focus()
        self.load()

    def action_reload(self) -> None:
        self.load(again=True)

    @work(exclusive=True, group="signals")
    async def load(self, again: bool = False) -> None:
        """The signals the summary line counted if nothing changed since (at 100,000 apps they
        take a second or more to read), else (and with `g`) read now."""
        main = self._main()
        report = None if again or main is None else main.fresh_signals()
        if report is None:
            seen = None if main is None else main.signals_point()
            try:
                report = await self.app.services.signals.report()
            except ImtuiError as exc:
                self.query_one("#signals-summary", Static).update(f"could not read the signals: {exc.message}")
                self.app.notify(exc.message, severity="error", title="Could not read the signals")
                return
            if main is not None and seen is not None:
                main.counted(report, seen)  # the summary line's count follows
        self.signals = report.signals
        critical = sum(1 for s in self.signals if s.severity == CRITICAL)
        notes = "".join(f" · {note}" for note in report.notes)
        counted = f"{len(self.signals)} signals, {critical} critical" if self.signals else "no signals now"
        self.query_one("#signals-summary", Static).update(
            f"{counted}, as of {fmt.local_time(report.at, self.app.services.tz, 'HH:mm')} [g] · "
            f"enter: go to it · f: its remedy{notes}"
        )
        tz = self.app.services.tz
        self.query_one(FittedTable).refill(
            (
                [
                    fmt.SEVERITY.get(s.severity, s.severity),
                    s.kind,
                    subject_text(s),
                    fmt.local_time(s.since, tz),
                    REMEDY_WORDS[fix[0]] if (fix := remedy(s)) else "-",
                    fmt.plain(s.text),
                ],
                None,
            )
            for s in self.signals
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
