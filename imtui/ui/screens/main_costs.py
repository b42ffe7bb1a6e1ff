"""The cost panel's figures (mixed into `MainScreen`): the app under the cursor, the marked apps
and the whole fleet, each read in a worker of its own so a new cursor or mark replaces the read
under way."""

from __future__ import annotations

from textual import work

from imtui.domain.errors import ImtuiError
from imtui.ui.fleet_model import FleetModel
from imtui.ui.widgets.app_table import AppTable
from imtui.ui.widgets.cost_panel import CostFigures, CostPanel


class CostFeed:
    """Feeds the cost panel (`MainScreen` holds the state)."""

    model: FleetModel
    apps_table: AppTable
    day: str | None
    _cost_parts: dict

    def refresh_costs(self, *scopes: str) -> None:
        """Recomputes the cost panel's columns: `cursor`, `marked`, `fleet` (all by default)."""
        for scope in scopes or ("cursor", "marked", "fleet"):
            getattr(self, f"_costs_{scope}")()

    @work(exclusive=True, group="costs-cursor")
    async def _costs_cursor(self) -> None:
        app_id = self.apps_table.cursor_app
        summary = await self._summary([app_id]) if app_id is not None else None
        self._show_costs(cursor_app=app_id, cursor=summary)

    @work(exclusive=True, group="costs-marked")
    async def _costs_marked(self) -> None:
        marked = sorted(self.model.marked)
        self._show_costs(marked=await self._summary(marked) if marked else None)

    @work(exclusive=True, group="costs-fleet")
    async def _costs_fleet(self) -> None:
        await self._costs_fleet_now()

    async def _costs_fleet_now(self) -> None:
        shown = self._cost_parts.get("fleet")
        if shown is None or shown.month != (self.day or "")[:7]:
            # a new month (or the first figures): this month's come before last month's
            quick = await self._summary(None, last_month=False)
            if quick is not None:
                self._show_costs(fleet=quick)
        self._show_costs(fleet=await self._summary(None))

    async def _summary(self, app_ids, last_month: bool = True):
        try:
            return await self.app.services.billing.cost_summary(app_ids, last_month)
        except ImtuiError as exc:
            self.app.notify(exc.message, severity="error", title="Could not compute costs")
            return None

    def _show_costs(self, **parts) -> None:
        self._cost_parts.update(parts)
        p = self._cost_parts
        self.query_one(CostPanel).figures = CostFigures(
            p.get("cursor_app"),
            p.get("cursor"),
            p.get("marked"),
            p.get("fleet"),
            self.app.services.tz,
        )
