"""The applications screen: the fleet table, its filter and marks, and the live cost panel.

`MainScreen` composes the screen, says what the summary line shows and where each key leads; its
other jobs are mixed in from their own modules: reading the fleet and its figures
(`main_loading`), feeding the cost panel (`main_costs`), the filter, sort and mark keys
(`main_marks`) and the operations on apps (`main_bulk`)."""

from __future__ import annotations

import re
from datetime import datetime

from rich.cells import cell_len
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from imtui.domain.errors import ImtuiError
from imtui.services.fleet import FleetRow
from imtui.services.signals import SignalReport
from imtui.ui import format as fmt
from imtui.ui.fleet_model import FleetModel
from imtui.ui.screens.main_bulk import Operations
from imtui.ui.screens.main_costs import CostFeed
from imtui.ui.screens.main_loading import DRIFT_SECONDS, FleetLoading
from imtui.ui.screens.main_marks import ViewKeys
from imtui.ui.widgets.app_table import AppTable
from imtui.ui.widgets.cost_panel import CostPanel

WIDE = 170
"""From this width on, the cost panel sits beside the table instead of below it."""

KEY_HINT = re.compile(r" \[.\]$")


def fit_summary(parts: list[str | tuple[str, str | None]], width: int) -> str:
    """The summary line on one line of `width` if it can be, shortened step by step: every part
    in full; without the parts whose short wording is None (a filter at its default); also
    without key hints (the footer and help list the keys); every part in its short wording."""
    kept = [p if isinstance(p, str) else p[0] for p in parts if isinstance(p, str) or p[1]]
    short = [p if isinstance(p, str) else p[1] for p in parts if isinstance(p, str) or p[1]]
    tries = (
        [p if isinstance(p, str) else p[0] for p in parts],
        kept,
        [KEY_HINT.sub("", p) for p in kept],
    )
    for words in tries:
        if cell_len(text := " · ".join(words)) <= width:
            return text
    return " · ".join(KEY_HINT.sub("", p) for p in short)


#: Actions that change something, by the permission each needs: dimmed and disabled in a
#: read-only run or for a user whose role does not allow them.
CHANGING_ACTIONS = {
    "upgrade": "upgrade",
    "modify": "modify",
    "halt": "halt",
    "reactivate": "reactivate",
    "undo_halt": "reactivate",
}


class MainScreen(FleetLoading, CostFeed, ViewKeys, Operations, Screen):
    """Applications. Targets of an action are the marked apps, or the app under the cursor."""

    PERMISSIONS = CHANGING_ACTIONS

    BINDINGS = [
        Binding("slash", "filter", "Filter", id="main.filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="main.clear_filter"),
        Binding("space", "toggle_mark", "Mark", id="main.mark"),
        Binding("v", "mark_range", "Mark range", show=False, id="main.mark_range"),
        Binding("a", "mark_all", "Mark all", show=False, id="main.mark_all"),
        Binding("n", "clear_marks", "Unmark all", show=False, id="main.clear_marks"),
        Binding("asterisk", "marked_only", "Marked only", show=False, id="main.marked_only"),
        Binding("s", "cycle_status", "Status", show=False, id="main.status_filter"),
        Binding("e", "cycle_edition", "Edition", show=False, id="main.edition_filter"),
        Binding("f", "cycle_usage", "Usage", show=False, id="main.usage_filter"),
        Binding("D", "drift_only", "Drift only", show=False, id="main.drift_only"),
        Binding("R", "review", "Review", id="main.review"),
        Binding("o", "cycle_sort", "Sort", show=False, id="main.sort"),
        Binding("O", "reverse_sort", "Reverse sort", show=False, id="main.reverse_sort"),
        Binding("u", "upgrade", "Upgrade", id="main.upgrade"),
        Binding("m", "modify", "Modify", id="main.modify"),
        Binding("h", "halt", "Halt", id="main.halt"),
        Binding("r", "reactivate", "Reactivate", show=False, id="main.reactivate"),
        Binding("z", "undo_halt", "Undo halt", show=False, id="main.undo_halt"),
        Binding("enter", "detail", "Detail", id="main.detail"),
        Binding("b", "bills", "Bills", id="main.bills"),
        Binding("l", "audit", "Audit", id="main.audit"),
        Binding("A", "accounts", "Accounts", id="main.accounts"),
        Binding("exclamation_mark", "signals", "Signals", id="main.signals"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.model = FleetModel()
        self.counter = -1
        self.last_event = 0
        self.day: str | None = None
        self.last_halted: list[int] = []
        self._cost_parts: dict = {}
        self.anchor: int | None = None
        self.unreachable_since: datetime | None = None
        """When the platform stopped answering the drift look (None while it answers)."""
        self.signal_counts: tuple[int, int] | None = None
        """How many signals there are now, critical ones and all (None: not counted yet)."""
        self.signal_report: SignalReport | None = None
        """The signals last counted, for the Signals screen while nothing changed since."""
        self._signals_seen: tuple[int, str | None] | None = None
        """The change counter and day the signals were last counted at."""
        self._counting = False
        self._count_again = False
        self._heap_frozen = False

    def compose(self) -> ComposeResult:
        with Vertical(id="fleet"):
            yield Static("loading the fleet…", id="summary", markup=False)
            yield Static("", id="progress")
            yield Input(placeholder="filter by ID, name or account; enter keeps it, escape clears it", id="filter")
            yield AppTable(self.model, id="apps")
        yield CostPanel(id="cost-panel")
        yield Footer()

    @property
    def apps_table(self) -> AppTable:
        """The fleet table."""
        return self.query_one(AppTable)

    def on_resize(self, event) -> None:
        self.set_class(event.size.width < WIDE, "narrow")
        self.call_after_refresh(self.show_summary)  # its wording fits the new width

    def on_mount(self) -> None:
        self.set_class(self.app.size.width < WIDE, "narrow")
        self.query_one("#filter").display = False
        self.query_one("#progress").display = False
        self.apps_table.focus()
        self.apps_table.plain = self.app.no_color
        early = self.app.services.fleet.take_preloaded()
        if early is None:
            self.reload()
        else:  # read just before the UI loaded: the first frame shows the rows
            self._show_rows(early, self.model.set_rows)
            self.call_after_refresh(self.load_costs)
        self.set_interval(self.app.settings.refresh_seconds, self.poll)
        self.set_interval(1.0, self.tick)
        self.set_interval(DRIFT_SECONDS, self.load_drift)
        self.call_after_refresh(self.load_drift)

    def show_summary(self) -> None:
        m = self.model
        hidden = m.hidden_marked()
        marked = f"{len(m.marked)} marked"
        parts: list[str | tuple[str, str | None]] = [
            f"{len(m.rows)} apps",
            fmt.signal_count(*self.signal_counts) if self.signal_counts is not None else fmt.SIGNALS_COUNTING,
            f"{len(m.view)} shown",
            (f"{marked} ({hidden} hidden by filter)", f"{marked} ({hidden} hidden)") if hidden else marked,
        ]
        if m.text:
            parts.append(f"filter “{m.text}”")
        if m.account is not None:
            parts.append(f"account {m.account} [esc]")
        for word, value, key in (("status", m.status, "s"), ("edition", m.edition, "e"), ("usage", m.usage, "f")):
            parts.append((f"{word} {value or 'any'} [{key}]", f"{word} {value} [{key}]" if value else None))
        parts.append(f"sort {m.sort_key}{' ▼' if m.sort_reverse else ' ▲'} [o]")
        if m.marked_only:
            parts.append("marked only [*]")
        if self.unreachable_since is not None:  # the drift is not known now: say why, not nothing
            since = fmt.local_time(self.unreachable_since, self.app.services.tz, "HH:mm")
            parts.append((f"platform unreachable since {since} [D]", f"platform unreachable since {since}"))
        elif m.drifted is not None:
            parts.append(f"{len(m.drifted)} drifted{' (only these shown)' if m.drift_only else ''} [D]")
        if self.app.settings.read_only:
            parts.append("READ-ONLY")
        summary = self.query_one("#summary", Static)
        summary.update(fit_summary(parts, summary.size.width or self.app.size.width - 2))

    def show_progress(self, text: str) -> None:
        bar = self.query_one("#progress", Static)
        bar.update(text)
        bar.display = bool(text)

    def _reapply(self) -> None:
        table = self.apps_table
        keep = table.cursor_app
        self.model.apply()
        table.refresh_rows(keep_app=keep)
        self.show_summary()

    # --- what the table and its filter box tell ----------------------------------------------------
    # (here, not in the mixins: Textual collects `@on` handlers from the screen's own class body)

    @on(Input.Changed, "#filter")
    def filter_changed(self, event: Input.Changed) -> None:
        self.model.text = event.value
        table = self.apps_table
        self.model.apply()
        table.refresh_rows()
        table.cursor = 0
        self.show_summary()

    @on(Input.Submitted, "#filter")
    def filter_done(self) -> None:
        self.apps_table.focus()
        if not self.query_one("#filter", Input).value:
            self.query_one("#filter").display = False

    @on(AppTable.SortRequested)
    def sort_requested(self, event: AppTable.SortRequested) -> None:
        if self.model.sort_key == event.key:
            self.model.sort_reverse = not self.model.sort_reverse
        else:
            self.model.sort_key, self.model.sort_reverse = event.key, False
        self._reapply()

    @on(AppTable.CursorMoved)
    def cursor_moved(self) -> None:
        self.refresh_costs("cursor")

    # --- actions on apps ----------------------------------------------------------------------------

    def targets(self) -> list[FleetRow]:
        """The marked apps, or else the app under the cursor."""
        if self.model.marked:
            return self.model.marked_rows()
        row = self.model.row(self.apps_table.cursor)
        return [row] if row else []

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in CHANGING_ACTIONS and not self.app.may(CHANGING_ACTIONS[action]):
            return None
        if action == "undo_halt" and not self.last_halted:
            return None
        return True

    def action_review(self) -> None:
        """Right-sizing suggestions of the marked apps, or else of the apps the filter shows."""
        from imtui.ui.screens.review import ReviewScreen

        rows = self.model.marked_rows() or [self.model.rows[i] for i in self.model.view]
        if rows:
            self.app.push_screen(ReviewScreen([r.app_id for r in rows]), self._review_accepted)

    def _review_accepted(self, accepted) -> None:
        """Each accepted request opens the modify form filled in, one after the other."""
        if not accepted:
            return
        (request, app_ids), *rest = accepted
        targets = [row for a in app_ids if (row := self.model.row_of(a)) is not None]

        def next_form(_=None) -> None:
            self._review_accepted(rest)

        self.open_change_form("modify", targets, request, then=next_form if rest else None)

    def action_upgrade(self) -> None:
        self.open_change_form("upgrade", self.targets())

    def action_modify(self) -> None:
        self.open_change_form("modify", self.targets())

    def action_halt(self) -> None:
        self.start_halt(self.targets(), hidden_marked=self.model.hidden_marked())

    def action_reactivate(self) -> None:
        self.reactivate([r.app_id for r in self.targets()])

    def action_undo_halt(self) -> None:
        if self.last_halted:
            self.reactivate(self.last_halted)
            self.last_halted = []

    def action_detail(self) -> None:
        from imtui.ui.screens.detail import DetailScreen

        app_id = self.apps_table.cursor_app
        if app_id is not None:
            self.app.push_screen(DetailScreen(app_id), self._detail_closed)

    def _detail_closed(self, request: tuple[str, int] | None) -> None:
        """The detail screen hands its halt and reactivate keys back here."""
        if request is None:
            return
        action, app_id = request
        row = self.model.row_of(app_id)
        if row is None:
            return
        if action == "halt":
            self.start_halt([row])
        else:
            self.reactivate([app_id])

    def action_bills(self) -> None:
        self.app.open_bills()

    def action_audit(self) -> None:
        self.app.open_audit()

    # --- accounts and signals: each ends in what to show or do here ---------------------------------

    def action_accounts(self) -> None:
        from imtui.ui.screens.accounts import AccountsScreen

        def shown(account: str | None) -> None:
            if account is not None:
                self.show_account(account or None)

        self.app.push_screen(AccountsScreen(), shown)

    def action_signals(self) -> None:
        from imtui.ui.screens.signals import SignalsScreen

        self.app.push_screen(SignalsScreen(), self.follow_signal)

    def follow_signal(self, request: tuple[str, object] | None) -> None:
        """Goes where a signal points, or opens its remedy (the usual forms and checks apply)."""
        if request is None:
            return
        what, subject = request
        if what == "app" and isinstance(subject, int) and not self.focus_app(subject):
            self.app.notify(f"app {subject} is not in the fleet any more", severity="warning")
        elif what == "account":
            self.show_account(subject if isinstance(subject, str) else None)
        elif what == "reactivate" and isinstance(subject, int):
            self.focus_app(subject)
            self.confirm_reactivate([subject])
        elif what == "modify" and isinstance(subject, int):
            self.focus_app(subject)
            self.raise_limit(subject)
        elif what == "review":
            self.review_savings(subject if isinstance(subject, str) else None)

    @work(group="operations")
    async def raise_limit(self, app_id: int) -> None:
        """The modify form of an app at a limit, filled with its raise suggestions."""
        from imtui.ui.screens.review import request_of

        row = self.model.row_of(app_id)
        if row is None or self.app.refuse_unless_allowed("modify"):
            return
        try:
            reviews = await self.app.services.review.review(app_ids=[app_id])
        except ImtuiError as exc:
            self.app.notify(exc.message, severity="error", title="Could not review")
            return
        raises = [s for r in reviews for s in r.review.suggestions if s.monthly_delta > 0]
        if not raises:
            self.app.notify(f"app {app_id} has no raise to suggest now (see its detail)", title="Modify")
            return
        self.open_change_form("modify", [row], request_of(raises))

    def review_savings(self, account: str | None) -> None:
        """The review of an account's (None: the fleet's) lowering suggestions."""
        from imtui.ui.screens.review import ReviewScreen

        ids = [r.app_id for r in self.model.rows if r.status == "active" and (account is None or r.account == account)]
        if ids:
            self.app.push_screen(ReviewScreen(ids, lowering_only=True), self._review_accepted)

    def focus_app(self, app_id: int) -> bool:
        """Puts the cursor on an app, clearing filters that hide it."""
        table = self.apps_table
        if self.model.find(app_id) is None:
            self.model.text, self.model.status, self.model.edition = "", None, None
            self.model.marked_only, self.model.account = False, None
            self.query_one("#filter", Input).value = ""
            self._reapply()
        found = self.model.find(app_id)
        if found is None:
            return False
        table.cursor = found
        table.focus()
        return True
