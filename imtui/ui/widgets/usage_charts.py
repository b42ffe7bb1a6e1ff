"""Usage charts of one app (textual-plotext): daily active users against the included quota, and
each limited item's daily peak against its limit, over the last 30 or 90 days.

Every series has its own marker and a legend, and the quota or limit is a labelled line, so the
charts read without colour (NO_COLOR) as well as with it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import Static
from textual_plotext import PlotextPlot

from imtui.domain.editions import Package
from imtui.domain.headroom import QUOTA_DAU, TRIAL_DAU

LIMITED = (  # (item, record figure index, label, marker)
    ("live_groups", 2, "live groups", "+"),
    ("groups_per_user", 3, "groups per user", "x"),
    ("members_per_group", 4, "members per group", "o"),
)


@dataclass(frozen=True)
class UsageSeries:
    """What the charts show; set by the screen."""

    days: list[tuple[date, tuple[int, ...] | None]]
    package: Package


class UsageCharts(Vertical):
    """An app's usage of the last 30 and 90 days against its quota and limits."""

    data: reactive[UsageSeries | None] = reactive(None)

    def compose(self) -> ComposeResult:
        yield Static("", id="usage-caption", markup=False)
        yield PlotextPlot(id="dau-chart")
        yield PlotextPlot(id="limits-chart")

    def on_mount(self) -> None:
        if getattr(self.app, "no_color", False):
            for plot in self.query(PlotextPlot):
                plot.theme = "clear"

    def watch_data(self, data: UsageSeries | None) -> None:
        if data is None:
            return
        recorded = [(d, v) for d, v in data.days if v is not None]
        n = len(data.days)
        caption = self.query_one("#usage-caption", Static)
        if not recorded:
            caption.update(f"No usage records in the last {n} days.")
        else:
            quota = TRIAL_DAU if data.package.edition == "trial" else QUOTA_DAU
            peak = max(v[0] for _, v in recorded)
            caption.update(
                f"Last {n} days, {len(recorded)} with a record · peak daily active users {peak:,} "
                f"of {quota:,} {'allowed' if quota == TRIAL_DAU else 'included'} ({peak * 100 // quota}%)"
            )
        self._dau(data, n)
        self._limits(data, n)

    def _axis(self, plt, data: UsageSeries, n: int) -> None:
        step = max(n // 5, 1)
        ticks = list(range(1, n + 1, step))
        plt.xticks(ticks, [data.days[t - 1][0].strftime("%m-%d") for t in ticks])

    def _dau(self, data: UsageSeries, n: int) -> None:
        plot = self.query_one("#dau-chart", PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        quota = TRIAL_DAU if data.package.edition == "trial" else QUOTA_DAU
        xs = [i + 1 for i, (_, v) in enumerate(data.days) if v is not None]
        ys = [v[0] for _, v in data.days if v is not None]
        plt.title("Daily active users")
        plt.plot(
            list(range(1, n + 1)),
            [quota] * n,
            label=f"{'cap' if quota == TRIAL_DAU else 'included'} {quota:,}",
            marker="-",
        )
        if xs:
            plt.plot(xs, ys, label="daily active users", marker="•")
        self._axis(plt, data, n)
        plt.ylim(0, max([quota, *ys]) * 1.1)
        plot.refresh()

    def _limits(self, data: UsageSeries, n: int) -> None:
        plot = self.query_one("#limits-chart", PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("Limited items: daily peak, % of the limit")
        plt.plot(list(range(1, n + 1)), [100] * n, label="limit 100%", marker="-")
        top = 100
        for item, figure, label, marker in LIMITED:
            limit = data.package.value(item)
            if limit is None:
                continue  # unlimited: nothing to run into
            xs = [i + 1 for i, (_, v) in enumerate(data.days) if v is not None]
            ys = [v[figure] * 100 / limit for _, v in data.days if v is not None]
            if xs:
                plt.plot(xs, ys, label=f"{label} (limit {limit:,})", marker=marker)
                top = max(top, *ys)
        self._axis(plt, data, n)
        plt.ylim(0, top * 1.1)
        plot.refresh()
