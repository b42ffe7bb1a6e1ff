"""The live monthly cost panel: the app under the cursor, the marked apps and the fleet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import Sparkline, Static

from imtui.services.models import CostSummary
from imtui.ui import format as fmt


@dataclass(frozen=True)
class CostFigures:
    """What the panel shows; set by the screen."""

    cursor_app: int | None
    cursor: CostSummary | None
    marked: CostSummary | None
    fleet: CostSummary | None
    tz: str


class CostPanel(Vertical):
    """Month-to-date, projected, last month, the cursor app's lines and a daily-cost sparkline."""

    figures: reactive[CostFigures | None] = reactive(None)
    now: reactive[datetime | None] = reactive(None)

    def compose(self) -> ComposeResult:
        yield Static(id="cost-figures")
        yield Sparkline([], id="cost-spark")
        yield Static(id="cost-fresh")

    def watch_figures(self, figures: CostFigures | None) -> None:
        if figures is None:
            return
        table = Table.grid(padding=(0, 1), expand=True)
        table.add_column(ratio=2)
        for _ in range(3):
            table.add_column(justify="right", ratio=1)
        month = next((s.month for s in (figures.fleet, figures.cursor) if s), "")
        table.add_row(
            Text(f"Cost {month}", style="bold"),
            Text(str(figures.cursor_app or "-"), style="bold"),
            Text(f"marked {figures.marked.apps if figures.marked else 0}", style="bold"),
            Text(f"fleet {figures.fleet.apps if figures.fleet else 0}", style="bold"),
        )
        for label, attr in (
            ("month to date", "month_to_date"),
            ("projected", "projected"),
            ("last month", "last_month"),
        ):
            table.add_row(
                label,
                *(
                    ("…" if attr == "last_month" and s.last_month_pending else fmt.money(getattr(s, attr)))
                    if s
                    else "-"
                    for s in (figures.cursor, figures.marked, figures.fleet)
                ),
            )
        cursor = figures.cursor
        if cursor and cursor.lines:
            for line in cursor.lines:
                least = " (at least)" if line.item.endswith("_overage") else ""
                label = (
                    f" {fmt.item_name(line.item)} {line.setting}{least}"
                    if least
                    else f" {line.item} {line.setting} ×{line.days}d"
                )
                table.add_row(label, fmt.money(line.amount), "", "")
        elif cursor:
            table.add_row(" nothing billed this month", "", "", "")
        self.query_one("#cost-figures", Static).update(table)
        spark = self.query_one("#cost-spark", Sparkline)
        spark.data = [float(d) for d in cursor.daily] if cursor and any(cursor.daily) else [0.0]
        self._fresh()

    def watch_now(self, now: datetime | None) -> None:
        self._fresh()

    def _fresh(self) -> None:
        figures = self.figures
        if figures is None or figures.fleet is None:
            return
        as_of = figures.fleet.as_of
        age = int((self.now - as_of).total_seconds()) if self.now else 0
        self.query_one("#cost-fresh", Static).update(
            f"daily cost of {figures.cursor_app or '-'} this month ▲  ·  figures as of "
            f"{fmt.local_time(as_of, figures.tz, 'HH:mm:ss')} ({max(age, 0)} s ago)"
        )
