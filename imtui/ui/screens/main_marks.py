"""The applications table's view (mixed into `MainScreen`): the text filter, the quick filters,
the sort and the marks. The rules are `FleetModel`'s; these are the keys that ask for them."""

from __future__ import annotations

from textual.widgets import Input

from imtui.ui.fleet_model import EDITION_FILTERS, SORT_KEYS, STATUS_FILTERS, USAGE_FILTERS, FleetModel
from imtui.ui.widgets.app_table import AppTable


class ViewKeys:
    """Filter, sort and mark keys (`MainScreen` holds the state)."""

    model: FleetModel
    apps_table: AppTable
    anchor: int | None
    """Where the last single mark was made (the start of a marked range)."""

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if box.value:
            box.value = ""
        box.display = False
        if self.model.account is not None:
            self.model.account = None
            self._reapply()
        self.apps_table.focus()

    def show_account(self, account: str | None) -> None:
        """Only this account's apps (None: the whole fleet), other filters cleared."""
        self.model.text, self.model.status, self.model.edition, self.model.usage = "", None, None, None
        self.model.marked_only = False
        self.model.account = account
        box = self.query_one("#filter", Input)
        box.value = ""
        box.display = False
        self._reapply()
        table = self.apps_table
        table.cursor = 0
        table.focus()

    def action_toggle_mark(self) -> None:
        table = self.apps_table
        app_id = table.cursor_app
        if app_id is None:
            return
        self.model.toggle(app_id)
        self.anchor = table.cursor
        table.refresh()
        table.action_cursor(1)
        self._marks_changed()

    def action_mark_range(self) -> None:
        table = self.apps_table
        self.model.mark_range(self.anchor if self.anchor is not None else table.cursor, table.cursor)
        table.refresh()
        self._marks_changed()

    def action_mark_all(self) -> None:
        self.model.mark_all_filtered()
        self.apps_table.refresh()
        self._marks_changed()

    def action_clear_marks(self) -> None:
        self.model.clear_marks()
        self.apps_table.refresh_rows(keep_app=self.apps_table.cursor_app)
        self._marks_changed()

    def action_marked_only(self) -> None:
        self.model.marked_only = not self.model.marked_only
        self._reapply()

    def _marks_changed(self) -> None:
        self.show_summary()
        self.refresh_costs("marked")

    def action_cycle_status(self) -> None:
        self.model.status = self.model.cycle(STATUS_FILTERS, self.model.status)
        self._reapply()

    def action_cycle_usage(self) -> None:
        self.model.usage = self.model.cycle(tuple(USAGE_FILTERS), self.model.usage)
        self._reapply()

    def action_cycle_edition(self) -> None:
        self.model.edition = self.model.cycle(EDITION_FILTERS, self.model.edition)
        self._reapply()

    def action_cycle_sort(self) -> None:
        keys = tuple(SORT_KEYS)
        self.model.sort_key = keys[(keys.index(self.model.sort_key) + 1) % len(keys)]
        self._reapply()

    def action_reverse_sort(self) -> None:
        self.model.sort_reverse = not self.model.sort_reverse
        self._reapply()

    def action_drift_only(self) -> None:
        """Only the apps the platform runs otherwise than their status says (`imtui reconcile`)."""
        if self.model.drifted is None and not self.model.drift_only:
            self.app.notify("drift is known only with a platform apart from imtui (--control-plane URL)")
            return
        self.model.drift_only = not self.model.drift_only
        self._reapply()
